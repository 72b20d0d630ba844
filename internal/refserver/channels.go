package refserver

// GET /api/kernels/{id}/channels: a kernel's WebSocket, as Jupyter Server
// 1.23.3's ZMQChannelsHandler serves it (docs/wire/kernel-channels.md KC9, KC10).
//
// Each connection has the handler goroutine, which reads, and a writer
// goroutine, which drains the connection's queue; both end when the
// connection closes. Server.Close closes every connection and waits for
// them and for the kernels' workers.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

const (
	// wsProtocolV1 is the subprotocol Jupyter Server 1.23 negotiates when
	// a client offers it; without it, the legacy JSON format.
	wsProtocolV1 = "v1.kernel.websocket.jupyter.org"
	// MaxClientMessage bounds a message a client sends: Tornado's default
	// websocket_max_message_size, which Jupyter keeps. A larger one closes
	// the connection with 1009 "message too big", as Tornado does. Reading
	// and decoding one allocates about 3 times its size (measured by
	// TestClientMessageMemoryBound), transient, per connection.
	MaxClientMessage = 10 << 20
	// MaxQueued bounds what waits to be written to one client. Jupyter has
	// no bound; a client that stops reading while its kernel writes more
	// than this is disconnected rather than grow the server without limit.
	MaxQueued = 64 << 20
	// MaxShellQueue bounds the shell requests waiting for one kernel, in
	// bytes of their messages. Jupyter has no bound (its ZMQ stream and
	// ipykernel's message queue grow), and ipykernel refuses nothing: a
	// request that would take a kernel's queue past this is dropped
	// unanswered and the connection it came on closed with 1013 (try
	// again later), as for a client that floods the kernel; what was
	// queued before it still runs (docs/wire/kernel-channels.md KC43).
	MaxShellQueue = 64 << 20
)

// chanServer is the Server's channel side. Its fields are guarded by
// Server.mu, except wg.
type chanServer struct {
	conns  map[*conn]bool // open connections, also of deleted kernels
	wg     sync.WaitGroup // connection handlers and kernel workers
	closed bool           // Close was called
	exact  map[string][]Step
	funcs  []ScriptFunc
	// maxQueued is MaxQueued, lowered by tests.
	maxQueued int
	// maxShell is MaxShellQueue, lowered by tests.
	maxShell int
	// working lists the kernels whose shell worker runs, deleted ones
	// included, for Close.
	working map[*kernelRuntime]bool
}

// pid is the server process's id, in the msg_ids Jupyter Server makes.
func (s *Server) pid() int { return os.Getpid() }

// conn is one WebSocket connection to a kernel's channels.
type conn struct {
	s       *Server
	rt      *kernelRuntime
	ws      *websocket.Conn
	v1      bool
	session string // the session_id query parameter (or a made-up one)
	key     string // kernel id:session id
	route   *route
	n       int // the handler's own Session message counter

	// Outbound queue, guarded by Server.mu.
	out       []*kmsg
	outBytes  int
	wake      chan struct{}
	closing   bool // no more messages: the writer closes the connection
	closeCode websocket.StatusCode
	abort     bool // close without a close frame
	// shellDropped: a shell request was dropped for passing
	// MaxShellQueue; every later one is dropped too.
	shellDropped bool
	done         chan struct{}
}

// enqueue queues m for the client. The caller holds s.mu.
func (c *conn) enqueue(m *kmsg) {
	if c.closing {
		return
	}
	c.out = append(c.out, m)
	c.outBytes += m.size()
	limit := c.s.ch.maxQueued
	if limit == 0 {
		limit = MaxQueued
	}
	if c.outBytes > limit {
		c.closing, c.abort = true, true
		c.out = nil
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// closeWith asks the writer to close the connection with code after what
// is queued (0: drop it without a close frame). The caller holds s.mu.
func (c *conn) closeWith(code websocket.StatusCode) {
	if c.closing {
		return
	}
	c.closing, c.closeCode, c.abort = true, code, code == 0
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// serverHeader is a header from the connection's own jupyter_client
// Session, whose session id is the client's session_id.
func (c *conn) serverHeader(msgType string) []byte {
	id := fmt.Sprintf("%s_%d_%d", c.session, c.s.pid(), c.n)
	c.n++
	return header(id, msgType, c.s.user, c.session, c.s.headerVersion(), time.Now())
}

// serverMsg is a message Jupyter Server itself writes to this connection.
func (c *conn) serverMsg(msgType string, content obj) *kmsg {
	h := c.serverHeader(msgType)
	id := fmt.Sprintf("%s_%d_%d", c.session, c.s.pid(), c.n-1)
	return &kmsg{channel: "iopub", msgType: msgType, msgID: id, header: h, parent: []byte("{}"),
		metadata: []byte("{}"), content: mustJSON(content), fromServer: true}
}

// kernelChannelsPath reports whether rel is api/kernels/{id}/{action}
// with Jupyter's id pattern and one of its actions.
func kernelChannelsPath(rel string) (id, action string, ok bool) {
	rest, ok := strings.CutPrefix(rel, "api/kernels/")
	if !ok {
		return "", "", false
	}
	id, action, ok = strings.Cut(rest, "/")
	if !ok || !idRoute.MatchString(id) {
		return "", "", false
	}
	switch action {
	case "channels", "interrupt", "restart":
		return id, action, true
	}
	return "", "", false
}

// serveChannels is the channels endpoint. Jupyter checks, in order: the
// method, the token, the session (closing a stale connection with the same
// session id), the kernel, its first kernel_info, then the WebSocket
// handshake; its refusals are HTML pages.
func (s *Server) serveChannels(w http.ResponseWriter, r *http.Request, kernelID string) {
	if !s.socketAllowed(w, r) {
		return
	}
	session := r.URL.Query().Get("session_id")
	if session == "" {
		session = sessionID() // jupyter_client's Session default
	}
	key := kernelID + ":" + session

	s.mu.Lock()
	var stale *conn
	for c := range s.ch.conns {
		if c.key == key && !c.closing {
			stale = c
		}
	}
	if stale != nil {
		stale.closeWith(websocket.StatusNoStatusRcvd) // a close frame with no status, as Tornado's close()
	}
	s.mu.Unlock()
	if stale != nil {
		select { // Jupyter waits for the stale connection to close
		case <-stale.done:
		case <-time.After(5 * time.Second):
		}
	}

	s.mu.Lock()
	k := s.kernels[kernelID]
	if k == nil {
		s.mu.Unlock()
		s.notFoundPage(w, r)
		return
	}
	rt := s.runtime(k)
	if !rt.infoDone {
		// Jupyter asks a kernel for its info once, on its first
		// connection; the kernel's status messages take it out of
		// "starting".
		rt.infoDone = true
		parent := header(fmt.Sprintf("%s_%d_%d", session, s.pid(), 0), "kernel_info_request", s.user, session, s.headerVersion(), time.Now())
		s.setStatus(rt, "busy", parent)
		s.setStatus(rt, "idle", parent)
	}
	s.mu.Unlock()

	if !upgradeAllowed(w, r, s.token != nil) {
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{wsProtocolV1}, InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered
	}
	ws.SetReadLimit(-1) // readLoop applies MaxClientMessage itself, to close as Tornado does

	c := &conn{s: s, ws: ws, v1: ws.Subprotocol() == wsProtocolV1, session: session, key: key,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	s.mu.Lock()
	if s.ch.closed || s.kernels[kernelID] != k {
		s.mu.Unlock()
		close(c.done)
		_ = ws.CloseNow()
		return
	}
	c.rt = rt
	s.open(rt, c)
	s.ch.wg.Add(1)
	s.mu.Unlock()
	s.serveConn(c)
}

// open registers a connection, as Jupyter's open(): the kernel counts it,
// messages kept for its session are replayed (and those kept for another
// session dropped), and the kernel is nudged. The caller holds s.mu.
func (s *Server) open(rt *kernelRuntime, c *conn) {
	if s.ch.conns == nil {
		s.ch.conns = map[*conn]bool{}
	}
	s.ch.conns[c] = true
	rt.conns = append(rt.conns, c)
	var replay []*kmsg
	if b := rt.buf; b != nil {
		rt.buf = nil
		if b.key == c.key {
			c.route, replay = b.route, b.msgs
		}
	}
	if c.route == nil {
		c.route = &route{}
	}
	c.route.c = c
	s.nudge(rt, c, replay)
}

// serveConn runs a connection until it closes, then does what Jupyter's
// on_close does.
func (s *Server) serveConn(c *conn) {
	defer s.ch.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop(ctx, c)
	}()
	pingerDone := make(chan struct{})
	go func() {
		defer close(pingerDone)
		s.pingLoop(ctx, c.ws)
	}()
	s.readLoop(ctx, c)
	cancel()
	_ = c.ws.CloseNow()
	<-writerDone
	<-pingerDone

	s.mu.Lock()
	rt := c.rt
	c.closing = true
	c.out = nil
	delete(s.ch.conns, c)
	for i, o := range rt.conns {
		if o == c {
			rt.conns = append(rt.conns[:i], rt.conns[i+1:]...)
			break
		}
	}
	if c.route.c == c {
		c.route.c = nil
	}
	if !rt.gone && !s.ch.closed && len(rt.conns) == 0 {
		// The last connection gone: Jupyter keeps the kernel's messages
		// for this session until a connection opens.
		rt.buf = &offline{key: c.key, route: c.route}
	}
	s.mu.Unlock()
	close(c.done)
}

// pingLoop pings the client every s.wsPing and drops the connection when
// a ping gets no pong within three intervals, as Jupyter's WebSocket
// handlers do: a client that vanished without closing (a suspended laptop,
// a dropped route) would otherwise hold its connection, and a slot of
// -max-conns, for ever, since a hijacked connection escapes every HTTP
// timeout. Pongs are answered by the client's reader, which readLoop's
// Reader call on this side makes possible: coder/websocket delivers the
// pong to Ping there. It ends with ctx (the connection's end).
func (s *Server) pingLoop(ctx context.Context, ws *websocket.Conn) {
	t := time.NewTicker(s.wsPing)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, 3*s.wsPing)
		err := ws.Ping(pctx)
		cancel()
		if err != nil {
			// CloseNow ends readLoop's Reader, and so the connection,
			// as Tornado's close() on a ping timeout does.
			_ = ws.CloseNow()
			return
		}
	}
}

func (s *Server) readLoop(ctx context.Context, c *conn) {
	for {
		typ, data, ok := readClientMessage(ctx, c.ws)
		if !ok {
			return
		}
		m, err := decodeClient(typ == websocket.MessageBinary, data, c.v1)
		if err != nil {
			return // Tornado drops the connection; serveConn closes it
		}
		m.size = len(data)
		s.dispatch(c, m)
	}
}

// readClientMessage reads the client's next message, within
// MaxClientMessage: a larger one closes the connection with 1009 "message
// too big", as Tornado does. ok is false when the connection has ended.
func readClientMessage(ctx context.Context, ws *websocket.Conn) (typ websocket.MessageType, data []byte, ok bool) {
	typ, r, err := ws.Reader(ctx)
	if err != nil {
		return 0, nil, false
	}
	data, tooBig, err := readMessage(r)
	if err != nil {
		return 0, nil, false
	}
	if tooBig {
		_ = ws.Close(websocket.StatusMessageTooBig, "message too big")
		return 0, nil, false
	}
	return typ, data, true
}

// readMessage reads one client message of at most MaxClientMessage bytes,
// in chunks (4 KiB, doubling up to 1 MiB) joined once at the end: reading
// n bytes allocates at most about 2n + 1 MiB, where io.ReadAll's growth
// allocates several times n.
func readMessage(r io.Reader) (data []byte, tooBig bool, err error) {
	var chunks [][]byte
	total, size := 0, 4<<10
	for {
		buf := make([]byte, size)
		if size < 1<<20 {
			size *= 2
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			chunks = append(chunks, buf[:n])
			total += n
			if total > MaxClientMessage {
				return nil, true, nil
			}
		}
		switch err {
		case nil:
			continue
		case io.EOF, io.ErrUnexpectedEOF:
		default:
			return nil, false, err
		}
		break
	}
	if len(chunks) == 1 {
		return chunks[0], false, nil
	}
	data = make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data, false, nil
}

// dispatch hands a client message to the kernel.
func (s *Server) dispatch(c *conn, m clientMsg) {
	switch m.channel {
	case "shell", "control", "stdin":
	default: // unknown channels ("No such channel") and iopub, whose SUB socket drops what is sent
		return
	}
	hdr, msgID, msgType, ok := normalizeHeader(m.header)
	s.mu.Lock()
	defer s.mu.Unlock()
	rt := c.rt
	if rt.gone || !ok {
		return // a deleted kernel's sockets are closed; a bad header is the kernel's "Invalid Message"
	}
	req := &request{channel: m.channel, msgType: msgType, msgID: msgID, header: hdr,
		content: spans(m.content), origin: c.route}
	switch m.channel {
	case "stdin":
		s.inputReply(rt, req)
	case "control":
		s.control(rt, req)
	default:
		limit := s.ch.maxShell
		if limit == 0 {
			limit = MaxShellQueue
		}
		req.size = m.size
		// Once one of this connection's requests is dropped, so is every
		// later one it sent before the close reached it, however small:
		// the kernel never runs a request whose predecessor from the same
		// client it dropped.
		if c.shellDropped || rt.queuedBytes+req.size > limit {
			c.shellDropped = true
			c.closeWith(websocket.StatusTryAgainLater)
			return
		}
		s.enqueue(rt, req)
	}
}

func (s *Server) writeLoop(ctx context.Context, c *conn) {
	for {
		if !s.awaitQueue(ctx, c.wake, func() bool { return len(c.out) > 0 || c.closing }) {
			return
		}
		batch := c.out
		c.out, c.outBytes = nil, 0
		closing, code, abort := c.closing, c.closeCode, c.abort
		s.mu.Unlock()
		if abort {
			_ = c.ws.CloseNow()
			return
		}
		for _, m := range batch {
			var err error
			if c.v1 {
				err = c.ws.Write(ctx, websocket.MessageBinary, m.v1Frame())
			} else if bin, frame := m.legacyFrame(); bin {
				err = c.ws.Write(ctx, websocket.MessageBinary, frame)
			} else {
				err = c.ws.Write(ctx, websocket.MessageText, frame)
			}
			if err != nil {
				_ = c.ws.CloseNow()
				return
			}
		}
		if closing {
			_ = c.ws.Close(code, "")
			return
		}
	}
}

// Close closes every channel connection, stops the kernels' workers and
// waits for their goroutines. The Server answers nothing on the channels
// afterwards; nbservtest calls it when a test's server stops.
func (s *Server) Close() {
	s.mu.Lock()
	s.ch.closed = true
	var conns []*conn
	for c := range s.ch.conns {
		conns = append(conns, c)
		c.closeWith(0)
	}
	for rt := range s.ch.working {
		rt.queue, rt.queuedBytes = nil, 0
		if rt.cur != nil {
			rt.cur.crashed = true
			s.interrupt(rt)
		}
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.CloseNow()
	}
	s.closeTerminalSockets()
	s.ch.wg.Wait()
}

// CrashKernel makes a kernel's process die, as os._exit or a segfault
// would. With restartFails false, Jupyter's restarter tells every open
// connection "restarting" and starts a new process: what was running or
// queued is never answered, and the execution count starts again at 1.
// With restartFails true, its restarts fail: connections are told "dead"
// and the kernel is removed, so its sessions disappear on their next read.
func (s *Server) CrashKernel(kernelID string, restartFails bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.controlKernel(kernelID)
	if err != nil {
		return err
	}
	rt := s.runtime(k)
	if !restartFails {
		s.crash(rt, true)
		return nil
	}
	for _, c := range rt.conns {
		c.enqueue(c.serverMsg("status", obj{{"execution_state", "restarting"}}))
	}
	s.crash(rt, false)
	rt.gone = true // no shutdown sequence: there is no process to shut down
	rt.buf = nil
	s.shutdownKernel(kernelID)
	return nil
}

// totalConnections is /api/status's "connections": every kernel's count.
// The caller holds s.mu.
func (s *Server) totalConnections() int {
	n := 0
	for _, k := range s.kernels {
		n += k.connections()
	}
	return n
}

// socketAllowed makes the checks a WebSocket route of Jupyter's makes
// before its own (the method, then the token), answering a refusal with
// Jupyter's error page.
func (s *Server) socketAllowed(w http.ResponseWriter, r *http.Request) bool {
	switch {
	case !s.authorized(r):
		s.errorPage(w, r, http.StatusForbidden, "")
	case r.Method != http.MethodGet:
		s.errorPage(w, r, http.StatusMethodNotAllowed, "")
	default:
		return true
	}
	return false
}

// upgradeAllowed makes Tornado's checks of a WebSocket handshake,
// answering a refusal as Tornado does. With a token, Jupyter skips the
// origin check for token-authenticated requests.
func upgradeAllowed(w http.ResponseWriter, r *http.Request, hasToken bool) bool {
	switch {
	case !headerHasToken(r.Header, "Upgrade", "websocket"):
		plainError(w, http.StatusBadRequest, `Can "Upgrade" only to "WebSocket".`)
	case !headerHasToken(r.Header, "Connection", "upgrade"):
		plainError(w, http.StatusBadRequest, `"Connection" must be "Upgrade".`)
	case !hasToken && !sameOrigin(r):
		plainError(w, http.StatusForbidden, "Cross origin websockets not allowed")
	default:
		return true
	}
	return false
}

// headerHasToken is Tornado's case-insensitive check of a comma-separated
// header.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// sameOrigin is Jupyter's check_origin without allow_origin settings: no
// Origin, or one whose host is the request's Host.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || r.Host == "" {
		return true
	}
	u, err := url.Parse(strings.ToLower(origin))
	return err == nil && u.Host == strings.ToLower(r.Host)
}

// plainError is a Tornado HTTPError raised with a log message and no
// Jupyter page: the message as an HTML body.
func plainError(w http.ResponseWriter, status int, msg string) {
	writeBody(w, status, "text/html; charset=UTF-8", msg)
}
