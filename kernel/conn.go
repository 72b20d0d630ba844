package kernel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Conn is a connection to a kernel's channels (GET
// /api/kernels/{id}/channels, a WebSocket): run code with Execute,
// answer input with WithStdin, and ask for kernel info, completions and
// help. It is safe for concurrent use: replies and outputs are routed to
// their request by the parent header's msg_id. Close it when done.
//
// A dropped WebSocket is restored with the same session id, and Jupyter
// replays what the kernel sent meanwhile, so requests in flight lose
// nothing (when this Conn was the kernel's only connection: Jupyter
// buffers only then). What Jupyter wrote into the failing socket before
// it saw it close is lost: a request whose answers went that way ends
// with an error matching ErrOutcomeUnknown (and is not sent again) once
// the kernel has answered a request sent after it on the restored socket,
// which it handles after it (each channel's requests in order, as
// ipykernel does); an execution whose reply came but which cannot be
// proven to have lost nothing else ends with ErrOutputMayBeLost. A kernel restart or death ends the requests in
// flight with ErrKernelRestarted or ErrKernelDead instead of leaving them
// waiting.
//
// Memory, each bound tested: reading a message allocates at most about
// 2 × MaxMessageBytes, whatever its size (a larger one is read through
// and discarded); each request in flight holds at most MaxOutputBytes of
// messages; typed contents are decoded only when their values fit in
// 8 × MaxMessageBytes (as the REST client bounds its decoding). Nothing else is
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

	mu   sync.Mutex
	sock *sock  // the current socket
	gen  uint64 // counts sockets, so that a late gate can tell
	open bool   // the current socket's gate is open: requests may go
	// answered is the generation of the last socket whose gate opened: a
	// socket that ends before its gate opens is a failed attempt.
	answered uint64
	// answeredAt is when it opened.
	answeredAt time.Time
	changed    chan struct{} // closed and replaced when the above change
	pending    map[string]*request
	// lastRecv is when a message last arrived.
	lastRecv time.Time
	// iopub counts the IOPub messages of the current socket: replies alone
	// do not prove that a socket relays the kernel's outputs.
	iopub uint64
	// staleGen is the generation of a socket that saw another client
	// restart the kernel: the next request takes a new socket first.
	staleGen uint64
	// settled holds, per barrier class (see settle), the newest socket
	// generation on which the kernel answered a request sent after those
	// of older sockets: what those still wait for is lost.
	settled [2]uint64
	// seqs holds the kernel's message numbers received while executions
	// are in flight, to prove them complete across a socket change.
	seqs seqLog
	info *KernelInfoReply
	err  error // set once: the Conn is finished

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Dial connects to the kernel ep names: it opens the channels WebSocket,
// starts the Conn's goroutines and returns once the kernel has answered a
// kernel_info_request (Conn.Info) and the socket has brought IOPub (the
// kernel's status around that request), within ctx and the handshake
// timeout.
// Most callers get a Conn from nbserv's Kernels.Connect or
// Sessions.Connect, which give Dial their client as the Endpoint.
func Dial(ctx context.Context, ep Endpoint, opts ...Option) (*Conn, error) {
	o := options{handshake: DefaultHandshakeTimeout, username: "go-nbserv", maxMessage: DefaultMaxBytes, maxOutput: DefaultMaxBytes,
		reconnect: DefaultReconnectTimeout, check: DefaultCheckInterval, writeIdle: DefaultWriteInactivity}
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
	err = conn.gate(ctx, conn.generation(), nil)
	if errors.Is(err, errReplace) {
		// The first socket ended before the kernel answered on it: wait,
		// within ctx, for a newer socket's gate to open the Conn.
		if _, err = conn.socket(ctx, 0); err != nil {
			err = fmt.Errorf("nbserv: kernel %s: its first socket closed before the kernel answered, and no later one opened: %w", conn.KernelID(), err)
		}
	}
	if err != nil {
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
	if _, ok := c.sock.fr.(v1Framing); ok {
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

// attach makes ws the current socket; requests wait until its gate opens.
func (c *Conn) attach(ws *websocket.Conn, fr framing) {
	c.mu.Lock()
	c.gen++
	c.sock = &sock{ws: ws, fr: fr, gen: c.gen, turn: make(chan struct{}, 1)}
	c.open = false
	c.lastRecv = time.Now()
	c.iopub = 0
	c.notifyLocked()
	c.mu.Unlock()
}

// iopubSeen returns how many IOPub messages the socket of generation gen
// has brought, and whether it is still the current one.
func (c *Conn) iopubSeen(gen uint64) (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.iopub, c.gen == gen
}

// notifyLocked wakes whoever waits for the socket's state to change.
func (c *Conn) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// sock is one WebSocket of the Conn.
type sock struct {
	ws  *websocket.Conn
	fr  framing
	gen uint64
	// turn is held by the write in progress: a message goes out whole
	// before the next starts, and a writer waiting for its turn can give up.
	turn chan struct{}
	// gone is set once the socket is dropped: a writer that gets its turn
	// then sends nothing and takes the next socket.
	gone atomic.Bool
}

// down marks the socket of generation gen as gone, so requests wait for
// the next one.
func (c *Conn) down(gen uint64) {
	c.mu.Lock()
	if c.sock.gen == gen {
		c.sock.gone.Store(true)
	}
	if c.gen == gen && c.open {
		c.open = false
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// kick drops the current socket; the supervisor dials a new one.
func (c *Conn) kick() {
	c.mu.Lock()
	ws := c.sock.ws
	c.sock.gone.Store(true)
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

// drop drops the socket of generation gen, if it is still the current
// one; the supervisor dials a new one.
func (c *Conn) drop(gen uint64) {
	c.down(gen)
	c.mu.Lock()
	s := c.sock
	c.mu.Unlock()
	if s.gen == gen {
		s.ws.CloseNow()
	}
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

// Close closes the connection; requests in flight fail with
// ErrConnClosed. The kernel keeps running, and Jupyter keeps what it sends
// for this session id until another client connects. Close waits for the
// Conn's goroutines to end.
func (c *Conn) Close() error {
	c.mu.Lock()
	s := c.sock
	c.mu.Unlock()
	c.finish(ErrConnClosed)
	switch {
	case s == nil:
	case len(s.turn) > 0:
		// A message is being written (perhaps to a peer that reads
		// nothing): a closing handshake would wait behind it.
		s.ws.CloseNow()
	default:
		// A closing handshake the server answers, then the goroutines stop.
		_ = s.ws.Close(websocket.StatusNormalClosure, "")
	}
	c.cancel()
	c.wg.Wait()
	return nil
}
