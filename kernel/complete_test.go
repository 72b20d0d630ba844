package kernel

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// kernelSeq reads only ipykernel's `<session>_<pid>_<n>`, with the
// header's session: anything else proves nothing.
func TestKernelSeq(t *testing.T) {
	for _, c := range []struct {
		session, id, prefix string
		n                   uint64
		ok                  bool
	}{
		{"4e1db292-b056aa7b9b4066605c7dc520", "4e1db292-b056aa7b9b4066605c7dc520_16852_25", "4e1db292-b056aa7b9b4066605c7dc520_16852", 25, true},
		{"a_b", "a_b_7_0", "a_b_7", 0, true},
		{"a", "a_7", "", 0, false},                      // no pid
		{"a", "a_x_7", "", 0, false},                    // pid not a number
		{"a", "a_7_", "", 0, false},                     // no number
		{"a", "a_7_1_2", "", 0, false},                  // one part too many
		{"a", "b_7_1", "", 0, false},                    // another session's
		{"", "_7_1", "", 0, false},                      // no session
		{"a", "a_7_99999999999999999999", "", 0, false}, // past uint64
		{"a", "a_7_-1", "", 0, false},
	} {
		prefix, n, ok := kernelSeq(&Header{Session: c.session, MsgID: c.id})
		if prefix != c.prefix || n != c.n || ok != c.ok {
			t.Errorf("%q of %q: %q %d %v, want %q %d %v", c.id, c.session, prefix, n, ok, c.prefix, c.n, c.ok)
		}
	}
}

// The log keeps runs of numbers as they come, in any order, and finds
// the first one missing from a range; past maxSpans runs it proves
// nothing until no execution uses it.
func TestSeqLog(t *testing.T) {
	h := func(n uint64) *Header { return &Header{Session: "s", MsgID: fmt.Sprintf("s_1_%d", n)} }
	var l seqLog
	l.add(h(1)) // nobody listens
	if _, ok := l.missing("s_1", 1, 1); !ok {
		t.Fatal("recorded with no execution in flight")
	}
	l.track(1)
	perm := rand.Perm(200)
	for _, i := range perm {
		if i != 150 {
			l.add(h(uint64(i)))
		}
	}
	l.add(h(10)) // again
	if n, ok := l.missing("s_1", 0, 149); ok {
		t.Errorf("0..149 came, missing %d", n)
	}
	if n, ok := l.missing("s_1", 140, 160); !ok || n != 150 {
		t.Errorf("missing %d %v, want 150", n, ok)
	}
	if n, ok := l.missing("s_1", 199, 201); !ok || n != 200 {
		t.Errorf("missing %d %v, want 200", n, ok)
	}
	if n, ok := l.missing("s_2", 0, 0); !ok || n != 0 {
		t.Errorf("another prefix: %d %v", n, ok)
	}
	if l.count != 2 {
		t.Errorf("%d runs, want 2", l.count)
	}
	for i := range uint64(maxSpans) {
		l.add(h(1000 + 2*i))
	}
	if !l.overflow || l.count > maxSpans {
		t.Errorf("%d runs, overflow %v", l.count, l.overflow)
	}
	l.track(-1)
	if l.overflow || l.count != 0 || l.runs != nil {
		t.Error("not reset when the last execution ended")
	}
}
