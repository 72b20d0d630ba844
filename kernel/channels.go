package kernel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Defaults of a kernel connection's settings.
const (
	// DefaultReconnectTimeout is how long a Conn tries to restore a
	// dropped WebSocket (see WithReconnectTimeout).
	DefaultReconnectTimeout = 30 * time.Second
	// DefaultHandshakeTimeout bounds Dial (see WithHandshakeTimeout).
	DefaultHandshakeTimeout = transport.DefaultTimeout
	// DefaultMaxBytes is the default of WithMaxMessageBytes and
	// WithMaxOutputBytes.
	DefaultMaxBytes = transport.DefaultMaxResponseBytes
	// DefaultCheckInterval is how long a Conn waiting for an answer may hear
	// nothing before it asks the REST API whether the kernel still exists
	// (see WithCheckInterval).
	DefaultCheckInterval = 5 * time.Second
)

// Option adjusts a kernel connection (Dial, nbserv's Kernels.Connect).
type Option func(*options)

type options struct {
	handshake  time.Duration
	sessionID  string
	username   string
	protocol   string
	maxMessage int64
	maxOutput  int64
	reconnect  time.Duration // <0: none
	check      time.Duration // <0: none
	handler    func(*Message)
	invalid    error
}

// WithHandshakeTimeout bounds Dial as a whole, the WebSocket handshake
// and the wait for the kernel's first answer, besides ctx (default
// DefaultHandshakeTimeout; nbserv's Connect passes Config.Timeout).
// NoTimeout leaves Dial bounded by ctx alone.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.invalid = &ValidationError{Field: "handshake timeout", Problem: "not positive"}
		}
		o.handshake = d
	}
}

// WithSessionID sets the client session id sent as the session_id query
// and in every message header. Jupyter buffers a disconnected session's
// messages under it and replays them when a connection with the same id
// comes back. By default each Conn gets a new random id; two Conns must
// never share one (Jupyter closes the older).
func WithSessionID(id string) Option {
	return func(o *options) {
		if id == "" {
			o.invalid = &ValidationError{Field: "session id", Problem: "empty"}
		}
		o.sessionID = id
	}
}

// WithUsername sets the username in the headers the Conn sends
// ("go-nbserv" by default).
func WithUsername(name string) Option {
	return func(o *options) { o.username = name }
}

// WithProtocol chooses the WebSocket message format: ProtocolLegacy (JSON
// with a "channel" key) or ProtocolV1 (the v1.kernel.websocket.jupyter.org
// subprotocol; a server that does not accept it fails Connect). By default
// the Conn offers v1 and speaks whichever the server picks.
func WithProtocol(p string) Option {
	return func(o *options) {
		if p != ProtocolLegacy && p != ProtocolV1 {
			o.invalid = &ValidationError{Field: "protocol", Value: p, Problem: "want ProtocolLegacy or ProtocolV1"}
		}
		o.protocol = p
	}
}

// WithMaxMessageBytes bounds the size of one message from the kernel
// (default DefaultMaxBytes; nbserv's Connect passes Config.MaxResponseBytes). A larger message is read through and
// discarded, never held: the request it belongs to fails with
// ErrResponseTooLarge, and the connection goes on.
func WithMaxMessageBytes(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.invalid = &ValidationError{Field: "max message bytes", Problem: "not positive"}
		}
		o.maxMessage = n
	}
}

// WithMaxOutputBytes bounds the messages one request may hold in memory
// (default DefaultMaxBytes; nbserv's Connect passes Config.MaxResponseBytes): for Execute, everything it collects;
// for ExecuteStream, what has arrived and not yet been consumed. Past it,
// the request fails with ErrResponseTooLarge; the kernel goes on running
// the code (Interrupt stops it).
func WithMaxOutputBytes(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.invalid = &ValidationError{Field: "max output bytes", Problem: "not positive"}
		}
		o.maxOutput = n
	}
}

// WithReconnectTimeout sets how long a Conn tries to restore a dropped
// WebSocket, with the Endpoint's waits between attempts (default
// DefaultReconnectTimeout). NoTimeout tries until Close; a negative value
// disables reconnecting: a drop then ends the Conn.
func WithReconnectTimeout(d time.Duration) Option {
	return func(o *options) {
		if d == 0 {
			o.invalid = &ValidationError{Field: "reconnect timeout", Problem: "zero (a negative value disables reconnecting)"}
		}
		o.reconnect = d
	}
}

// WithCheckInterval sets how long a Conn waiting for an answer may hear
// nothing from the kernel before it asks the REST API whether the kernel
// still exists (default DefaultCheckInterval): Jupyter keeps the WebSocket
// of a deleted kernel open and silent, so without this check a request
// could wait forever. A negative value disables the check.
func WithCheckInterval(d time.Duration) Option {
	return func(o *options) {
		if d == 0 {
			o.invalid = &ValidationError{Field: "kernel check", Problem: "zero (a negative value disables the check)"}
		}
		o.check = d
	}
}

// WithMessageHandler receives every message that no call of this Conn is
// waiting for: comm messages (an execution's comm_open included), outputs
// of other clients' executions, late messages of a call that stopped
// waiting (such as the IOPub status that follows a KernelInfo, Complete
// or Request reply), the kernel's own status, and frames that are not messages
// (Message.Err set). It runs on the Conn's reading goroutine, one message
// at a time in arrival order, and must return quickly and not wait for
// the Conn (no Execute inside it): hand such work to another goroutine.
func WithMessageHandler(f func(*Message)) Option {
	return func(o *options) { o.handler = f }
}

// Conn is a connection to a kernel's channels (GET
// /api/kernels/{id}/channels, a WebSocket): run code with Execute,
// answer input with WithStdin, and ask for kernel info, completions and
// help. It is safe for concurrent use: replies and outputs are routed to
// their request by the parent header's msg_id. Close it when done.
//
// A dropped WebSocket is restored with the same session id, and Jupyter
// replays what the kernel sent meanwhile, so requests in flight lose
// nothing (when this Conn was the kernel's only connection: Jupyter
// buffers only then). A kernel restart or death ends the requests in
// flight with ErrKernelRestarted or ErrKernelDead instead of leaving them
// waiting.
//
// Memory, each bound tested: reading a message allocates at most about
// 2 × MaxMessageBytes, whatever its size (a larger one is read through
// and discarded); each request in flight holds at most MaxOutputBytes of
// messages; typed contents are decoded only when their values fit in
// 8 × MaxMessageBytes (the client's decoding bound). Nothing else is
// buffered: while a dropped socket is restored, Jupyter keeps the
// messages, not the Conn.
type Conn struct {
	ep      Endpoint
	session string
	o       options
	// gatePrefix starts the msg_ids of the gate's requests.
	gatePrefix string
	// headerStart is the constant start of every header we send.
	headerStart []byte
	seq         atomic.Uint64

	mu      sync.Mutex
	ws      *websocket.Conn // the current socket
	frame   framing
	gen     uint64        // counts sockets, so that a late gate can tell
	open    bool          // the current socket's gate is open: requests may go
	changed chan struct{} // closed and replaced when the above change
	pending map[string]*request
	// lastRecv is when a message last arrived.
	lastRecv time.Time
	// staleGen is the generation of a socket that saw another client
	// restart the kernel: the next request takes a new socket first.
	staleGen uint64
	info     *KernelInfoReply
	err      error // set once: the Conn is finished

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Dial connects to the kernel ep names: it opens the channels WebSocket,
// starts the Conn's goroutines and returns once the kernel has answered a
// kernel_info_request (Conn.Info), within ctx and the handshake timeout.
// Most callers get a Conn from nbserv's Kernels.Connect or
// Sessions.Connect, which give Dial their client as the Endpoint.
func Dial(ctx context.Context, ep Endpoint, opts ...Option) (*Conn, error) {
	o := options{handshake: DefaultHandshakeTimeout, username: "go-nbserv", maxMessage: DefaultMaxBytes, maxOutput: DefaultMaxBytes,
		reconnect: DefaultReconnectTimeout, check: DefaultCheckInterval}
	for _, f := range opts {
		f(&o)
	}
	if o.invalid != nil {
		return nil, o.invalid
	}
	if o.sessionID == "" {
		o.sessionID = newUUID()
	}
	conn := &Conn{ep: ep, session: o.sessionID, o: o,
		pending: map[string]*request{}, changed: make(chan struct{})}
	conn.gatePrefix = o.sessionID + gateMark
	session, _ := json.Marshal(o.sessionID)
	user, _ := json.Marshal(o.username)
	conn.headerStart = fmt.Appendf(nil, `{"session":%s,"username":%s,"version":%q,"msg_id":`, session, user, ProtocolVersion)

	if o.handshake != NoTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.handshake)
		defer cancel()
	}
	ws, fr, err := conn.dial(ctx)
	if err != nil {
		return nil, err
	}
	run, cancel := context.WithCancel(context.Background())
	conn.cancel = cancel
	conn.attach(ws, fr)
	conn.wg.Add(1)
	go conn.supervise(run, ws, fr)
	if o.check > 0 {
		conn.wg.Add(1)
		go conn.monitor(run)
	}
	if err := conn.gate(ctx, conn.generation()); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// KernelID returns the id of the kernel the Conn talks to.
func (c *Conn) KernelID() string { return c.ep.KernelID() }

// SessionID returns the Conn's client session id (see WithSessionID).
func (c *Conn) SessionID() string { return c.session }

// Info returns the kernel_info_reply the kernel sent when the Conn
// (re)connected: its language, implementation and protocol version.
func (c *Conn) Info() *KernelInfoReply {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// Subprotocol returns the message format in use: ProtocolV1 or
// ProtocolLegacy.
func (c *Conn) Subprotocol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.frame.(v1Framing); ok {
		return ProtocolV1
	}
	return ProtocolLegacy
}

// Err returns why the Conn is finished (ErrConnClosed after Close,
// ErrKernelDead, or a failure to reconnect), or nil while it is usable.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// dial opens one WebSocket through the Endpoint, which sends the
// client's headers (the token) only to the server's origin.
func (c *Conn) dial(ctx context.Context) (*websocket.Conn, framing, error) {
	var subprotocols []string
	if c.o.protocol != ProtocolLegacy {
		subprotocols = []string{ProtocolV1}
	}
	ws, err := c.ep.DialChannels(ctx, c.session, subprotocols)
	if err != nil {
		return nil, nil, err
	}
	fr, err := framingFor(ws.Subprotocol())
	if err == nil && c.o.protocol == ProtocolV1 && ws.Subprotocol() != ProtocolV1 {
		err = fmt.Errorf("nbserv: kernel %s: the server does not speak %s", c.KernelID(), ProtocolV1)
	}
	if err != nil {
		ws.CloseNow()
		return nil, nil, err
	}
	// Reading is bounded by readFrame, which discards what is too large
	// instead of closing the connection as the library's limit would.
	ws.SetReadLimit(-1)
	return ws, fr, nil
}

// attach makes ws the current socket; requests wait until its gate opens.
func (c *Conn) attach(ws *websocket.Conn, fr framing) {
	c.mu.Lock()
	c.ws, c.frame = ws, fr
	c.gen++
	c.open = false
	c.lastRecv = time.Now()
	c.notifyLocked()
	c.mu.Unlock()
}

// notifyLocked wakes whoever waits for the socket's state to change.
func (c *Conn) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// down marks the socket of generation gen as gone, so requests wait for
// the next one.
func (c *Conn) down(gen uint64) {
	c.mu.Lock()
	if c.gen == gen && c.open {
		c.open = false
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// kick drops the current socket; the supervisor dials a new one.
func (c *Conn) kick() {
	c.mu.Lock()
	ws := c.ws
	c.staleGen = 0
	if c.open {
		c.open = false
		c.notifyLocked()
	}
	c.mu.Unlock()
	ws.CloseNow()
}

func (c *Conn) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// gate waits for the kernel to answer a kernel_info_request on the new
// socket, then lets requests through. Jupyter relays a socket's messages
// only once it has seen the kernel's IOPub flowing, so the first reply
// proves that outputs will arrive too. The request goes on control as well
// as shell, as Jupyter's own probe does: control answers even while the
// kernel runs code. It is repeated every second, since a kernel still
// starting may miss it, until a reply, a newer socket, or ctx's end.
func (c *Conn) gate(ctx context.Context, gen uint64) error {
	req := newRequest(1<<20, false)
	var ids []string
	defer func() { c.unregister(ids...) }()
	ask := func() error {
		for _, ch := range []Channel{ChannelControl, ChannelShell} {
			id, err := c.write(ctx, gen, ch, MsgKernelInfoRequest, struct{}{}, nil, req, gateMark)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	}
	if err := ask(); err != nil {
		return err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		m, err := req.poll()
		switch {
		case err != nil:
			return err
		case m != nil && m.Header.MsgType == MsgKernelInfoReply:
			info, err := decodeContent(MsgKernelInfoReply, m.Content)
			if err != nil {
				return fmt.Errorf("nbserv: kernel info: %w", err)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.err != nil {
				return c.err
			}
			if c.gen == gen {
				c.info = info.(*KernelInfoReply)
				c.open = true
				c.notifyLocked()
			}
			return nil
		case m != nil:
			continue // its status
		}
		select {
		case <-req.signal:
		case <-tick.C:
			if c.generation() != gen {
				return nil
			}
			if err := ask(); err != nil {
				return err
			}
		case <-ctx.Done():
			return fmt.Errorf("nbserv: waiting for kernel %s to answer: %w", c.KernelID(), ctx.Err())
		}
	}
}

// supervise reads the current socket, and when it fails, dials again with
// the same session id, until the Conn is finished.
func (c *Conn) supervise(ctx context.Context, ws *websocket.Conn, fr framing) {
	defer c.wg.Done()
	scratch := new([]byte)
	for {
		gen := c.generation()
		cause := c.readLoop(ctx, ws, fr, gen, scratch)
		c.down(gen)
		if ctx.Err() != nil || c.Err() != nil {
			ws.CloseNow()
			return
		}
		ws.CloseNow()
		var err error
		ws, fr, err = c.redial(ctx, cause)
		if err != nil {
			c.end(err)
			return
		}
		c.attach(ws, fr)
		gen = c.generation()
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			_ = c.gate(ctx, gen) // a failure here leaves the next socket to gate
		}()
	}
}

// redial dials until it succeeds or the reconnect timeout passes; a 403 or
// 404 ends it at once, as does a finished Conn.
func (c *Conn) redial(ctx context.Context, cause error) (*websocket.Conn, framing, error) {
	if c.o.reconnect < 0 {
		return nil, nil, fmt.Errorf("nbserv: kernel connection lost (reconnecting disabled): %w", cause)
	}
	if c.o.reconnect != NoTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.o.reconnect)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			wait, ok := c.ep.ReconnectWait(attempt-1, deadline)
			if !ok || transport.Sleep(ctx, wait) != nil {
				return nil, nil, fmt.Errorf("nbserv: kernel connection lost and not restored within %v: %w", c.o.reconnect, cause)
			}
		}
		if err := c.Err(); err != nil {
			return nil, nil, err
		}
		ws, fr, err := c.dial(ctx)
		if err == nil {
			return ws, fr, nil
		}
		cause = err
		if errors.Is(err, ErrNotFound) {
			return nil, nil, fmt.Errorf("%w: the kernel no longer exists: %w", ErrKernelDead, err)
		}
		if errors.Is(err, ErrUnauthorized) {
			return nil, nil, err
		}
	}
}

// gateMark marks the msg_ids of the gate's requests, whose late answers
// are dropped.
const gateMark = "_gate_"

// errReplace ends a readLoop whose socket must be replaced.
var errReplace = errors.New("nbserv: kernel socket replaced")

// readLoop reads and dispatches messages until the socket fails or must
// be replaced.
func (c *Conn) readLoop(ctx context.Context, ws *websocket.Conn, fr framing, gen uint64, scratch *[]byte) error {
	for {
		typ, r, err := ws.Reader(ctx)
		if err != nil {
			return err
		}
		frame, over, err := readFrame(r, c.o.maxMessage, scratch)
		if err != nil {
			return err
		}
		if over {
			c.tooLarge(fr, typ, frame)
			continue
		}
		if c.dispatch(fr.decode(typ, frame), int64(len(frame)), gen) {
			return errReplace
		}
	}
}

// Bounds of the frame reader: a routing prefix kept of a message too large
// to hold, and the reading buffer kept between messages.
const (
	routePrefix = 64 << 10
	keepScratch = 1 << 20
)

// readFrame reads one message into *scratch, growing it as bytes arrive
// (doubling while under half the limit, then straight to limit+1). Past
// limit bytes it keeps a prefix (over is true) and reads the rest through
// without holding it, so a message of any size allocates at most about
// 2 × limit in all, and does not break the connection.
func readFrame(r io.Reader, limit int64, scratch *[]byte) (frame []byte, over bool, err error) {
	limit = min(limit, math.MaxInt64-1)
	buf := (*scratch)[:0]
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				if _, err := io.Copy(io.Discard, r); err != nil {
					return nil, false, err
				}
				return buf[:min(len(buf), routePrefix)], true, nil
			}
			grow := int64(max(2*cap(buf), 4<<10))
			if grow > limit/2 {
				grow = limit + 1
			}
			next := make([]byte, len(buf), grow)
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			} else if err == io.EOF {
				err = nil
			}
			if err != nil {
				return nil, false, err
			}
			return buf[:min(len(buf), routePrefix)], true, nil
		}
		if err == io.EOF {
			if cap(buf) <= keepScratch {
				*scratch = buf
			} else {
				*scratch = nil
			}
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// tooLarge fails the request a discarded message belonged to, when its
// first bytes name it.
func (c *Conn) tooLarge(fr framing, typ websocket.MessageType, prefix []byte) {
	parent, msgType, ch := fr.route(typ, prefix)
	err := fmt.Errorf("%w: a %s message on %s of more than %d bytes (WithMaxMessageBytes) was discarded",
		ErrResponseTooLarge, strconv.Quote(msgType), strconv.Quote(string(ch)), c.o.maxMessage)
	c.mu.Lock()
	c.lastRecv = time.Now()
	req := c.pending[parent]
	handler := c.o.handler
	c.mu.Unlock()
	if req != nil {
		req.fail(err)
	} else if handler != nil {
		handler(&Message{Channel: ch, Header: Header{MsgType: msgType}, ParentHeader: Header{MsgID: parent}, Err: err})
	}
}

// dispatch routes one message to its request, or reacts to what it says
// about the kernel; it reports whether the socket must be replaced.
func (c *Conn) dispatch(m *Message, size int64, gen uint64) (replace bool) {
	c.mu.Lock()
	c.lastRecv = time.Now()
	req := c.pending[m.ParentHeader.MsgID]
	handler := c.o.handler
	c.mu.Unlock()
	if m.Err == nil && req != nil && m.ParentHeader.MsgID != "" && (req.keep == nil || req.keep(m)) {
		req.push(m, size)
		return false
	}
	if m.Err == nil && strings.HasPrefix(m.ParentHeader.MsgID, c.gatePrefix) {
		return false // a late answer to a gate: the Conn's own business
	}
	if m.Err == nil && m.Channel == ChannelIOPub {
		switch m.Header.MsgType {
		case MsgStatus:
			var st Status
			_ = json.Unmarshal(m.Content, &st)
			switch st.ExecutionState {
			case StateRestarting:
				// Jupyter restarts a kernel that died; what was running is
				// lost, and, as JupyterLab does, we reconnect, since Jupyter
				// refreshes its kernel sockets only for a new WebSocket.
				c.down(gen) // first, so that no request goes out on this socket
				c.failPending(fmt.Errorf("%w: the kernel died and Jupyter is restarting it", ErrKernelRestarted))
				replace = true
			case StateDead:
				c.end(fmt.Errorf("%w: the kernel died and could not be restarted", ErrKernelDead))
			}
		case MsgShutdownReply:
			// ipykernel broadcasts its shutdown_reply: someone deleted or
			// restarted the kernel. Jupyter keeps a deleted kernel's
			// WebSocket open and silent, so this is the only word of it.
			var sr ShutdownReply
			_ = json.Unmarshal(m.Content, &sr)
			if sr.Restart {
				c.mu.Lock()
				c.staleGen = gen
				c.mu.Unlock()
				c.failPending(fmt.Errorf("%w: the kernel is being restarted", ErrKernelRestarted))
			} else {
				c.end(fmt.Errorf("%w: the kernel was shut down", ErrKernelDead))
			}
		}
	}
	if handler != nil {
		handler(m)
	}
	return replace
}

// failPending ends every request in flight with err.
func (c *Conn) failPending(err error) {
	c.mu.Lock()
	pend := c.pending
	c.pending = map[string]*request{}
	c.mu.Unlock()
	for _, r := range pend {
		r.fail(err)
	}
}

// finish ends the Conn with err (once): requests in flight fail with it.
// The caller then stops the goroutines (end or Close).
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	c.notifyLocked()
	pend := c.pending
	c.pending = map[string]*request{}
	c.mu.Unlock()
	for _, r := range pend {
		r.fail(err)
	}
}

// end finishes the Conn with err and stops its goroutines, closing the
// socket at once.
func (c *Conn) end(err error) {
	c.finish(err)
	c.cancel()
}

// monitor asks the REST API about the kernel when requests have waited
// in silence for the check interval: Jupyter does not close the WebSocket
// of a kernel that is gone.
func (c *Conn) monitor(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.o.check)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		waiting := len(c.pending) > 0 && time.Since(c.lastRecv) >= c.o.check
		c.mu.Unlock()
		if !waiting {
			continue
		}
		if err := c.ep.Check(ctx); errors.Is(err, ErrKernelDead) {
			c.end(err)
		}
	}
}

// Close closes the connection; requests in flight fail with
// ErrConnClosed. The kernel keeps running, and Jupyter keeps what it sends
// for this session id until another client connects. Close waits for the
// Conn's goroutines to end.
func (c *Conn) Close() error {
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	c.finish(ErrConnClosed)
	if ws != nil {
		// A closing handshake the server answers, then the goroutines stop.
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}
	c.cancel()
	c.wg.Wait()
	return nil
}

// write sends one message on the socket of generation gen (0: the current
// one, once its gate is open), registering req, if any, under its msg_id
// first so that no answer can outrun it. It returns the msg_id.
func (c *Conn) write(ctx context.Context, gen uint64, ch Channel, msgType string, content any, parent json.RawMessage, req *request, mark ...string) (string, error) {
	body, err := json.Marshal(content)
	if err != nil {
		return "", fmt.Errorf("nbserv: encoding %s: %w", msgType, err)
	}
	ws, fr, err := c.socket(ctx, gen)
	if err != nil {
		return "", err
	}
	id := c.session + "_" + strconv.FormatUint(c.seq.Add(1), 10)
	if len(mark) > 0 {
		id = c.session + mark[0] + strconv.FormatUint(c.seq.Add(1), 10)
	}
	if parent == nil {
		parent = json.RawMessage("{}")
	}
	p := outParts{header: c.header(id, msgType), parent: parent, metadata: []byte("{}"), content: body}
	typ, frame := fr.encode(ch, &p)
	if req != nil {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return "", err
		}
		c.pending[id] = req
		c.mu.Unlock()
	}
	// Writing is not bounded by ctx: a write cut off midway would break
	// the socket for every request on it. The socket's own failure, or
	// Close, ends a stuck write.
	if err := ws.Write(context.Background(), typ, frame); err != nil {
		c.unregister(id)
		if e := c.Err(); e != nil {
			return "", e
		}
		// The frame may have reached the server before the socket failed.
		return "", transport.OutcomeUnknown(fmt.Errorf("nbserv: sending %s: %w", msgType, err))
	}
	return id, nil
}

// header makes the header of an outgoing message.
func (c *Conn) header(id, msgType string) []byte {
	b := make([]byte, 0, len(c.headerStart)+len(id)+len(msgType)+64)
	b = append(b, c.headerStart...)
	b = appendQuotedJSON(b, id)
	b = append(b, `,"msg_type":`...)
	b = appendQuotedJSON(b, msgType)
	b = append(b, `,"date":"`...)
	b = time.Now().UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	return append(b, `"}`...)
}

// appendJSONString appends s as a JSON string.
func appendQuotedJSON(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// socket returns the socket to write on: that of generation gen, or, for
// gen 0, the current one once its gate is open (redialling first when
// another client restarted the kernel).
func (c *Conn) socket(ctx context.Context, gen uint64) (*websocket.Conn, framing, error) {
	for {
		c.mu.Lock()
		ws, fr, open, cur, changed, err := c.ws, c.frame, c.open, c.gen, c.changed, c.err
		stale := c.staleGen == cur
		c.mu.Unlock()
		switch {
		case err != nil:
			return nil, nil, err
		case gen != 0 && gen != cur:
			return nil, nil, errReplace
		case gen != 0:
			return ws, fr, nil
		case stale && open:
			// Jupyter may not relay the restarted kernel's IOPub on this
			// socket: take a new one, as JupyterLab does.
			c.kick()
			continue
		case open:
			return ws, fr, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("nbserv: waiting for the kernel connection: %w", ctx.Err())
		}
	}
}

// unregister forgets requests: later messages for them go to the handler.
func (c *Conn) unregister(ids ...string) {
	c.mu.Lock()
	for _, id := range ids {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// request collects the messages whose parent is one request of ours, for
// the goroutine waiting on it.
type request struct {
	limit  int64
	retain bool // bytes stay counted once consumed (Execute keeps them all)
	// keep, when set, says which of the request's messages it wants; the
	// others go to the message handler.
	keep   func(*Message) bool
	signal chan struct{}

	mu    sync.Mutex
	queue []queued
	bytes int64
	err   error // set once: no more messages will come
}

type queued struct {
	m    *Message
	size int64
}

func newRequest(limit int64, retain bool) *request {
	return &request{limit: limit, retain: retain, signal: make(chan struct{}, 1)}
}

func (r *request) wake() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// push queues m, or fails the request when m would take its bytes past
// the limit.
func (r *request) push(m *Message, size int64) {
	r.mu.Lock()
	if r.err == nil {
		if r.bytes+size > r.limit {
			// What is queued stays, for the waiter to take before the error.
			r.err = fmt.Errorf("%w: the request's messages passed %d bytes (WithMaxOutputBytes); the kernel may still be running it (Conn.Interrupt stops it)",
				ErrResponseTooLarge, r.limit)
		} else {
			r.bytes += size
			r.queue = append(r.queue, queued{m, size})
		}
	}
	r.mu.Unlock()
	r.wake()
}

// fail ends the request with err, after what is already queued.
func (r *request) fail(err error) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	r.wake()
}

// poll returns the next queued message, nil when none is, or the
// request's error once the queue is empty.
func (r *request) poll() (*Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.queue) > 0 {
		q := r.queue[0]
		r.queue[0] = queued{}
		r.queue = r.queue[1:]
		if !r.retain {
			r.bytes -= q.size
		}
		return q.m, nil
	}
	return nil, r.err
}

// next waits for the next message.
func (r *request) next(ctx context.Context) (*Message, error) {
	for {
		m, err := r.poll()
		if m != nil || err != nil {
			return m, err
		}
		select {
		case <-r.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Request sends a message of any type on ch and returns the first message
// that answers it on the same channel (its reply), for the requests that
// have no method of their own (comm_info_request, history_request, …).
// Other messages with it as parent (its status, outputs) are not kept.
func (c *Conn) Request(ctx context.Context, ch Channel, msgType string, content any) (*Message, error) {
	req := newRequest(c.o.maxOutput, false)
	id, err := c.write(ctx, 0, ch, msgType, content, nil, req)
	if err != nil {
		return nil, err
	}
	defer c.unregister(id)
	for {
		m, err := req.next(ctx)
		if err != nil {
			return nil, waitErr(msgType, id, err)
		}
		if m.Channel == ch {
			return m, nil
		}
	}
}

// Send sends a message of any type on ch without waiting for anything,
// and returns its msg_id (comm_msg, comm_close, …). Messages with it as
// parent go to the message handler (WithMessageHandler).
func (c *Conn) Send(ctx context.Context, ch Channel, msgType string, content any) (string, error) {
	return c.write(ctx, 0, ch, msgType, content, nil, nil)
}

// reply sends a request and decodes its reply into T.
func reply[T Content](ctx context.Context, c *Conn, ch Channel, msgType string, content any) (T, error) {
	var zero T
	m, err := c.Request(ctx, ch, msgType, content)
	if err != nil {
		return zero, err
	}
	if err := c.checkCost(m); err != nil {
		return zero, err
	}
	v, err := m.Decode()
	if err != nil {
		return zero, err
	}
	t, ok := v.(T)
	if !ok {
		return zero, fmt.Errorf("nbserv: %s answered with %s", msgType, strconv.Quote(m.Header.MsgType))
	}
	return t, nil
}

// checkCost refuses content whose decoded values could take more than
// the decoding budget (8 × MaxMessageBytes), as the REST calls do.
func (c *Conn) checkCost(m *Message) error {
	if over, cost, budget := transport.OverBudget(m.Content, c.o.maxMessage); over {
		return fmt.Errorf("%w: %s content of %d bytes whose values could take %d bytes decoded, over %d (8 × MaxMessageBytes)",
			ErrResponseTooLarge, m.Header.MsgType, len(m.Content), cost, budget)
	}
	return nil
}

// waitErr explains an error that ended a wait: a cancelled wait leaves
// the kernel running the request.
func waitErr(msgType, id string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("nbserv: stopped waiting for %s %s: %w; the kernel may still be running it (Conn.Interrupt stops it)", msgType, id, err)
	}
	return err
}

// KernelInfo asks the kernel what it is (kernel_info_request on shell).
func (c *Conn) KernelInfo(ctx context.Context) (*KernelInfoReply, error) {
	return reply[*KernelInfoReply](ctx, c, ChannelShell, MsgKernelInfoRequest, struct{}{})
}

// Complete asks for the completions of code at cursorPos, counted in
// runes (Unicode code points) as the protocol counts; a negative cursorPos
// means the end of code.
func (c *Conn) Complete(ctx context.Context, code string, cursorPos int) (*CompleteReply, error) {
	if cursorPos < 0 {
		cursorPos = len([]rune(code))
	}
	return reply[*CompleteReply](ctx, c, ChannelShell, MsgCompleteRequest, &CompleteRequest{Code: code, CursorPos: cursorPos})
}

// Inspect asks for help on the name at cursorPos in code (runes; negative
// means the end), at detailLevel 0 or 1.
func (c *Conn) Inspect(ctx context.Context, code string, cursorPos, detailLevel int) (*InspectReply, error) {
	if cursorPos < 0 {
		cursorPos = len([]rune(code))
	}
	return reply[*InspectReply](ctx, c, ChannelShell, MsgInspectRequest, &InspectRequest{Code: code, CursorPos: cursorPos, DetailLevel: detailLevel})
}

// Interrupt interrupts the code the kernel is running (POST
// /api/kernels/{id}/interrupt): a running Execute then ends with the
// kernel's KeyboardInterrupt as a *Error.
func (c *Conn) Interrupt(ctx context.Context, opts ...CallOption) error {
	return c.ep.Interrupt(ctx, opts...)
}

// Restart restarts the kernel (POST /api/kernels/{id}/restart), which
// loses its state; requests in flight end with ErrKernelRestarted. Restart
// returns once the Conn is connected to the new kernel and it answered,
// so the next Execute runs there.
func (c *Conn) Restart(ctx context.Context, opts ...CallOption) error {
	if err := c.ep.Restart(ctx, opts...); err != nil {
		return err
	}
	c.failPending(fmt.Errorf("%w: Restart", ErrKernelRestarted))
	// Jupyter refreshes its kernel sockets only for a new WebSocket: take
	// one, as JupyterLab does, and wait for the new kernel's answer.
	c.kick()
	_, _, err := c.socket(ctx, 0)
	return err
}
