package kernel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Opening the channels WebSocket, the gate every new socket passes
// before requests go out on it, and keeping the connection: reconnecting
// after a drop, and asking the server about a kernel gone silent.

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
