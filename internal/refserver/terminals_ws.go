package refserver

// The terminal WebSocket, /terminals/websocket/{name}, speaking terminado's
// protocol (docs/wire/terminals.md TM1-TM9): JSON arrays ["setup", {}],
// ["stdout", text] and ["disconnect", 1] from the server, ["stdin", text]
// and ["set_size", rows, cols] from clients. No pty and no shell run: a
// scripted echo terminal echoes its input, as a terminal in cooked mode
// does, and runs a few commands on each line (termCommand).

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const (
	// termPrompt is the scripted shell's prompt.
	termPrompt = "$ "
	// termReplayChunks is terminado's read_buffer: the last 1000 reads of
	// the pty, replayed to every socket that opens.
	termReplayChunks = 1000
	// termReplayBytes bounds the replay in bytes as well, which terminado
	// does not: echoed input is as large as a client sends.
	termReplayBytes = 1 << 20
	// termMaxLine bounds a line of input waiting for its newline; the rest
	// of a longer line is echoed but not kept.
	termMaxLine = 64 << 10
	// termReadBytes is how much output a stdout message gathers: lines
	// are sent once that much waits (a pty's read takes what it holds).
	termReadBytes = 1024
	// termRows and termCols are a pty's size until a client sets one.
	termRows, termCols = 24, 80
)

// termShell is a terminal's scripted shell and its sockets, guarded by
// Server.mu.
type termShell struct {
	line       []byte   // input since the last newline
	replay     []string // output, for sockets that open later
	replayLen  int      // bytes in replay
	socks      []*termSock
	rows, cols int  // the size set by the last resize (termRows, termCols before)
	ended      bool // the shell exited, or the terminal was deleted
}

// termSock is one WebSocket on a terminal.
type termSock struct {
	ws         *websocket.Conn
	t          *terminal
	rows, cols int // the client's set_size; 0 until it sends one

	// Outbound queue, guarded by Server.mu.
	out      [][]byte
	outBytes int
	wake     chan struct{}
	closing  bool
	abort    bool // close without a close frame

	// cancel ends the socket's reads and writes, a write blocked on a
	// client that reads nothing included.
	cancel context.CancelFunc
}

// termSockets is the Server's terminal WebSockets, for Close.
type termSockets struct {
	open map[*termSock]bool // guarded by Server.mu
	wg   sync.WaitGroup
}

// terminalSocketName reports whether rel is terminals/websocket/{name}.
func terminalSocketName(rel string) (string, bool) {
	name, ok := strings.CutPrefix(rel, "terminals/websocket/")
	return name, ok && wordRoute.MatchString(name)
}

// serveTerminalSocket is the terminal WebSocket. Jupyter checks the
// method and the token as for the kernel channels, then that the terminal
// exists (the HTML 404, docs/wire/terminals.md TM6), then the handshake.
func (s *Server) serveTerminalSocket(w http.ResponseWriter, r *http.Request, name string) {
	if !s.socketAllowed(w, r) {
		return
	}
	s.mu.Lock()
	t := s.terminalNamed(name)
	s.mu.Unlock()
	if t == nil {
		s.notFoundPage(w, r)
		return
	}
	if !upgradeAllowed(w, r, s.token != nil) {
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(-1) // readMessage applies MaxClientMessage, to close as Tornado does
	ctx, cancel := context.WithCancel(context.Background())
	c := &termSock{ws: ws, wake: make(chan struct{}, 1), cancel: cancel}

	s.mu.Lock()
	if s.ch.closed || s.terminalNamed(name) != t {
		s.mu.Unlock()
		cancel()
		_ = ws.CloseNow()
		return
	}
	if s.tsocks.open == nil {
		s.tsocks.open = map[*termSock]bool{}
	}
	s.tsocks.open[c] = true
	s.tsocks.wg.Add(1)
	c.t = t
	sh := t.shell()
	sh.socks = append(sh.socks, c)
	s.termActivity(t) // the messages below are written, which is activity
	s.termSend(c, []any{"setup", map[string]any{}})
	if len(sh.replay) > 0 { // terminado sends the whole read_buffer as one message
		s.termSend(c, []any{"stdout", strings.Join(sh.replay, "")})
	}
	s.mu.Unlock()
	s.serveTermSock(ctx, c)
}

// shell returns t's scripted shell, starting it (its first prompt) on
// first use; the caller holds s.mu.
func (t *terminal) shell() *termShell {
	if t.sh == nil {
		t.sh = &termShell{rows: termRows, cols: termCols}
		t.sh.output(termPrompt)
	}
	return t.sh
}

// serveTermSock runs a socket until it closes, then detaches it, as
// terminado's on_close (the terminal keeps running).
func (s *Server) serveTermSock(ctx context.Context, c *termSock) {
	defer s.tsocks.wg.Done()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.termWriteLoop(ctx, c) }()
	go func() { defer wg.Done(); s.pingLoop(ctx, c.ws) }()
	s.termReadLoop(ctx, c)
	c.cancel()
	_ = c.ws.CloseNow()
	wg.Wait()

	s.mu.Lock()
	defer s.mu.Unlock()
	c.closing, c.out = true, nil
	delete(s.tsocks.open, c)
	if sh := c.t.sh; sh != nil {
		for i, o := range sh.socks {
			if o == c {
				sh.socks = append(sh.socks[:i], sh.socks[i+1:]...)
				break
			}
		}
		sh.resize()
	}
}

// termReadLoop handles the client's messages. A message that is not a
// JSON array starting with a known type, or whose arguments have the wrong
// type, fails in terminado's on_message: 1.23.3 logs it and reads on,
// 2.21.1 drops the connection (docs/wire/terminals.md TM5).
func (s *Server) termReadLoop(ctx context.Context, c *termSock) {
	for {
		_, data, ok := readClientMessage(ctx, c.ws)
		if !ok {
			return
		}
		if !s.termMessage(c, data) && s.isGen2() {
			return
		}
	}
}

// termMessage acts on one client message, and reports whether it was one
// terminado handles without an exception.
func (s *Server) termMessage(c *termSock, data []byte) bool {
	var msg []json.RawMessage
	if json.Unmarshal(data, &msg) != nil || len(msg) == 0 {
		return false
	}
	var typ string
	if json.Unmarshal(msg[0], &typ) != nil {
		return true // an unknown type: ignored
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := c.t
	s.termActivity(t) // Jupyter's _update_activity, on every message
	switch typ {
	case "stdin":
		var text string
		if len(msg) < 2 || json.Unmarshal(msg[1], &text) != nil {
			return false
		}
		if !t.shell().ended { // an ended terminal's pty is gone
			s.termInput(t, text)
		}
	case "set_size":
		// terminado keeps command[1:3] and compares them with the other
		// clients'; sizes that are not numbers fail there.
		var rows, cols float64
		if len(msg) < 3 || json.Unmarshal(msg[1], &rows) != nil || json.Unmarshal(msg[2], &cols) != nil {
			return false
		}
		c.rows, c.cols = int(rows), int(cols)
		t.shell().resize()
	}
	return true
}

// resize sets the terminal to the smallest size its sockets asked for,
// as terminado's resize_to_smallest; sockets that set none do not count.
func (sh *termShell) resize() {
	rows, cols := 0, 0
	for _, c := range sh.socks {
		if c.rows > 0 && (rows == 0 || c.rows < rows) {
			rows = c.rows
		}
		if c.cols > 0 && (cols == 0 || c.cols < cols) {
			cols = c.cols
		}
	}
	if rows > 0 && cols > 0 {
		sh.rows, sh.cols = rows, cols
	}
}

// termInput is a pty in cooked mode with the scripted shell behind it:
// the input is echoed (a carriage return as "\r\n"), and each complete
// line runs. The output of one message goes out in stdout messages of
// whole lines, each at least termReadBytes but the last, as a pty's reads
// gather what is written between them:
// a message of millions of line ends made a message for each (under s.mu,
// seconds of the whole server's time, and more queued than MaxQueued on
// every socket). The caller holds s.mu.
func (s *Server) termInput(t *terminal, text string) {
	sh := t.shell()
	var out strings.Builder
	defer func() { s.termOutput(t, out.String()) }()
	for _, r := range text {
		switch r {
		case '\r', '\n':
			out.WriteString("\r\n")
			line := string(sh.line)
			sh.line = sh.line[:0]
			res, exit := termCommand(line, sh.rows, sh.cols)
			out.WriteString(res)
			if exit {
				s.termOutput(t, out.String())
				out.Reset()
				s.endTerminal(t)
				return
			}
			out.WriteString(termPrompt)
			if out.Len() >= termReadBytes {
				s.termOutput(t, out.String())
				out.Reset()
			}
		default:
			out.WriteRune(r)
			if len(sh.line) < termMaxLine {
				sh.line = append(sh.line, string(r)...)
			}
		}
	}
}

// termCommand runs one line of the scripted shell: `echo WORDS` prints
// its words, `stty size` the terminal's size, `exit` ends the shell
// (with bash -l's "logout"); an empty line prints nothing, and anything
// else is not found.
func termCommand(line string, rows, cols int) (out string, exit bool) {
	words := shellWords(line)
	if len(words) == 0 {
		return "", false
	}
	switch {
	case words[0] == "echo":
		return strings.Join(words[1:], " ") + "\r\n", false
	case words[0] == "stty" && len(words) == 2 && words[1] == "size":
		return strconv.Itoa(rows) + " " + strconv.Itoa(cols) + "\r\n", false
	case words[0] == "exit":
		return "logout\r\n", true
	}
	return "bash: " + words[0] + ": command not found\r\n", false
}

// shellWords splits a line at blanks, removing single and double quotes
// as a shell does (no expansions).
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// termOutput is output of the terminal's pty: kept for replay, sent to
// every socket. The caller holds s.mu.
func (s *Server) termOutput(t *terminal, text string) {
	if text == "" {
		return
	}
	sh := t.shell()
	sh.output(text)
	s.termActivity(t)
	for _, c := range sh.socks {
		s.termSend(c, []any{"stdout", text})
	}
}

// termActivity is Jupyter's _update_activity: a message in either
// direction moves the terminal's last_activity and the server's
// (docs/wire/terminals.md TM9). The caller holds s.mu.
func (s *Server) termActivity(t *terminal) {
	now := time.Now().UTC()
	t.lastActivity, s.termAct = now, now
}

// output keeps text for replay, within termReplayChunks and
// termReplayBytes.
func (sh *termShell) output(text string) {
	sh.replay = append(sh.replay, text)
	sh.replayLen += len(text)
	for len(sh.replay) > termReplayChunks || sh.replayLen > termReplayBytes && len(sh.replay) > 1 {
		sh.replayLen -= len(sh.replay[0])
		sh.replay = sh.replay[1:]
	}
}

// endTerminal is the shell's exit, or its pty's end when the terminal is
// deleted: every socket gets ["disconnect", 1] and is closed with a close
// frame without a status (Tornado's close()), and the terminal leaves the
// list. The caller holds s.mu.
func (s *Server) endTerminal(t *terminal) {
	s.terms = slices.DeleteFunc(s.terms, func(o *terminal) bool { return o == t })
	sh := t.shell()
	sh.ended = true
	for _, c := range sh.socks {
		s.termSend(c, []any{"disconnect", 1})
		c.closing = true
		c.wakeUp()
	}
}

// termSend queues a message for a socket. A client that lets more than
// MaxQueued wait is dropped, as a kernel connection is. The caller holds
// s.mu.
func (s *Server) termSend(c *termSock, msg []any) {
	if c.closing {
		return
	}
	frame, _ := json.Marshal(msg) // strings, numbers and maps: cannot fail
	c.out = append(c.out, frame)
	c.outBytes += len(frame)
	limit := s.ch.maxQueued
	if limit == 0 {
		limit = MaxQueued
	}
	if c.outBytes > limit {
		c.closing, c.abort, c.out = true, true, nil
		c.cancel() // the writer may be blocked on this very client
	}
	c.wakeUp()
}

func (c *termSock) wakeUp() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// awaitQueue waits until ready, called with s.mu held, reports true, and
// returns true with s.mu held; or returns false, without it, once ctx
// ends. wake signals a change to what ready reads. A socket's writer
// waits for its queue with it.
func (s *Server) awaitQueue(ctx context.Context, wake <-chan struct{}, ready func() bool) bool {
	s.mu.Lock()
	for !ready() {
		s.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
		s.mu.Lock()
	}
	return true
}

func (s *Server) termWriteLoop(ctx context.Context, c *termSock) {
	for {
		if !s.awaitQueue(ctx, c.wake, func() bool { return len(c.out) > 0 || c.closing }) {
			return
		}
		batch := c.out
		c.out, c.outBytes = nil, 0
		closing, abort := c.closing, c.abort
		s.mu.Unlock()
		if abort {
			_ = c.ws.CloseNow()
			return
		}
		for _, frame := range batch {
			if c.ws.Write(ctx, websocket.MessageText, frame) != nil {
				_ = c.ws.CloseNow()
				return
			}
		}
		if closing {
			_ = c.ws.Close(websocket.StatusNoStatusRcvd, "")
			return
		}
	}
}

// closeTerminalSockets drops every terminal socket, for Close, and waits
// for their handlers.
func (s *Server) closeTerminalSockets() {
	s.mu.Lock()
	var socks []*termSock
	for c := range s.tsocks.open {
		c.closing, c.abort = true, true
		socks = append(socks, c)
	}
	s.mu.Unlock()
	for _, c := range socks {
		_ = c.ws.CloseNow()
	}
	s.tsocks.wg.Wait()
}
