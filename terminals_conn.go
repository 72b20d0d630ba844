package nbserv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// A terminal connection lives here, in the root package, rather than in a
// package of its own as the kernel's does: it needs one WebSocket and no
// REST call of its own but Terminals.Get (to tell an unknown terminal from
// a server without terminals), and terminado's protocol is five JSON
// arrays, so an Endpoint between it and the client would be more code than
// the connection. docs/wire/terminals.md TM1-TM9 record the protocol.

// The errors of a terminal connection, for errors.Is.
var (
	// ErrTerminalClosed matches every call on a TerminalConn that has
	// ended, whatever ended it; and what Next and ReadUntil return, once
	// the output is read, after Close or when the connection was lost.
	ErrTerminalClosed = errors.New("nbserv: terminal connection closed")
)

// maxTerminalSize is the largest rows or cols Resize sends: terminado
// takes 10001 for "no size" and ignores sizes from it up.
const maxTerminalSize = 10000

// TerminalConn is a connection to a terminal's WebSocket
// (/terminals/websocket/{name}): what is written goes to the shell's
// input, what the shell prints is read with Next or ReadUntil. Open one
// with Client.Terminals.Connect; it mirrors JupyterLab's
// TerminalConnection. Its methods are safe for concurrent use.
//
// Output arrives whether or not it is read, and waits in the connection:
// at most Config.MaxResponseBytes of it (64 MiB by default). A reader too
// slow to stay within that loses nothing silently: the connection is
// closed, Next returns the output received until then, and then an error
// matching ErrResponseTooLarge. The server sends each message of output
// whole; one larger than MaxResponseBytes ends the connection the same
// way. Reading keeps the connection alive: the server's pings are
// answered while output waits.
//
// Close it when done: a goroutine reads it until then, or until the
// server closes it.
//
// The connection is not restored when it drops: connect again.
// Terminado sends every new connection the terminal's recent output (its
// last 1000 reads of the terminal), so a new connection to a terminal
// that ran before starts with what it printed.
type TerminalConn struct {
	name string
	ws   *websocket.Conn
	max  int

	mu     sync.Mutex
	buf    []byte        // output not yet read
	taken  uint64        // how many reads took output from buf's start
	end    error         // why the connection ended, given once buf is read
	change chan struct{} // closed and replaced when buf or end changes
	setup  bool          // the server's "setup" came
	closed bool          // Close was called: output is dropped

	done chan struct{} // the reader has stopped
}

// Connect opens a connection to the terminal name's WebSocket and returns
// once the server has attached it to the terminal (terminado's "setup"
// message), within ctx and Config.Timeout. An unknown terminal fails
// with an error matching ErrNotFound, a server without terminals with a
// *NotSupportedError. The token goes in the Authorization header, never in
// the URL, and only to the base URL's origin.
//
// Closing the connection leaves the terminal running; Delete ends it.
func (t *TerminalsService) Connect(ctx context.Context, name string) (*TerminalConn, error) {
	if err := validWord("name", name); err != nil {
		return nil, err
	}
	tr := t.c.t
	hctx, cancel := ctx, context.CancelFunc(func() {})
	if d := tr.Timeout(); d != transport.NoTimeout {
		hctx, cancel = context.WithTimeout(ctx, d)
	}
	defer cancel()
	ws, err := tr.DialWebSocket(hctx, "terminals/websocket/"+name, nil, nil)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.StatusCode == 404 {
			// Jupyter answers its HTML 404 both for a terminal it does not
			// know and when it has no terminals; the REST API tells which.
			if _, gerr := t.Get(hctx, name); gerr != nil {
				return nil, gerr
			}
		}
		return nil, err
	}
	ws.SetReadLimit(-1) // readOne bounds each message itself, to say so
	tc := &TerminalConn{name: name, ws: ws, max: int(tr.MaxBody()), change: make(chan struct{}), done: make(chan struct{})}
	go tc.read()
	if err := tc.waitSetup(hctx); err != nil {
		tc.Close()
		return nil, err
	}
	return tc, nil
}

// Name returns the name of the terminal.
func (tc *TerminalConn) Name() string { return tc.name }

// waitSetup waits for the server's "setup" message, or the connection's
// end, or ctx's.
func (tc *TerminalConn) waitSetup(ctx context.Context) error {
	for {
		tc.mu.Lock()
		setup, end, change := tc.setup, tc.end, tc.change
		tc.mu.Unlock()
		if setup {
			return nil
		}
		if err := tc.await(ctx, end, change, "the server to set up the connection"); err != nil {
			return err
		}
	}
}

// Write sends data to the terminal's input, as typed: a command runs
// when a carriage return ("\r") follows it. data must be UTF-8, as the
// protocol's JSON strings are. A write that ctx ends while it is sent
// closes the connection, since the server may have received part of it.
func (tc *TerminalConn) Write(ctx context.Context, data string) error {
	if !utf8.ValidString(data) {
		return &ValidationError{Field: "data", Problem: "not valid UTF-8"}
	}
	return tc.send(ctx, []any{"stdin", data})
}

// Resize sets the terminal's size as this connection sees it. Terminado
// sizes a terminal to the smallest rows and columns among the
// connections that set one. rows and cols are from 1 to 10000.
func (tc *TerminalConn) Resize(ctx context.Context, rows, cols int) error {
	for _, v := range []struct {
		field string
		n     int
	}{{"rows", rows}, {"cols", cols}} {
		if v.n < 1 || v.n > maxTerminalSize {
			return &ValidationError{Field: v.field, Problem: fmt.Sprintf("%d is not from 1 to %d", v.n, maxTerminalSize)}
		}
	}
	return tc.send(ctx, []any{"set_size", rows, cols})
}

// send writes one message, or fails as the ended connection does.
func (tc *TerminalConn) send(ctx context.Context, msg []any) error {
	if err := tc.ended(); err != nil {
		return err
	}
	frame, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("nbserv: terminal %s: %w", tc.name, err)
	}
	if err := tc.ws.Write(ctx, websocket.MessageText, frame); err != nil {
		if end := tc.ended(); end != nil {
			return end
		}
		return tc.closedError("writing", transport.OutcomeUnknown(err))
	}
	return nil
}

// ended returns the error of a call on an ended connection, or nil.
func (tc *TerminalConn) ended() error {
	tc.mu.Lock()
	end := tc.end
	tc.mu.Unlock()
	switch {
	case end == nil:
		return nil
	case errors.Is(end, ErrTerminalClosed):
		return end
	case end == io.EOF:
		return tc.closedError("the shell exited", nil)
	}
	return tc.closedError("the connection ended", end)
}

// Next returns the output received and not yet read, waiting for some
// when there is none, until ctx ends. Once the connection has ended and
// its output is read, it returns io.EOF when the shell exited or the
// terminal was deleted (terminado's "disconnect"); an error matching
// ErrResponseTooLarge when output was not read in time; and one matching
// ErrTerminalClosed after Close or when the connection was lost.
func (tc *TerminalConn) Next(ctx context.Context) (string, error) {
	for {
		tc.mu.Lock()
		if len(tc.buf) > 0 {
			out := string(tc.buf)
			tc.buf = nil
			tc.taken++
			tc.mu.Unlock()
			return out, nil
		}
		end, change := tc.end, tc.change
		tc.mu.Unlock()
		if err := tc.await(ctx, end, change, "output"); err != nil {
			return "", err
		}
	}
}

// await waits for change, unless end (the connection's end, read with
// change) is set, or until ctx ends; what names what is awaited.
func (tc *TerminalConn) await(ctx context.Context, end error, change <-chan struct{}, what string) error {
	if end != nil {
		return end
	}
	select {
	case <-change:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("nbserv: terminal %s: waiting for %s: %w", tc.name, what, ctx.Err())
	}
}

// ReadUntil waits until the output not yet read contains marker, and
// returns it up to the end of the marker's first occurrence; the output
// after it stays for the next read. When ctx or the connection ends
// first, it returns the error as Next would and reads nothing: the output
// stays for Next. Output waiting for a marker counts against the bound
// (Config.MaxResponseBytes): a marker that never comes ends the
// connection with ErrResponseTooLarge, rather than wait in unbounded
// memory.
func (tc *TerminalConn) ReadUntil(ctx context.Context, marker string) (string, error) {
	if marker == "" {
		return "", &ValidationError{Field: "marker", Problem: "empty"}
	}
	// from is how much of the output was searched: all of it is new again
	// once another read took some (a concurrent Next or ReadUntil).
	from, taken := 0, uint64(0)
	for {
		tc.mu.Lock()
		if tc.taken != taken {
			from, taken = 0, tc.taken
		}
		if i := bytes.Index(tc.buf[from:], []byte(marker)); i >= 0 {
			n := from + i + len(marker)
			out := string(tc.buf[:n])
			tc.buf = tc.buf[n:]
			tc.taken++
			tc.mu.Unlock()
			return out, nil
		}
		from = max(0, len(tc.buf)-len(marker)+1)
		end, change := tc.end, tc.change
		tc.mu.Unlock()
		if err := tc.await(ctx, end, change, strconv.Quote(marker)); err != nil {
			return "", err
		}
	}
}

// Close closes the connection, leaving the terminal running, and waits
// for the server's close frame at most about 5 s (the WebSocket library's
// bound) and for the connection's reader. Output not read is dropped;
// later calls fail with ErrTerminalClosed.
func (tc *TerminalConn) Close() error {
	ours := tc.finish(tc.closedError("closed", nil))
	tc.mu.Lock()
	tc.buf = nil
	tc.taken++
	tc.closed = true // output still on its way is dropped too
	tc.mu.Unlock()
	if !ours {
		// The connection had ended (the server closed it, or an
		// overflow): only its resources are left to release.
		tc.ws.CloseNow()
		<-tc.done
		return nil
	}
	err := tc.ws.Close(websocket.StatusNormalClosure, "")
	<-tc.done
	var ce websocket.CloseError
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.As(err, &ce) {
		return fmt.Errorf("nbserv: terminal %s: closing: %w", tc.name, err)
	}
	return nil
}

// finish records why the connection ended, the first cause only, and
// reports whether err was it.
func (tc *TerminalConn) finish(err error) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.end != nil {
		return false
	}
	tc.end = err
	tc.notifyLocked()
	return true
}

func (tc *TerminalConn) notifyLocked() {
	close(tc.change)
	tc.change = make(chan struct{})
}

// read reads the server's messages until the connection ends.
func (tc *TerminalConn) read() {
	defer close(tc.done)
	for {
		end := tc.readOne()
		if end == nil {
			continue
		}
		tc.finish(end)
		if errors.Is(end, ErrResponseTooLarge) {
			// Output is being lost: stop it at once.
			tc.ws.CloseNow()
			return
		}
		if end != io.EOF {
			return
		}
		// After "disconnect" the server closes the socket; reading on
		// answers its close frame.
	}
}

// readOne reads and handles one message; a non-nil error ends the
// connection.
func (tc *TerminalConn) readOne() error {
	typ, r, err := tc.ws.Reader(context.Background())
	if err != nil {
		return tc.closedError("connection lost", err)
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(tc.max)+1))
	switch {
	case err != nil:
		return tc.closedError("connection lost", err)
	case len(data) > tc.max:
		return fmt.Errorf("nbserv: terminal %s: a message passed %d bytes; the connection is closed, later output lost: %w", tc.name, tc.max, ErrResponseTooLarge)
	case typ != websocket.MessageText:
		return tc.closedError("the server sent a binary message", nil)
	}
	var msg []json.RawMessage
	var kind string
	if json.Unmarshal(data, &msg) != nil || len(msg) == 0 || json.Unmarshal(msg[0], &kind) != nil {
		return tc.closedError(fmt.Sprintf("the server sent a message that is not terminado's: %.80q", data), nil)
	}
	switch kind {
	case "stdout":
		var text string
		if len(msg) < 2 || json.Unmarshal(msg[1], &text) != nil {
			return tc.closedError(fmt.Sprintf("a stdout message without text: %.80q", data), nil)
		}
		return tc.output(text)
	case "setup":
		tc.mu.Lock()
		tc.setup = true
		tc.notifyLocked()
		tc.mu.Unlock()
	case "disconnect":
		return io.EOF
	}
	// Other kinds are ignored, as JupyterLab's client passes them on
	// without acting.
	return nil
}

// terminalClosedError ends a connection for a reason of its own; it
// matches ErrTerminalClosed.
type terminalClosedError struct {
	name, why string
	err       error // the cause, if any
}

func (e *terminalClosedError) Error() string {
	msg := "nbserv: terminal " + e.name + ": " + e.why
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *terminalClosedError) Is(target error) bool { return target == ErrTerminalClosed }

func (e *terminalClosedError) Unwrap() error { return e.err }

func (tc *TerminalConn) closedError(why string, err error) error {
	return &terminalClosedError{name: tc.name, why: why, err: err}
}

// output adds text to the output not yet read, within the bound.
func (tc *TerminalConn) output(text string) error {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.closed {
		return nil
	}
	if len(tc.buf)+len(text) > tc.max {
		return fmt.Errorf("nbserv: terminal %s: output not read passed %d bytes; the connection is closed, later output lost: %w", tc.name, tc.max, ErrResponseTooLarge)
	}
	tc.buf = append(tc.buf, text...)
	tc.notifyLocked()
	return nil
}
