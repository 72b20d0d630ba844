package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Reading: one goroutine reads the current socket, bounds each message,
// and routes it to its request or reacts to what it says about the kernel.

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
	if m.Err == nil && m.Channel == ChannelIOPub && c.gen == gen {
		c.iopub++
	}
	if m.Err == nil {
		c.seqs.add(&m.Header)
	}
	req := c.pending[m.ParentHeader.MsgID]
	if req != nil && req.gen == gen {
		req.heard = true
	} else if req != nil {
		req.moved = true
	}
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
