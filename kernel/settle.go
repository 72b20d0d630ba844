package kernel

import (
	"context"
	"fmt"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Settling the requests a dropped socket carried. Jupyter keeps what the
// kernel sends for a session only once that session's socket has closed
// on its side; what it wrote into the socket while it was failing is lost
// (docs/wire/kernel-channels.md KC72).
// A request whose reply or idle status went that way would wait for its
// context on the restored socket, though the kernel was long done with it.
// The kernel handles each channel's requests in order (ipykernel does):
// once it has answered, on the restored socket, a request sent there
// after the dropped socket's, whatever it sent for those came before that
// answer, or never will.

// Barrier classes: the channel whose order settles a request.
const (
	barrierShell   = 0 // shell, and what waits on stdin (an execution's input_request)
	barrierControl = 1
)

func barrierOf(ch Channel) int {
	if ch == ChannelControl {
		return barrierControl
	}
	return barrierShell
}

// markSent records that req's message is out. A request whose socket was
// settled while it was being written (the frame went out just before the
// socket closed) ends as the settled ones did.
func (c *Conn) markSent(id string, req *request) {
	c.mu.Lock()
	req.sent = true
	late := !req.internal && req.gen < c.settled[barrierOf(req.ch)]
	if late && c.pending[id] == req {
		delete(c.pending, id)
	}
	c.mu.Unlock()
	if late {
		req.fail(lostErr(req, id))
	}
}

// orphans reports, per barrier class, whether a request of the user's
// waits that went out (or is going out) on a socket older than gen.
func (c *Conn) orphans(gen uint64) (need [2]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range c.pending {
		if !r.internal && r.gen < gen {
			need[barrierOf(r.ch)] = true
		}
	}
	return need
}

// settle sends a kernel_info_request on the socket of generation gen, on
// shell, and on control when a request waits on control, for the requests
// sent on older sockets; once the kernel has answered one on its channel
// (and, for shell, its busy status on IOPub has come, which follows the
// idle status of every earlier execution), the requests of that channel
// still waiting end with an error matching ErrOutcomeUnknown: what the
// kernel sent for them is lost. settle returns then, when a newer socket
// takes over (whose own settle covers these requests), when the Conn is
// finished, or with ctx. It waits as long as the kernel takes to reach
// the request in its queue: a request still running is not settled.
func (c *Conn) settle(ctx context.Context, gen uint64) {
	need := c.orphans(gen)
	if !need[barrierShell] && !need[barrierControl] {
		return
	}
	req := newRequest(1<<20, false)
	req.internal = true
	class := map[string]int{}
	defer func() {
		for id := range class {
			c.unregister(id)
		}
	}()
	done := [2]bool{!need[barrierShell], !need[barrierControl]}
	for cls, ch := range [2]Channel{ChannelShell, ChannelControl} {
		if done[cls] {
			continue
		}
		id, err := c.write(ctx, gen, ch, MsgKernelInfoRequest, struct{}{}, nil, req, gateMark)
		if err != nil {
			return // a newer socket, or the Conn's end
		}
		class[id] = cls
	}
	var replied, iopub [2]bool
	for {
		for {
			m, err := req.poll()
			if err != nil {
				return
			}
			if m == nil {
				break
			}
			cls, ok := class[m.ParentHeader.MsgID]
			switch {
			case !ok:
			case m.Channel == ChannelIOPub:
				iopub[cls] = true
			case m.Header.MsgType == MsgKernelInfoReply:
				replied[cls] = true
			}
		}
		for cls := range done {
			// Control's requests wait for their reply alone; shell's
			// executions wait for their idle status as well.
			if !done[cls] && replied[cls] && (cls == barrierControl || iopub[cls]) {
				c.settleOlder(gen, cls)
				done[cls] = true
			}
		}
		if done[barrierShell] && done[barrierControl] {
			return
		}
		c.mu.Lock()
		changed, cur, finished := c.changed, c.gen, c.err != nil
		c.mu.Unlock()
		if cur != gen || finished {
			return
		}
		select {
		case <-req.signal:
		case <-changed:
		case <-ctx.Done():
			return
		}
	}
}

// settleOlder ends the requests of barrier class cls sent on sockets
// older than gen and still waiting: what the kernel sent for them is lost.
func (c *Conn) settleOlder(gen uint64, cls int) {
	type lost struct {
		id string
		r  *request
	}
	var fail []lost
	c.mu.Lock()
	c.settled[cls] = max(c.settled[cls], gen)
	for id, r := range c.pending {
		if !r.internal && r.sent && r.gen < gen && barrierOf(r.ch) == cls {
			fail = append(fail, lost{id, r})
			delete(c.pending, id)
		}
	}
	c.mu.Unlock()
	for _, l := range fail {
		l.r.fail(lostErr(l.r, l.id)) // after what already came for it
	}
}

// lostErr is the error of a request whose answer was lost with its socket.
func lostErr(r *request, id string) error {
	return transport.OutcomeUnknown(fmt.Errorf("nbserv: the socket that carried %s %s dropped, and what the kernel sent for it was lost with it (the kernel has since answered a later request on the restored socket); the kernel may have run it, and it is not sent again", r.msgType, id))
}
