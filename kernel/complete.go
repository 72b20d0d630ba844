package kernel

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Proving an execution complete across a socket change. When a socket
// drops, Jupyter loses what it wrote into the failing socket and, when it
// restores the session while the kernel looks idle, the first IOPub
// message of the kernel that arrives during its nudge (it takes it as the
// proof that IOPub works: docs/wire/kernel-channels.md KC96). An
// execution can thus get its reply and its idle status and miss an output
// in between. ipykernel numbers every message it sends, to every client
// and on every channel, from one counter (jupyter_client's Session: msg_id
// `<session>_<pid>_<n>`, KC97), and publishes an execution's busy status
// first and its idle status last: an execution whose messages came on
// more than one socket is complete when the Conn received every number
// from its busy status to the last of its messages. Anything else (another
// id format, a number missing, whatever the reason) cannot be proven, and
// the execution ends with ErrOutputMayBeLost.

// ErrOutputMayBeLost matches an execution whose socket was replaced while
// it ran and which the Conn cannot prove complete: its reply came (the
// Execution has its Status and Reply, and the outputs that arrived), but
// some of its messages may have been lost with the old socket or while
// Jupyter restored the new one. The kernel ran the code; it is not sent
// again.
var ErrOutputMayBeLost = errors.New("nbserv: the execution's socket was replaced while it ran, and some of its output may have been lost")

// maxSpans bounds the runs of message numbers a Conn keeps, over all the
// kernel's sessions (a restart makes a new one): gaps, and so runs, come
// from messages the kernel sent to other clients. Past it the Conn proves
// nothing until no execution is in flight (each run costs a few dozen
// bytes).
const maxSpans = 4096

// span is a run of message numbers received, both ends included.
type span struct{ lo, hi uint64 }

// seqLog records the numbers of the kernel's messages the Conn received
// while executions are in flight (users counts them); it is reset when
// none is. It lives under the Conn's lock.
type seqLog struct {
	users    int
	runs     map[string][]span // by msg_id prefix: `<session>_<pid>`
	count    int               // runs held, over all prefixes
	overflow bool
}

// kernelSeq splits an ipykernel msg_id, `<session>_<pid>_<n>` with
// session the header's, into its prefix and n.
func kernelSeq(h *Header) (prefix string, n uint64, ok bool) {
	if h.Session == "" || !strings.HasPrefix(h.MsgID, h.Session+"_") {
		return "", 0, false
	}
	rest := h.MsgID[len(h.Session)+1:]
	pid, num, found := strings.Cut(rest, "_")
	if !found || !digits(pid) || !digits(num) {
		return "", 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return "", 0, false
	}
	return h.MsgID[:len(h.MsgID)-len(num)-1], n, true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// track starts (delta 1) or ends (-1) an execution's interest in the log.
func (l *seqLog) track(delta int) {
	l.users += delta
	if l.users == 0 {
		*l = seqLog{}
	}
}

// add records h's number, when it has one, while anyone listens.
func (l *seqLog) add(h *Header) {
	if l.users == 0 || l.overflow {
		return
	}
	prefix, n, ok := kernelSeq(h)
	if !ok {
		return
	}
	if l.runs == nil {
		l.runs = map[string][]span{}
	}
	runs := l.runs[prefix]
	// The first run whose end reaches n-1; messages come mostly in order,
	// so this is usually the last one.
	i, _ := slices.BinarySearchFunc(runs, n, func(s span, n uint64) int {
		if s.hi+1 < n {
			return -1
		}
		return 1
	})
	switch {
	case i < len(runs) && runs[i].lo <= n+1 && n <= runs[i].hi+1:
		runs[i].lo, runs[i].hi = min(runs[i].lo, n), max(runs[i].hi, n)
		if i+1 < len(runs) && runs[i+1].lo <= runs[i].hi+1 {
			runs[i].hi = max(runs[i].hi, runs[i+1].hi)
			runs = slices.Delete(runs, i+1, i+2)
			l.count--
		}
	case l.count >= maxSpans:
		l.overflow = true
		return
	default:
		runs = slices.Insert(runs, i, span{n, n})
		l.count++
	}
	l.runs[prefix] = runs
}

// missing returns the first number from lo to hi of prefix that did not
// come (ok false when all did).
func (l *seqLog) missing(prefix string, lo, hi uint64) (n uint64, ok bool) {
	for _, s := range l.runs[prefix] {
		switch {
		case s.hi < lo:
		case s.lo > lo:
			return lo, true
		case hi <= s.hi:
			return 0, false
		default:
			lo = s.hi + 1
		}
	}
	return lo, true
}

// proof follows one execution's messages: the prefix and number of its
// busy status, and the highest number of any of them.
type proof struct {
	prefix   string
	busy     uint64
	hi       uint64
	sawBusy  bool
	unproven string // why it cannot be proven; empty while it can
}

// see takes one of the execution's messages.
func (p *proof) see(m *Message, busy bool) {
	if p.unproven != "" {
		return
	}
	prefix, n, ok := kernelSeq(&m.Header)
	switch {
	case !ok:
		p.unproven = fmt.Sprintf("msg_id %q is not numbered as ipykernel's", m.Header.MsgID)
		return
	case p.prefix != "" && prefix != p.prefix:
		p.unproven = "its messages came from more than one kernel session"
		return
	}
	p.prefix, p.hi = prefix, max(p.hi, n)
	if busy && !p.sawBusy {
		p.busy, p.sawBusy = n, true
	}
}

// check says why the execution is not proven complete, or nil.
func (c *Conn) check(p *proof) error {
	why := p.unproven
	if why == "" && !p.sawBusy {
		why = "its busy status did not come"
	}
	if why == "" {
		c.mu.Lock()
		missing, ok := c.seqs.missing(p.prefix, p.busy, p.hi)
		overflow := c.seqs.overflow
		c.mu.Unlock()
		switch {
		case overflow:
			why = "too many of the kernel's messages went to other clients meanwhile to tell"
		case ok:
			why = fmt.Sprintf("the kernel's message %d, between its busy status (%d) and its last message (%d), did not reach this connection", missing, p.busy, p.hi)
		default:
			return nil
		}
	}
	return fmt.Errorf("%w (%s)", ErrOutputMayBeLost, why)
}
