package kernel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Requests: what a call waiting for its answers holds, and the calls
// that send a request and wait (Request, KernelInfo, Complete, Inspect)
// or act on the kernel through the Endpoint (Interrupt, Restart).

// request collects the messages whose parent is one request of ours, for
// the goroutine waiting on it.
type request struct {
	limit  int64
	retain bool // bytes stay counted once consumed (Execute keeps them all)
	// keep, when set, says which of the request's messages it wants; the
	// others go to the message handler.
	keep   func(*Message) bool
	signal chan struct{}
	// gen is the generation of the socket the request went out on, and
	// heard whether a message of it came back on that socket (both under
	// the Conn's lock); internal marks the Conn's own probes.
	gen      uint64
	heard    bool
	internal bool
	// moved is set (under the Conn's lock) once a message of the request
	// came on a socket other than the one it went out on.
	moved bool
	// ch and msgType are what went out; sent is set (under the Conn's
	// lock) once the message is out, so that a request whose socket
	// dropped is settled (see settle) only when it was sent on it.
	ch      Channel
	msgType string
	sent    bool

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
// /api/kernels/{id}/interrupt, through the Endpoint): a running Execute
// then ends with the kernel's KeyboardInterrupt as a *Error. It fails as
// nbserv's Kernels.Interrupt does: a kernel the server no longer knows
// matches ErrNotFound.
func (c *Conn) Interrupt(ctx context.Context, opts ...CallOption) error {
	return c.ep.Interrupt(ctx, opts...)
}

// Restart restarts the kernel (POST /api/kernels/{id}/restart, through
// the Endpoint), which loses its state; it fails as nbserv's
// Kernels.Restart does (a kernel the server no longer knows matches
// ErrNotFound). On success, requests in flight end with
// ErrKernelRestarted, and Restart returns once the Conn is connected to
// the new kernel and it answered, so the next Execute runs there.
func (c *Conn) Restart(ctx context.Context, opts ...CallOption) error {
	if err := c.ep.Restart(ctx, opts...); err != nil {
		return err
	}
	c.failPending(fmt.Errorf("%w: Restart", ErrKernelRestarted))
	// Jupyter refreshes its kernel sockets only for a new WebSocket: take
	// one, as JupyterLab does, and wait for the new kernel's answer.
	c.kick()
	_, err := c.socket(ctx, 0)
	return err
}
