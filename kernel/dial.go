package kernel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
		err = fmt.Errorf("nbserv: kernel %s: the server does not speak %s: %w", c.KernelID(), ProtocolV1, ErrNotSupported)
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
// socket, and for the socket to bring IOPub, then lets requests through:
// a reply alone does not prove that outputs will arrive (a socket opened
// just after Jupyter restarted a kernel can relay the replies and no
// IOPub), while the kernel's busy and idle status around the request,
// or any other IOPub message, does. The request goes on control as well
// as shell, as Jupyter's own probe does: control answers, with its status,
// even while the kernel runs code. It is repeated every second, since a
// kernel still starting may miss it, until the kernel has answered and
// IOPub has come, a newer socket (errReplace), ctx's end, or, for a restore
// (w not nil), what w decides of a kernel that leaves it unanswered. An
// answer without IOPub is asked again too, as Jupyter's nudge does: a
// socket Jupyter did not nudge (the kernel was busy as it opened) relays
// only what the kernel publishes once the server's IOPub subscription is in
// place, which can come after the statuses of the first asks
// (docs/wire/kernel-channels.md KC99).
func (c *Conn) gate(ctx context.Context, gen uint64, w *gateWait) error {
	req := newRequest(1<<20, false)
	req.internal = true
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
		// Only the latest asks stay registered, so a silent socket does
		// not pile them up; a late answer to an older one is dropped.
		if n := len(ids) - gateKeep; n > 0 {
			c.unregister(ids[:n]...)
			ids = append(ids[:0], ids[n:]...)
		}
		return nil
	}
	var info *KernelInfoReply
	// expiredErr says what the gate was waiting for when ctx ended, even
	// when ctx ended during an ask.
	expiredErr := func() error {
		if info != nil {
			return fmt.Errorf("nbserv: kernel %s answered, but no IOPub message came on the socket: %w", c.KernelID(), ctx.Err())
		}
		return fmt.Errorf("nbserv: waiting for kernel %s to answer: %w", c.KernelID(), ctx.Err())
	}
	if err := ask(); err != nil {
		if ctx.Err() != nil {
			return expiredErr()
		}
		return err
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var round <-chan time.Time
	var expired <-chan struct{}
	if w != nil {
		t := time.NewTimer(w.round)
		defer t.Stop()
		round, expired = t.C, w.expired
		w.reset = func() { t.Reset(w.round) }
	}
	// patient: the server reports the kernel busy, so the asks already
	// sent wait in its queue; more would only pile up there.
	patient := false
	// relayed counts the rounds the kernel left unanswered while the
	// socket brought its IOPub messages, and seen the IOPub count at the
	// round's start.
	relayed := 0
	seen, _ := c.iopubSeen(gen)
	for {
		for info == nil {
			m, err := req.poll()
			if err != nil {
				return err
			}
			if m == nil {
				break
			}
			if m.Header.MsgType == MsgKernelInfoReply {
				v, err := decodeContent(MsgKernelInfoReply, m.Content)
				if err != nil {
					return fmt.Errorf("nbserv: kernel info: %w", err)
				}
				info = v.(*KernelInfoReply)
			}
		}
		if n, _ := c.iopubSeen(gen); info != nil && n > 0 {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.err != nil {
				return c.err
			}
			if c.gen == gen {
				c.info = info
				c.open = true
				c.answered, c.answeredAt = gen, time.Now()
				c.notifyLocked()
			}
			return nil
		}
		select {
		case <-req.signal:
		case <-tick.C:
			if c.generation() != gen {
				// The newer socket's own gate opens the Conn, or not.
				return errReplace
			}
			if n, _ := c.iopubSeen(gen); (info == nil || n == 0) && !patient {
				if err := ask(); err != nil {
					if ctx.Err() != nil {
						return expiredErr()
					}
					return err
				}
			}
		case <-round:
			n, _ := c.iopubSeen(gen)
			moved := n != seen
			seen = n
			switch {
			case w.busy():
				patient = true
			case patient:
				// No longer busy: its answers to the asks may be on the
				// way; ask again, and decide after another round.
				patient = false
			case moved && relayed < w.relayRounds():
				// The socket relays the kernel's IOPub: the kernel is
				// working through requests queued before our asks (Jupyter
				// holds a socket's messages until its nudge is over, while
				// the nudges of other sockets queue theirs in the kernel:
				// docs/wire/kernel-channels.md KC46, KC98). Dropping the
				// socket now would make Jupyter replace it as stale, and
				// lose what it has not read of it yet.
				relayed++
			default:
				return fmt.Errorf("%w within %v", errUnanswered, w.round)
			}
			w.reset()
		case <-expired:
			expired = nil
			if w.restored(gen) {
				continue
			}
			if errors.Is(w.restoreErr(), context.Canceled) {
				return errReplace // the socket ended; the supervisor goes on
			}
			if !w.busy() {
				// Not the caller's deadline: the error does not wrap it.
				return errRestoreExpired
			}
			patient = true
		case <-ctx.Done():
			return expiredErr()
		}
	}
}

// supervise reads the current socket, and when it fails, restores the
// connection with the same session id, until the Conn is finished. A
// restore starts when a socket the kernel answered on ends, and lasts
// until the kernel answers on a new one, within the reconnect timeout: a
// socket that ends before the kernel answered on it is a failed attempt,
// and the next one waits as after a failed dial.
func (c *Conn) supervise(ctx context.Context, ws *websocket.Conn, fr framing) {
	defer c.wg.Done()
	scratch := new([]byte)
	restore, stop := ctx, context.CancelFunc(func() {})
	defer func() { stop() }()
	attempt := 0
	for {
		gen := c.generation()
		cause := c.readLoop(ctx, ws, fr, gen, scratch)
		c.down(gen)
		ws.CloseNow()
		if ctx.Err() != nil || c.Err() != nil {
			return
		}
		answered, lived := c.answeredOn(gen)
		switch {
		case answered && c.o.reconnect < 0:
			c.end(fmt.Errorf("nbserv: kernel connection lost (reconnecting disabled): %w", cause))
			return
		case answered:
			stop()
			restore, stop = c.restoreContext(ctx)
			// A socket dropped right after the kernel answered on it (a
			// proxy that closes every socket once it has carried a few
			// messages) does not reset the backoff.
			if lived >= stableSocket {
				attempt = 0
			} else {
				attempt++
			}
		default:
			attempt++
		}
		var err error
		ws, fr, err = c.redial(restore, &attempt, cause)
		if err != nil {
			c.end(err)
			return
		}
		c.attach(ws, fr)
		gen = c.generation()
		c.wg.Add(1)
		go func(restore context.Context) {
			defer c.wg.Done()
			if c.gateRestored(ctx, restore, gen) {
				c.settle(ctx, gen)
			}
		}(restore)
	}
}

// restoreContext bounds a restore by the reconnect timeout.
func (c *Conn) restoreContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.o.reconnect == NoTimeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.o.reconnect)
}

// stableSocket is how long a socket must have been open for requests
// before its end restores the connection without waiting first.
const stableSocket = time.Second

// answeredOn reports whether the kernel answered on the socket of
// generation gen, and how long ago.
func (c *Conn) answeredOn(gen uint64) (bool, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.answered != gen {
		return false, 0
	}
	return true, time.Since(c.answeredAt)
}

// gateRestored gates a socket of a restore: the kernel must answer on it,
// and IOPub come, within the check interval (at least 2 s) and the
// handshake timeout, the shorter (a round), and what is left of the
// restore. A socket that does not is dropped, a failed attempt, and
// another is dialled: Jupyter Server 1.23.3 can leave a socket opened
// while it restarts a kernel without any answer, while the next one
// works. When the restore's time is up, the Conn ends.
//
// Unless the server reports the kernel busy, or starting (GET
// /api/kernels/{id}): a
// kernel running code answers a kernel_info_request on shell only once
// done, and ipykernel's on control not while C code holds the GIL, so
// Jupyter does not nudge a busy kernel on a new socket either
// (docs/wire/kernel-channels.md KC71). The server
// accepted the socket, and has the kernel: the restore is over (the
// reconnect timeout no longer applies, and the socket's end starts a new
// restore), and the gate waits for the kernel's answer, asking the server
// again each round; once it no longer reports the kernel busy, the kernel
// has one more round to answer, and more while the socket brings its IOPub
// messages, up to relayWait. It reports whether the gate opened; run
// bounds it all (the Conn's life).
func (c *Conn) gateRestored(run, restore context.Context, gen uint64) bool {
	bound := c.o.handshake
	if c.o.check > 0 {
		// Not below two asks of the gate: a check interval set short to
		// notice a dead kernel quickly must not fail every new socket.
		bound = min(bound, max(c.o.check, 2*time.Second))
	}
	w := &gateWait{round: bound, expired: restore.Done(), restoreErr: restore.Err,
		busy: func() bool {
			ctx, cancel := context.WithTimeout(run, bound)
			defer cancel()
			state, err := c.ep.ExecutionState(ctx)
			// Jupyter 1.23.3 can report a kernel it started "starting"
			// while it runs a cell, until it has seen one of the kernel's
			// status messages itself; 2.21.1's own nudge waits while it is.
			if err != nil || state != StateBusy && state != StateStarting {
				return false
			}
			c.restoredBusy(gen)
			return true
		},
		restored: func(gen uint64) bool {
			answered, _ := c.answeredOn(gen)
			return answered
		}}
	err := c.gate(run, gen, w)
	if err == nil || c.generation() != gen || c.Err() != nil {
		return err == nil
	}
	if errors.Is(err, errRestoreExpired) {
		c.end(c.notRestored(err))
		return false
	}
	c.drop(gen)
	return false
}

// gateWait is how the gate of a restore waits for a kernel that leaves it
// unanswered (see gateRestored).
type gateWait struct {
	// round is how long the kernel may leave the gate unanswered before
	// busy is asked (again).
	round time.Duration
	// expired is closed when the restore ends (restoreErr says why).
	expired    <-chan struct{}
	restoreErr func() error
	// busy reports whether the server reports the kernel busy, and if so
	// marks the restore over.
	busy func() bool
	// restored reports whether the restore of the socket is over.
	restored func(gen uint64) bool
	// reset starts a new round (set by the gate).
	reset func()
}

// relayWait bounds how long a gate waits for a kernel that leaves it
// unanswered while the socket brings its IOPub messages: Jupyter's
// kernel_info_timeout (60 s), the longest its nudge of one socket goes on
// queueing kernel_info_requests in the kernel (docs/wire/kernel-channels.md
// KC46).
const relayWait = 60 * time.Second

// relayRounds is how many rounds make relayWait.
func (w *gateWait) relayRounds() int {
	if w.round <= 0 {
		return 0
	}
	return int((relayWait + w.round - 1) / w.round)
}

// Errors of a restore's gate: the kernel left the socket unanswered for a
// round, or the restore's time ran out.
var (
	errUnanswered     = errors.New("the kernel did not answer on the new socket")
	errRestoreExpired = errors.New("the kernel did not answer on a new socket")
)

// restoredBusy marks the restore that opened the socket of generation gen
// as over, as a gate that opened does, while its gate waits for a busy
// kernel's answer.
func (c *Conn) restoredBusy(gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen && c.answered != gen {
		c.answered, c.answeredAt = gen, time.Now()
	}
}

// notRestored is the error that ends a Conn whose restore ran out of time.
func (c *Conn) notRestored(cause error) error {
	return fmt.Errorf("nbserv: kernel connection lost and not restored within %v: %w", c.o.reconnect, cause)
}

// redial dials until it succeeds or restore ends, waiting before each
// attempt but the first of a restore (*attempt counts them); a 403 or 404
// ends it at once, as does a finished Conn.
func (c *Conn) redial(restore context.Context, attempt *int, cause error) (*websocket.Conn, framing, error) {
	deadline, _ := restore.Deadline()
	for ; ; *attempt++ {
		if *attempt > 0 {
			wait, ok := c.ep.ReconnectWait(*attempt-1, deadline)
			if !ok || transport.Sleep(restore, wait) != nil {
				return nil, nil, c.notRestored(cause)
			}
		}
		if err := c.Err(); err != nil {
			return nil, nil, err
		}
		ws, fr, err := c.dial(restore)
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

// gateKeep is how many of a gate's asks stay registered.
const gateKeep = 8

// errReplace ends a readLoop whose socket must be replaced.
var errReplace = errors.New("nbserv: kernel socket replaced")

// monitor asks the REST API about the kernel when requests have waited
// in silence for the check interval (Jupyter does not close the WebSocket
// of a kernel that is gone), and probes the socket: a socket that lived
// through a kernel restart can stay open and silent.
func (c *Conn) monitor(ctx context.Context) {
	defer c.wg.Done()
	t := time.NewTicker(c.o.check)
	defer t.Stop()
	// misses counts the probe sockets in a row that the kernel answered
	// on none of, and skip the silent checks still to pass before the next
	// one: each probe socket of a kernel that does not answer makes
	// Jupyter nudge the kernel with kernel_info_requests twice a second,
	// on shell and control, for up to its kernel_info_timeout (60 s),
	// even after the socket has closed; they queue in the kernel and are
	// all answered, each with its status on IOPub, when it is free
	// (docs/wire/kernel-channels.md KC46).
	misses, skip := 0, 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		waiting, heard := false, false
		gen, open := c.gen, c.open
		for _, r := range c.pending {
			waiting = waiting || !r.internal
			heard = heard || !r.internal && r.gen == gen && r.heard
		}
		waiting = waiting && time.Since(c.lastRecv) >= c.o.check
		c.mu.Unlock()
		if !waiting {
			misses, skip = 0, 0
			continue
		}
		if err := c.ep.Check(ctx); errors.Is(err, ErrKernelDead) {
			c.end(err)
			return
		}
		// A request that heard back on this socket proves it relays: the
		// kernel is busy with it, and may leave control unanswered for as
		// long as it runs (ipykernel's control thread waits while C code
		// holds the GIL). Without that word, the socket is silent only if
		// the kernel answers elsewhere: a cell can take the GIL before its
		// busy status leaves the kernel (ipykernel's IOPub thread needs
		// the GIL too), and then nothing at all comes until it ends. And
		// it is silent only if it stayed so while the probe socket waited:
		// a kernel slow to answer control (or a cell that let the GIL go
		// meanwhile) answers both, and the socket brings that on IOPub.
		// A kernel that answered on no probe socket is busy: the next one
		// waits for twice as many silent checks as the last, up to
		// maxProbeSkip.
		before, _ := c.iopubSeen(gen)
		if !open || heard || !c.silent(ctx, gen) {
			misses, skip = 0, 0
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if !c.answersElsewhere(ctx) {
			misses++
			skip = min(1<<min(misses, 16)-1, maxProbeSkip)
			continue
		}
		misses = 0
		if c.stillSilent(gen, before) {
			err := transport.OutcomeUnknown(fmt.Errorf("nbserv: the kernel connection went silent (no answer to a kernel_info_request on control within %v); the request was sent, and the kernel may have run it", c.o.check))
			c.drop(gen) // first, so that no request goes out on this socket
			c.failSentOn(gen, err)
		}
	}
}

// maxProbeSkip is the most silent checks that pass between two probe
// sockets of a kernel that answers on none: 15, a probe socket every 75
// to 150 s at the default check interval (a silent check takes one to
// two intervals), and a silent socket still found within that time of
// the kernel being free again.
const maxProbeSkip = 15

// silent probes the socket of generation gen with a kernel_info_request
// on control, which the kernel answers, with its busy and idle status on
// IOPub, even while it runs code. It reports whether the probe went out
// and no IOPub message came within the check interval: a socket can
// relay replies and no IOPub (one that lived through a kernel restart on
// Jupyter Server 1.23.3). A probe that could not go out (a long write
// holds the socket, bounded by write inactivity) proves nothing.
func (c *Conn) silent(ctx context.Context, gen uint64) bool {
	ctx, cancel := context.WithTimeout(ctx, c.o.check)
	defer cancel()
	before, _ := c.iopubSeen(gen)
	req := newRequest(1<<20, false)
	req.internal = true
	id, err := c.write(ctx, gen, ChannelControl, MsgKernelInfoRequest, struct{}{}, nil, req, gateMark)
	if err != nil {
		return false
	}
	defer c.unregister(id)
	tick := time.NewTicker(max(c.o.check/8, time.Millisecond))
	defer tick.Stop()
	for {
		if n, current := c.iopubSeen(gen); n != before || !current || c.Err() != nil {
			return false
		}
		select {
		case <-req.signal:
		case <-tick.C:
		case <-ctx.Done():
			n, current := c.iopubSeen(gen)
			return n == before && current && c.Err() == nil
		}
	}
}

// stillSilent reports whether the socket of generation gen is still the
// Conn's, has brought no IOPub message since the count was before, and no
// request sent on it has heard back.
func (c *Conn) stillSilent(gen, before uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.iopub != before {
		return false
	}
	for _, r := range c.pending {
		if !r.internal && r.gen == gen && r.heard {
			return false
		}
	}
	return true
}

// answersElsewhere reports whether the kernel answers a
// kernel_info_request on control on a socket of its own, within the
// check interval (at least 2 s): the proof that a silent socket, not a
// busy kernel, keeps our requests waiting. The probe socket has a session
// of its own, since Jupyter closes the older of two sockets with one
// session (docs/wire/kernel-channels.md KC44), and is closed after it.
func (c *Conn) answersElsewhere(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, max(c.o.check, 2*time.Second))
	defer cancel()
	var subprotocols []string
	if c.o.protocol != ProtocolLegacy {
		subprotocols = []string{ProtocolV1}
	}
	ws, err := c.ep.DialChannels(ctx, newUUID(), subprotocols)
	if err != nil {
		return false
	}
	defer ws.CloseNow()
	fr, err := framingFor(ws.Subprotocol())
	if err != nil {
		return false
	}
	ws.SetReadLimit(-1) // bounded by readFrame
	id := c.session + gateMark + strconv.FormatUint(c.seq.Add(1), 10)
	typ, frame := fr.encode(ChannelControl, &outParts{header: c.header(id, MsgKernelInfoRequest),
		parent: []byte("{}"), metadata: []byte("{}"), content: []byte("{}")})
	if ws.Write(ctx, typ, frame) != nil {
		return false
	}
	scratch := new([]byte)
	for {
		typ, r, err := ws.Reader(ctx)
		if err != nil {
			return false
		}
		frame, over, err := readFrame(r, 1<<20, scratch)
		if err != nil {
			return false
		}
		if over {
			continue
		}
		if m := fr.decode(typ, frame); m.Err == nil && m.ParentHeader.MsgID == id && m.Header.MsgType == MsgKernelInfoReply {
			return true
		}
	}
}

// failSentOn ends the requests that went out on the socket of generation
// gen with err.
func (c *Conn) failSentOn(gen uint64, err error) {
	c.mu.Lock()
	var fail []*request
	for id, r := range c.pending {
		if r.gen == gen && !r.internal {
			fail = append(fail, r)
			delete(c.pending, id)
		}
	}
	c.mu.Unlock()
	for _, r := range fail {
		r.fail(err)
	}
}
