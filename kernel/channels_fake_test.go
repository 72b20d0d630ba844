package kernel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// fakeKernel is the unit tests' Jupyter Server for one kernel: a loopback
// server answering the kernel's channels WebSocket as Jupyter Server 1.23
// does (docs/wire/kernel-channels.md KC2, KC3): the legacy format, and the v1
// subprotocol when offered and enabled; IOPub to every connection, shell
// and stdin to the requesting session; a disconnected session's messages
// buffered and replayed when it comes back; and the REST calls a Conn
// makes (GET the kernel, interrupt, restart). What an execute_request
// emits is each test's script (exec); the fake sends exactly what the
// script says, in that order, so tests choose the orders real Jupyter
// produces (the reply before or after the outputs) and the faults.
type fakeKernel struct {
	t      testing.TB
	id     string
	token  string
	prefix string
	srv    *httptest.Server
	client *transport.Client

	// v1 makes the server accept the v1 subprotocol when offered.
	v1 bool
	// exec runs each execute_request, on a goroutine of its own.
	exec func(x *fakeExec)

	done chan struct{} // closed at cleanup: scripts waiting on anything stop
	wg   sync.WaitGroup

	mu         sync.Mutex
	conns      map[string]*fakeConn  // live connections by session id
	buffered   map[string][][]string // per disconnected session: frames as JSON parts and channel
	handshakes []*http.Request
	received   []*Message
	count      int
	gone       bool // REST GET of the kernel answers 404, the socket is refused
	dead       bool // REST GET reports execution_state dead
	interrupts int
	restarts   int
	checks     int // REST GETs of the kernel
	interrupt  chan struct{}
	inputs     chan *Message
	seq        int
	// Faults of the next connections: stallNext of them stop reading once
	// they have answered the kernel_info_request on shell; with closeNew,
	// each is closed as soon as it is accepted; with silentNew, each reads
	// and never answers; with slowRead, each reads a message 128 KiB at a
	// time, 25 ms apart (a slow link).
	stallNext int
	// noIOPubNext of the next connections get replies and no IOPub.
	noIOPubNext int
	// lateIOPub, when set, is how many kernel_info_requests the next
	// connection reads before it gets IOPub: what the kernel publishes
	// before then is lost, as when Jupyter's IOPub subscription for a
	// socket it did not nudge is not yet in place.
	lateIOPub int
	closeNew  bool
	// closeAnswered closes each new connection 20 ms after it has
	// answered a kernel_info_request on shell.
	closeAnswered bool
	silentNew     bool
	slowRead      bool
	// mute makes each new connection answer nothing and close once it has
	// read a kernel_info_request on shell.
	mute bool
	// blockedControl leaves control's kernel_info_requests unanswered, as
	// ipykernel's control thread while a cell holds the GIL.
	blockedControl bool
	// serialShell runs shell requests one at a time, in order, as
	// ipykernel does: a kernel_info_request on shell waits for the
	// executions before it. (Otherwise each execution runs on a goroutine
	// of its own and shell's kernel_info_requests are answered at once.)
	serialShell bool
	shellQueue  []func()
	shellBusy   bool
	// dropOn, when set, is a message type on which the connection that
	// brings it closes, the message lost with it (never handled).
	dropOn string
	// state, when set, is the execution_state the REST GET of the kernel
	// reports (idle otherwise).
	state string
	// slowControl delays the answer to each of control's
	// kernel_info_requests, with its status on IOPub, by that long (a
	// kernel slow to answer control).
	slowControl time.Duration
}

// Config is the client's configuration, as the tests adjust it.
type Config = transport.Config

// Values the fake and the tests share.
const (
	testToken     = "s3cr3t-t0ken"
	testSessionID = "73293b23-4691-4c77-a951-f2091166b6aa"
)

// newTestClient is the transport of a client of base, as nbserv's
// NewClient makes it.
func newTestClient(t testing.TB, cfg Config) *transport.Client {
	t.Helper()
	c, err := transport.New(transport.Settings{Config: cfg, Name: "nbserv", Product: "go-nbserv/test"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testEndpoint is the Endpoint of a kernel reached through a transport
// client, as nbserv's Kernels.Connect gives Dial, with the client's
// defaults as nbserv passes them.
type testEndpoint struct {
	t  *transport.Client
	id string
}

func (e *testEndpoint) KernelID() string { return e.id }

func (e *testEndpoint) DialChannels(ctx context.Context, sessionID string, subprotocols []string) (*websocket.Conn, error) {
	return e.t.DialWebSocket(ctx, "api/kernels/"+e.id+"/channels", url.Values{"session_id": {sessionID}}, subprotocols)
}

func (e *testEndpoint) Interrupt(ctx context.Context, opts ...CallOption) error {
	_, err := e.t.Do(ctx, transport.Call{Method: "POST", Path: "api/kernels/" + e.id + "/interrupt"}, opts)
	return err
}

func (e *testEndpoint) Restart(ctx context.Context, opts ...CallOption) error {
	_, err := e.t.Do(ctx, transport.Call{Method: "POST", Path: "api/kernels/" + e.id + "/restart"}, opts)
	return err
}

func (e *testEndpoint) Check(ctx context.Context) error {
	var k struct {
		State string `json:"execution_state"`
	}
	_, err := e.t.Do(ctx, transport.Call{Method: "GET", Path: "api/kernels/" + e.id, Decode: func(b []byte) error { return json.Unmarshal(b, &k) }}, nil)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: the kernel no longer exists: %w", ErrKernelDead, err)
	case err == nil && k.State == StateDead:
		return fmt.Errorf("%w: the server reports the kernel dead", ErrKernelDead)
	}
	return err
}

func (e *testEndpoint) ExecutionState(ctx context.Context) (string, error) {
	var k struct {
		State string `json:"execution_state"`
	}
	_, err := e.t.Do(ctx, transport.Call{Method: "GET", Path: "api/kernels/" + e.id, Decode: func(b []byte) error { return json.Unmarshal(b, &k) }}, nil)
	return k.State, err
}

func (e *testEndpoint) ReconnectWait(attempt int, deadline time.Time) (time.Duration, bool) {
	return e.t.RetryWait(attempt, nil, deadline)
}

// dial connects to kernel id through c, as Kernels.Connect does.
func dial(ctx context.Context, c *transport.Client, id string, opts ...Option) (*Conn, error) {
	defaults := []Option{WithHandshakeTimeout(c.Timeout()), WithMaxMessageBytes(c.MaxBody()), WithMaxOutputBytes(c.MaxBody())}
	return Dial(ctx, &testEndpoint{t: c, id: id}, append(defaults, opts...)...)
}

func newFakeKernel(t testing.TB, exec func(x *fakeExec), adjust ...func(*Config)) *fakeKernel {
	t.Helper()
	k := &fakeKernel{t: t, id: "c0ffee00-1111-4222-8333-444455556666", token: testToken, prefix: "/user/x/", exec: exec,
		done: make(chan struct{}), conns: map[string]*fakeConn{}, buffered: map[string][][]string{},
		interrupt: make(chan struct{}, 16), inputs: make(chan *Message, 16)}
	k.srv = httptest.NewServer(http.HandlerFunc(k.serveHTTP))
	cfg := Config{BaseURL: k.srv.URL + k.prefix, Token: transport.NewSecret(testToken), RetryWaitMin: time.Millisecond, RetryWaitMax: 20 * time.Millisecond}
	for _, f := range adjust {
		f(&cfg)
	}
	c := newTestClient(t, cfg)
	k.client = c
	t.Cleanup(func() {
		close(k.done)
		k.mu.Lock()
		for _, fc := range k.conns {
			fc.ws.CloseNow()
		}
		k.mu.Unlock()
		k.srv.CloseClientConnections()
		k.wg.Wait()
		k.srv.Close()
		c.CloseIdleConnections()
	})
	return k
}

// connect opens a Conn on the fake and closes it at the end of the test.
func (k *fakeKernel) connect(opts ...Option) *Conn {
	k.t.Helper()
	conn, err := dial(context.Background(), k.client, k.id, opts...)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(func() { conn.Close() })
	return conn
}

func (k *fakeKernel) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, k.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "token "+k.token {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, "<html>403 Forbidden %s</html>", r.URL.RawQuery)
		return
	}
	kernel := "api/kernels/" + k.id
	k.mu.Lock()
	gone, dead := k.gone, k.dead
	k.mu.Unlock()
	switch {
	case path == kernel+"/channels" && r.Method == "GET":
		if gone {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "<html>404 Not Found</html>")
			return
		}
		k.accept(w, r)
	case path == kernel && r.Method == "GET":
		k.mu.Lock()
		k.checks++
		k.mu.Unlock()
		if gone {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"message": "Kernel does not exist: %s", "reason": null}`, k.id)
			return
		}
		state := "idle"
		k.mu.Lock()
		if k.state != "" {
			state = k.state
		}
		k.mu.Unlock()
		if dead {
			state = "dead"
		}
		fmt.Fprintf(w, `{"id": %q, "name": "python3", "last_activity": "2026-11-27T21:46:02.018545Z", "execution_state": %q, "connections": 1}`, k.id, state)
	case path == kernel+"/interrupt" && r.Method == "POST":
		k.mu.Lock()
		k.interrupts++
		k.mu.Unlock()
		k.interrupt <- struct{}{}
		w.WriteHeader(http.StatusNoContent)
	case path == kernel+"/restart" && r.Method == "POST":
		k.mu.Lock()
		k.restarts++
		k.count = 0
		k.mu.Unlock()
		// As ipykernel does: its shutdown_reply goes to IOPub.
		k.broadcast(nil, MsgShutdownReply, map[string]any{"status": "ok", "restart": true})
		fmt.Fprintf(w, `{"id": %q, "name": "python3", "last_activity": "2026-11-27T21:46:02.018545Z", "execution_state": "idle", "connections": 1}`, k.id)
	case path == "api/sessions/"+testSessionID && r.Method == "GET":
		fmt.Fprintf(w, `{"id": %q, "path": "a.ipynb", "name": "", "type": "notebook", "kernel": {"id": %q, "name": "python3", "last_activity": "2026-11-27T21:46:02.018545Z", "execution_state": "idle", "connections": 0}}`, testSessionID, k.id)
	default:
		http.NotFound(w, r)
	}
}

// fakeConn is one client connection to the fake.
type fakeConn struct {
	k       *fakeKernel
	ws      *websocket.Conn
	fr      framing
	session string
	stall   bool // stop reading after the kernel_info_reply on shell
	hangUp  bool // close after the kernel_info_reply on shell
	noIOPub bool // (under k.mu) send replies, no IOPub
	// iopubAfter (under k.mu) is how many kernel_info_requests are still
	// to come before the connection gets IOPub.
	iopubAfter int
	slow       bool // read as over a slow link
	deaf       bool // (under k.mu) run what comes, send it nothing: a silent socket
	mute       bool // answer nothing, close after a kernel_info_request on shell
}

func (k *fakeKernel) accept(w http.ResponseWriter, r *http.Request) {
	var protos []string
	if k.v1 {
		protos = []string{ProtocolV1}
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: protos})
	if err != nil {
		return
	}
	ws.SetReadLimit(-1)
	fr, _ := framingFor(ws.Subprotocol())
	session := r.URL.Query().Get("session_id")
	fc := &fakeConn{k: k, ws: ws, fr: fr, session: session}
	k.mu.Lock()
	k.handshakes = append(k.handshakes, r.Clone(context.Background()))
	closeNew, silentNew := k.closeNew, k.silentNew
	fc.slow = k.slowRead
	fc.hangUp = k.closeAnswered
	fc.mute = k.mute
	if k.stallNext > 0 {
		k.stallNext--
		fc.stall = true
	}
	if k.noIOPubNext > 0 {
		k.noIOPubNext--
		fc.noIOPub = true
	}
	fc.iopubAfter, k.lateIOPub = k.lateIOPub, 0
	if closeNew || silentNew {
		k.mu.Unlock()
		if closeNew {
			ws.CloseNow()
			return
		}
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			defer ws.CloseNow()
			for {
				if _, _, err := ws.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		return
	}
	if old := k.conns[session]; old != nil {
		old.ws.CloseNow() // Jupyter replaces a stale connection of the same session
	}
	k.conns[session] = fc
	replay := k.buffered[session]
	delete(k.buffered, session)
	for _, f := range replay {
		fc.writeParts(f)
	}
	k.mu.Unlock()
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		fc.read()
	}()
}

// read handles a connection's messages until it closes.
func (fc *fakeConn) read() {
	k := fc.k
	defer func() {
		k.mu.Lock()
		if k.conns[fc.session] == fc {
			// As Jupyter does when a kernel's last connection closes:
			// buffer what comes for the session until it is back.
			delete(k.conns, fc.session)
			if _, ok := k.buffered[fc.session]; !ok {
				k.buffered[fc.session] = nil
			}
		}
		k.mu.Unlock()
		fc.ws.CloseNow()
	}()
	for {
		typ, b, err := fc.readMessage()
		if err != nil {
			return
		}
		m := fc.fr.decode(typ, b)
		if m.Err != nil {
			k.t.Errorf("fake kernel: client sent a malformed frame: %v", m.Err)
			continue
		}
		k.mu.Lock()
		k.received = append(k.received, m)
		if fc.iopubAfter > 0 && m.Header.MsgType == MsgKernelInfoRequest {
			fc.iopubAfter--
		}
		lose := k.dropOn != "" && k.dropOn == m.Header.MsgType
		if lose {
			k.dropOn = ""
		}
		k.mu.Unlock()
		if lose {
			return
		}
		if fc.mute {
			if m.Header.MsgType == MsgKernelInfoRequest && m.Channel == ChannelShell {
				return
			}
			continue
		}
		k.handle(fc.session, m)
		if fc.stall && m.Header.MsgType == MsgKernelInfoRequest && m.Channel == ChannelShell {
			<-k.done // a peer that stops reading: the client's writes fill the buffers
			return
		}
		if fc.hangUp && m.Header.MsgType == MsgKernelInfoRequest && m.Channel == ChannelShell {
			// Long enough for the client to take the answer.
			select {
			case <-time.After(20 * time.Millisecond):
			case <-k.done:
			}
			return
		}
	}
}

// readMessage reads one message, paced when the connection is slow.
func (fc *fakeConn) readMessage() (websocket.MessageType, []byte, error) {
	if !fc.slow {
		return fc.ws.Read(context.Background())
	}
	typ, r, err := fc.ws.Reader(context.Background())
	if err != nil {
		return 0, nil, err
	}
	var b bytes.Buffer
	for {
		n, err := io.CopyN(&b, r, 128<<10)
		if err == io.EOF {
			return typ, b.Bytes(), nil
		}
		if err != nil {
			return 0, nil, err
		}
		if n > 0 {
			select {
			case <-time.After(25 * time.Millisecond):
			case <-fc.k.done:
				return 0, nil, net.ErrClosed
			}
		}
	}
}

// deafen makes a session's connection silent: what it sends is still run,
// but nothing more reaches it (a socket that lived through a restart).
func (k *fakeKernel) deafen(session string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if fc := k.conns[session]; fc != nil {
		fc.deaf = true
	}
}

// onShell runs f, a shell request's handling: at once, or with
// serialShell after the shell requests before it.
func (k *fakeKernel) onShell(f func()) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.serialShell {
		k.mu.Unlock()
		f()
		k.mu.Lock()
		return
	}
	k.shellQueue = append(k.shellQueue, f)
	if k.shellBusy {
		return
	}
	k.shellBusy = true
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		for {
			k.mu.Lock()
			if len(k.shellQueue) == 0 {
				k.shellBusy = false
				k.mu.Unlock()
				return
			}
			next := k.shellQueue[0]
			k.shellQueue = k.shellQueue[1:]
			k.mu.Unlock()
			next()
		}
	}()
}

// kernelInfo answers a kernel_info_request.
func (k *fakeKernel) kernelInfo(session string, m *Message) {
	parent := m.rawHeader
	// Every request gets busy and idle on IOPub, control's too
	// (docs/wire/kernel-channels.md KC14).
	k.broadcast(parent, MsgStatus, Status{StateBusy})
	k.sendTo(session, m.Channel, parent, MsgKernelInfoReply, map[string]any{
		"status": "ok", "protocol_version": "5.3", "implementation": "fake", "implementation_version": "1.0",
		"language_info": map[string]any{"name": "python", "version": "3.11.2", "mimetype": "text/x-python", "file_extension": ".py"},
		"banner":        "fake kernel", "help_links": []any{}})
	k.broadcast(parent, MsgStatus, Status{StateIdle})
}

func (k *fakeKernel) handle(session string, m *Message) {
	parent := m.rawHeader
	switch m.Header.MsgType {
	case MsgKernelInfoRequest:
		k.mu.Lock()
		blocked := k.blockedControl && m.Channel == ChannelControl
		slow := k.slowControl
		k.mu.Unlock()
		if blocked {
			return
		}
		if slow > 0 && m.Channel == ChannelControl {
			k.wg.Add(1)
			go func() {
				defer k.wg.Done()
				select {
				case <-time.After(slow):
				case <-k.done:
					return
				}
				k.kernelInfo(session, m)
			}()
			return
		}
		if m.Channel == ChannelShell {
			k.onShell(func() { k.kernelInfo(session, m) })
			return
		}
		k.kernelInfo(session, m)
	case MsgCompleteRequest:
		var req CompleteRequest
		_ = json.Unmarshal(m.Content, &req)
		k.sendTo(session, ChannelShell, parent, MsgCompleteReply, map[string]any{"status": "ok",
			"matches": []string{req.Code + "!"}, "cursor_start": 0, "cursor_end": req.CursorPos, "metadata": map[string]any{}})
	case MsgInspectRequest:
		var req InspectRequest
		_ = json.Unmarshal(m.Content, &req)
		k.sendTo(session, ChannelShell, parent, MsgInspectReply, map[string]any{"status": "ok", "found": true,
			"data": map[string]any{"text/plain": fmt.Sprintf("%s at %d, level %d", req.Code, req.CursorPos, req.DetailLevel)}, "metadata": map[string]any{}})
	case MsgInputReply:
		k.inputs <- m
	case MsgExecuteRequest:
		var req ExecuteRequest
		_ = json.Unmarshal(m.Content, &req)
		k.mu.Lock()
		k.count++
		x := &fakeExec{k: k, session: session, parent: parent, req: req, count: k.count, header: m.Header}
		serial := k.serialShell
		k.mu.Unlock()
		if serial {
			k.onShell(func() { k.exec(x) })
			return
		}
		k.wg.Add(1)
		go func() {
			defer k.wg.Done()
			k.exec(x)
		}()
	}
}

// frame parts: channel, header, parent, metadata, content.
func (k *fakeKernel) parts(ch Channel, parent json.RawMessage, msgType string, content any) []string {
	k.mu.Lock()
	k.seq++
	id := fmt.Sprintf("fake_4242_%d", k.seq) // jupyter_client's `<session>_<pid>_<n>`, n over every message the kernel sends
	k.mu.Unlock()
	if parent == nil {
		parent = json.RawMessage("{}")
	}
	header := fmt.Sprintf(`{"msg_id": %q, "msg_type": %q, "username": "username", "session": "fake", "date": "2026-11-27T21:46:02.018545Z", "version": "5.3"}`, id, msgType)
	body, err := json.Marshal(content)
	if err != nil {
		k.t.Errorf("fake kernel: %v", err)
	}
	return []string{string(ch), header, string(parent), "{}", string(body)}
}

func (fc *fakeConn) writeParts(p []string) {
	if fc.deaf || (fc.noIOPub || fc.iopubAfter > 0) && Channel(p[0]) == ChannelIOPub {
		return
	}
	typ, frame := fc.fr.encode(Channel(p[0]), &outParts{header: []byte(p[1]), parent: []byte(p[2]), metadata: []byte(p[3]), content: []byte(p[4])})
	fc.write(typ, frame)
}

func (fc *fakeConn) write(typ websocket.MessageType, frame []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = fc.ws.Write(ctx, typ, frame) // a connection closing meanwhile loses it, as on a real server
}

// sendTo sends to one session, or buffers it while the session is away.
func (k *fakeKernel) sendTo(session string, ch Channel, parent json.RawMessage, msgType string, content any) {
	p := k.parts(ch, parent, msgType, content)
	k.mu.Lock()
	defer k.mu.Unlock()
	if fc := k.conns[session]; fc != nil {
		fc.writeParts(p)
		return
	}
	k.buffered[session] = append(k.buffered[session], p)
}

// broadcast sends on IOPub to every connection, and buffers it for
// sessions that are away.
func (k *fakeKernel) broadcast(parent json.RawMessage, msgType string, content any) {
	p := k.parts(ChannelIOPub, parent, msgType, content)
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, fc := range k.conns {
		fc.writeParts(p)
	}
	for s := range k.buffered {
		k.buffered[s] = append(k.buffered[s], p)
	}
}

// rawFrame sends a frame as it is to every connection.
func (k *fakeKernel) rawFrame(typ websocket.MessageType, frame []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, fc := range k.conns {
		fc.write(typ, frame)
	}
}

// drop closes a session's connection from the server's side; what is sent
// to it meanwhile is buffered (the session's buffer starts now).
func (k *fakeKernel) drop(session string) {
	k.mu.Lock()
	fc := k.conns[session]
	delete(k.conns, session)
	if _, ok := k.buffered[session]; !ok {
		k.buffered[session] = nil
	}
	k.mu.Unlock()
	if fc != nil {
		fc.ws.CloseNow()
	}
}

// dropAll closes every connection from the server's side.
func (k *fakeKernel) dropAll() {
	k.mu.Lock()
	var sessions []string
	for s := range k.conns {
		sessions = append(sessions, s)
	}
	k.mu.Unlock()
	for _, s := range sessions {
		k.drop(s)
	}
}

func (k *fakeKernel) handshakeCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.handshakes)
}

// handshakesOf counts the handshakes of one session's sockets.
func (k *fakeKernel) handshakesOf(session string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for _, r := range k.handshakes {
		if r.URL.Query().Get("session_id") == session {
			n++
		}
	}
	return n
}

func (k *fakeKernel) receivedOf(msgType string) []*Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*Message
	for _, m := range k.received {
		if m.Header.MsgType == msgType {
			out = append(out, m)
		}
	}
	return out
}

// fakeExec is one execute_request being run by a test's script.
type fakeExec struct {
	k       *fakeKernel
	session string
	header  Header
	parent  json.RawMessage
	req     ExecuteRequest
	count   int
	// lose makes what the script sends vanish, as what Jupyter writes
	// into a socket that is failing.
	lose bool
}

func (x *fakeExec) iopub(msgType string, content any) {
	if x.lose {
		x.k.parts(ChannelIOPub, x.parent, msgType, content) // sent, so numbered, then lost
		return
	}
	x.k.broadcast(x.parent, msgType, content)
}
func (x *fakeExec) status(state string)      { x.iopub(MsgStatus, Status{state}) }
func (x *fakeExec) input()                   { x.iopub(MsgExecuteInput, ExecuteInput{x.req.Code, x.count}) }
func (x *fakeExec) stream(name, text string) { x.iopub(MsgStream, Stream{name, text}) }
func (x *fakeExec) result(text string) {
	x.iopub(MsgExecuteResult, map[string]any{"data": map[string]any{"text/plain": text}, "metadata": map[string]any{}, "execution_count": x.count})
}
func (x *fakeExec) reply(status string, extra map[string]any) {
	c := map[string]any{"status": status, "execution_count": x.count, "user_expressions": map[string]any{}, "payload": []any{}}
	for k, v := range extra {
		c[k] = v
	}
	if x.lose {
		x.k.parts(ChannelShell, x.parent, MsgExecuteReply, c) // sent, so numbered, then lost
		return
	}
	x.k.sendTo(x.session, ChannelShell, x.parent, MsgExecuteReply, c)
}

// ok runs the sequence ipykernel sends for a successful execution, with
// outputs in between and the reply between the last output and idle.
func (x *fakeExec) ok(outputs func()) {
	x.status(StateBusy)
	x.input()
	if outputs != nil {
		outputs()
	}
	x.reply(StatusOK, nil)
	x.status(StateIdle)
}

// raise sends ipykernel's sequence for an exception.
func (x *fakeExec) raise(ename, evalue string) {
	tb := []string{"\x1b[0;31m---------------------------------------------------------------------------\x1b[0m", "\x1b[0;31m" + ename + "\x1b[0m: " + evalue}
	x.status(StateBusy)
	x.input()
	x.iopub(MsgError, map[string]any{"ename": ename, "evalue": evalue, "traceback": tb})
	x.reply(StatusError, map[string]any{"ename": ename, "evalue": evalue, "traceback": tb})
	x.status(StateIdle)
}

// ask sends an input_request and waits for the input_reply.
func (x *fakeExec) ask(prompt string, password bool) *Message {
	x.k.sendTo(x.session, ChannelStdin, x.parent, MsgInputRequest, InputRequest{prompt, password})
	select {
	case m := <-x.k.inputs:
		return m
	case <-x.k.done:
		return nil
	}
}

// waitInterrupt blocks until POST interrupt (or the test's end).
func (x *fakeExec) waitInterrupt() bool {
	select {
	case <-x.k.interrupt:
		return true
	case <-x.k.done:
		return false
	}
}

// wait blocks until ch is closed or the test ends.
func (x *fakeExec) wait(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-x.k.done:
		return false
	}
}

// standardExec answers by code: "1+1" gives a result, "print:X" prints
// X, "raise:X" raises ValueError(X); anything else just succeeds.
func standardExec(x *fakeExec) {
	switch code := x.req.Code; {
	case code == "1+1":
		x.ok(func() { x.result("2") })
	case strings.HasPrefix(code, "print:"):
		x.ok(func() { x.stream(Stdout, strings.TrimPrefix(code, "print:")+"\n") })
	case strings.HasPrefix(code, "raise:"):
		x.raise("ValueError", strings.TrimPrefix(code, "raise:"))
	default:
		x.ok(nil)
	}
}

// errorsIsAny reports whether err matches any target.
func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
