package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Every wait in these tests is bounded by behaviour; hangLimit only turns
// a hang (the defect) into a failure instead of a stuck test binary.
const hangLimit = 60 * time.Second

// wait returns what errc delivers, failing the test after hangLimit.
func wait(t *testing.T, what string, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(hangLimit):
		t.Fatalf("%s: still blocked after %v", what, hangLimit)
		return nil
	}
}

// A peer that stops reading, and no write-inactivity bound: a 32 MiB
// Execute, and a small one queued behind it, each return when their own
// context ends, the large one saying its fate is unknown.
func TestStuckWriteEndsWithTheCallersContext(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.stallNext = 1
	conn := k.connect(WithWriteInactivity(NoTimeout), WithCheckInterval(-1))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	bigc, smallc := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := conn.Execute(ctx, strings.Repeat("x", 32<<20))
		bigc <- err
	}()
	time.Sleep(200 * time.Millisecond) // most likely queued behind; either order is checked
	go func() {
		_, err := conn.Execute(ctx, "print:small")
		smallc <- err
	}()
	err := wait(t, "32 MiB Execute", bigc)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("32 MiB Execute: %v, want its context's end", err)
	}
	if !errors.Is(err, ErrOutcomeUnknown) && !strings.Contains(err.Error(), "not sent") {
		t.Errorf("32 MiB Execute: %v, want ErrOutcomeUnknown (or not sent)", err)
	}
	if err := wait(t, "small Execute", smallc); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("small Execute: %v, want its context's end", err)
	}
}

// A peer that stops reading: the socket is dropped after the write
// inactivity (before the request's own, longer, context), the request
// cut off ends saying its fate is unknown and is not resent, and the Conn
// restores itself.
func TestStuckSocketIsDroppedAfterWriteInactivity(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.stallNext = 1
	conn := k.connect(WithWriteInactivity(time.Second), WithCheckInterval(-1))
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := conn.Execute(ctx, strings.Repeat("x", 32<<20))
		errc <- err
	}()
	err := wait(t, "32 MiB Execute", errc)
	if !errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("32 MiB Execute: %v, want ErrOutcomeUnknown before its context ends", err)
	}
	if ex, err := conn.Execute(ctx, "1+1"); err != nil || ex.Result() == nil {
		t.Fatalf("after the stuck socket: %v", err)
	}
	if n := k.handshakeCount(); n != 2 {
		t.Errorf("%d handshakes, want 2", n)
	}
	for _, m := range k.receivedOf(MsgExecuteRequest) {
		if len(m.Content) > 1<<20 {
			t.Errorf("the 32 MiB request reached the kernel: it was resent")
		}
	}
}

// A slow link is not stuck: a message that takes longer than the write
// inactivity as a whole, but keeps moving, goes out on the same socket.
func TestSlowWriteIsNotStuck(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	// 128 KiB per 25 ms: 6 MiB take about 1.2 s (more under load), less
	// what the buffers hold: longer than the write inactivity, which is 40
	// times the pause (a loaded machine stalls a reader for hundreds of
	// milliseconds; a 500 ms bound failed so in CI).
	k.slowRead = true
	conn := k.connect(WithWriteInactivity(time.Second), WithCheckInterval(-1))
	start := time.Now()
	if _, err := conn.Execute(context.Background(), strings.Repeat("x", 6<<20)); err != nil {
		t.Fatal(err)
	}
	t.Logf("6 MiB Execute took %v, with a write inactivity of 1s", time.Since(start))
	if n := k.handshakeCount(); n != 1 {
		t.Errorf("%d handshakes: the slow socket was dropped", n)
	}
}

// Many requests at once on a socket that stops reading: each returns with
// its own context, none is sent twice, and the Conn goes on.
func TestConcurrentWritesOnAStuckSocket(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.stallNext = 1
	conn := k.connect(WithWriteInactivity(time.Second), WithCheckInterval(-1))
	chunk := strings.Repeat("y", 4<<20)
	var wg sync.WaitGroup
	errc := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%3)*time.Second)
			defer cancel()
			_, err := conn.Execute(ctx, chunk)
			errc <- err
		}()
	}
	// The Executes above are not sent when their contexts end before
	// their turn to write (a loaded machine), and a few that are fit in
	// the buffers of loopback TCP (here up to tcp_rmem's 32 MiB and
	// tcp_wmem's 4 MiB): this one, without a deadline, is larger than
	// both, so the socket is stuck whatever the timing, and is dropped
	// after the write inactivity. (Before, the Execute after them could
	// go out on the stalled socket and wait forever.)
	bigc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
		defer cancel()
		_, err := conn.Execute(ctx, strings.Repeat("z", 48<<20))
		bigc <- err
	}()
	for range 16 {
		_ = wait(t, "concurrent Execute", errc)
	}
	wg.Wait()
	// Dropped with its socket, or, when another stuck write had the
	// socket dropped first, sent on the next one and run.
	if err := wait(t, "the Execute larger than the buffers", bigc); errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the Execute larger than the buffers: %v; want its socket dropped after the write inactivity", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	if ex, err := conn.Execute(ctx, "1+1"); err != nil || ex.Result() == nil {
		t.Fatalf("after the stuck socket: %v", err)
	}
	if n := len(k.receivedOf(MsgExecuteRequest)); n > 18 {
		t.Errorf("%d execute_requests for 18 Executes: some were sent twice", n)
	}
}

// A server that accepts each new socket and closes it at once: each such
// socket is a failed attempt, and the next one waits as after a failed
// dial, instead of thousands of handshakes a second, each with the token.
func TestReconnectStormBacksOff(t *testing.T) {
	checkStorm(t, func(k *fakeKernel) { k.closeNew = true })
}

// A server that answers on each new socket and then closes it: the
// connection is restored each time, but the backoff is not reset by a
// socket that lived so briefly.
func TestReconnectStormAfterAnAnswerBacksOff(t *testing.T) {
	checkStorm(t, func(k *fakeKernel) { k.closeAnswered = true })
}

// checkStorm breaks the fake's new sockets with fault and counts the
// handshakes of 2 s: with waits of at least 100 ms (half the minimum,
// jittered) between attempts, at most 21; it allows twice that.
func checkStorm(t *testing.T, fault func(k *fakeKernel)) {
	k := newFakeKernel(t, hang, func(c *Config) { c.RetryWaitMin, c.RetryWaitMax = 200*time.Millisecond, 400*time.Millisecond })
	conn := k.connect(WithReconnectTimeout(NoTimeout), WithCheckInterval(-1))
	k.mu.Lock()
	fault(k)
	k.mu.Unlock()
	k.dropAll()
	time.Sleep(2 * time.Second)
	if n := k.handshakeCount(); n > 42 {
		t.Errorf("%d handshakes in 2 s: no backoff", n)
	}
	if conn.Err() != nil {
		t.Errorf("Err %v with NoTimeout", conn.Err())
	}
}

// The reconnect timeout bounds the whole restore: when new sockets are
// closed at once or stay silent, the Conn ends with a clear error, and
// requests fail instead of waiting for ever.
func TestReconnectTimeoutCoversTheWholeRestore(t *testing.T) {
	for _, fault := range []string{"closed at once", "silent"} {
		t.Run(fault, func(t *testing.T) {
			k := newFakeKernel(t, hang)
			conn := k.connect(WithReconnectTimeout(time.Second), WithCheckInterval(-1))
			errc := running(t, k, conn)
			k.mu.Lock()
			k.closeNew, k.silentNew = fault == "closed at once", fault == "silent"
			k.mu.Unlock()
			k.dropAll()
			err := wait(t, "running Execute", errc)
			if err == nil || !strings.Contains(err.Error(), "not restored within 1s") {
				t.Errorf("running Execute: %v", err)
			}
			if conn.Err() == nil {
				t.Error("Err is nil")
			}
			if _, err := conn.Execute(context.Background(), "1+1"); err == nil {
				t.Error("Execute after the Conn ended succeeded")
			}
			conn.mu.Lock()
			n := len(conn.pending)
			conn.mu.Unlock()
			if n != 0 {
				t.Errorf("%d requests left pending", n)
			}
		})
	}
}

// While a new socket stays silent through a long restore, the handshake
// asks again every second, and its asks do not pile up.
func TestSilentRestoreHoldsFewRequests(t *testing.T) {
	k := newFakeKernel(t, hang)
	conn := k.connect(WithReconnectTimeout(NoTimeout), WithCheckInterval(-1))
	k.mu.Lock()
	k.silentNew = true
	k.mu.Unlock()
	k.dropAll()
	// 6 s: 12 asks of two requests each; at most gateKeep, and the two of
	// an ask being sent, stay.
	for range 60 {
		time.Sleep(100 * time.Millisecond)
		conn.mu.Lock()
		held := len(conn.pending)
		conn.mu.Unlock()
		if held > gateKeep+2 {
			t.Fatalf("%d requests held", held)
		}
	}
}

// A socket that lived through a kernel restart goes silent (it says
// "starting", then answers nothing) while a new socket works: the
// Executes sent on it end saying their fate is unknown, none is sent
// again, and the Conn restores itself; twice in a row, with three
// Executes at once each time.
func TestSilentSocketAfterRestartIsReplaced(t *testing.T) {
	bothFramings(t, func(t *testing.T, v1 bool) {
		k := newFakeKernel(t, standardExec)
		k.v1 = v1
		conn := k.connect(WithCheckInterval(200 * time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
		defer cancel()
		const rounds, each = 2, 3
		for round := range rounds {
			k.broadcast(nil, MsgStatus, Status{StateStarting})
			k.deafen(conn.SessionID())
			errc := make(chan error, each)
			for range each {
				go func() {
					_, err := conn.Execute(ctx, "1+1")
					errc <- err
				}()
			}
			for range each {
				err := <-errc
				if !errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("round %d: Execute on the silent socket: %v, want ErrOutcomeUnknown", round, err)
				}
			}
			ex, err := conn.Execute(ctx, "1+1")
			if err != nil || ex.Result() == nil {
				t.Fatalf("round %d: after the silent socket: %v", round, err)
			}
			if want := (round + 1) * (each + 1); ex.ExecutionCount != want {
				t.Errorf("round %d: execution count %d, want %d: a request ran twice or not at all", round, ex.ExecutionCount, want)
			}
		}
		if n := len(k.receivedOf(MsgExecuteRequest)); n != rounds*(each+1) {
			t.Errorf("%d execute_requests for %d Executes", n, rounds*(each+1))
		}
	})
}

// After Jupyter restarts a kernel, a new socket can relay the replies and
// no IOPub (docs/wire/kernel-channels.md KC5): the kernel's answer alone does
// not restore the connection; the socket is dropped after the handshake
// timeout, and the next one, which brings IOPub, runs the Execute.
func TestRestoredSocketWithoutIOPubIsNotUsed(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	conn := k.connect(WithHandshakeTimeout(2 * time.Second))
	k.mu.Lock()
	k.noIOPubNext = 1
	k.mu.Unlock()
	k.broadcast(nil, MsgStatus, Status{StateRestarting})
	for deadline := time.Now().Add(hangLimit); k.handshakeCount() < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no new socket after the restarting status")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		ex, err := conn.Execute(ctx, "1+1")
		if err == nil && (ex.Result() == nil || ex.ExecutionCount != 1) {
			err = fmt.Errorf("outputs %#v, count %d", ex.Outputs, ex.ExecutionCount)
		}
		errc <- err
	}()
	if err := wait(t, "Execute", errc); err != nil {
		t.Fatal(err)
	}
	if n := k.handshakeCount(); n != 3 {
		t.Errorf("%d handshakes, want 3", n)
	}
}

// Every socket closes before the kernel answers on it, the first one
// included: Dial fails within its handshake timeout, instead of returning
// a Conn that never opens and redials for ever, its reconnect timeout
// never applied.
func TestDialFailsWhenNoSocketIsAnswered(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.mute = true
	errc := make(chan error, 1)
	go func() {
		conn, err := dial(context.Background(), k.client, k.id, WithHandshakeTimeout(3*time.Second),
			WithReconnectTimeout(time.Second), WithCheckInterval(-1))
		if err == nil {
			err = fmt.Errorf("Dial succeeded, Info %v, Err %v", conn.Info(), conn.Err())
			conn.Close()
			errc <- err
			return
		}
		errc <- nil
	}()
	if err := wait(t, "Dial", errc); err != nil {
		t.Fatal(err)
	}
}

// Only the first socket closes before the kernel answers: Dial goes on
// with the next one, and returns once the kernel has answered there.
func TestDialSurvivesAnUnansweredFirstSocket(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.mute = true
	errc := make(chan error, 1)
	go func() {
		conn, err := dial(context.Background(), k.client, k.id, WithHandshakeTimeout(hangLimit/2), WithCheckInterval(-1))
		if err == nil {
			t.Cleanup(func() { conn.Close() })
			if conn.Info() == nil {
				err = errors.New("Dial returned before the kernel answered: Info is nil")
			}
		}
		errc <- err
	}()
	for deadline := time.Now().Add(hangLimit); k.handshakeCount() < 1; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no handshake")
		}
	}
	k.mu.Lock()
	k.mute = false
	k.mu.Unlock()
	if err := wait(t, "Dial", errc); err != nil {
		t.Fatal(err)
	}
}

// A cell that holds the kernel busy, its control channel unanswered (as
// ipykernel's control thread while C code holds the GIL), for many check
// intervals is not a silent socket, and the Execute gets its outputs, on
// the same socket: when the cell's busy status came (a request that heard
// back), and when nothing came at all (the cell took the GIL before
// ipykernel's IOPub thread sent its busy status), since the kernel
// answers on no probe socket either.
func TestBusyKernelIsNotASilentSocket(t *testing.T) {
	for _, heard := range []bool{true, false} {
		t.Run(fmt.Sprintf("heard=%v", heard), func(t *testing.T) {
			release := make(chan struct{})
			k := newFakeKernel(t, func(x *fakeExec) {
				if heard {
					x.status(StateBusy)
					x.input()
				}
				x.wait(release)
				if !heard {
					x.status(StateBusy)
					x.input()
				}
				x.stream(Stdout, "done\n")
				x.reply(StatusOK, nil)
				x.status(StateIdle)
			})
			k.blockedControl = true
			conn := k.connect(WithCheckInterval(100 * time.Millisecond))
			errc := executeHeld(conn)
			// Wait for the monitor to have found the Conn waiting in
			// silence a few times (it asks the REST API each time).
			untilWhileWaiting(t, errc, "the monitor does not check", "the Execute ended while the kernel was busy with it", func() bool {
				k.mu.Lock()
				defer k.mu.Unlock()
				return k.checks >= 3
			})
			close(release)
			if err := wait(t, "Execute", errc); err != nil {
				t.Fatal(err)
			}
			if n := k.handshakesOf(conn.SessionID()); n != 1 {
				t.Errorf("%d handshakes of the Conn's session: the busy kernel's socket was dropped", n)
			}
			if probes := k.handshakeCount() - 1; heard != (probes == 0) {
				t.Errorf("%d probe sockets; want them only when no request heard back", probes)
			}
		})
	}
}

// A kernel slow to answer control (longer than the check interval) but
// whose socket relays: the Conn's probe of the socket goes unanswered
// for the interval, the kernel then answers the probe socket too, but
// meanwhile the socket brought the first probe's status on IOPub, so it
// is not silent: the Execute waiting on it is not failed, and gets its
// output on the same socket.
func TestSlowControlIsNotASilentSocket(t *testing.T) {
	release := make(chan struct{})
	k := newFakeKernel(t, silentUntil(release)) // nothing comes for the Execute: the monitor probes
	conn := k.connect(WithCheckInterval(300 * time.Millisecond))
	k.mu.Lock()
	// Past the check interval, and within the probe socket's wait (at
	// least 2 s). The probe socket's question goes out after the check
	// interval, so its answer comes that long after the Conn's socket
	// brought its status: a margin for a loaded machine.
	k.slowControl = 800 * time.Millisecond
	k.mu.Unlock()
	errc := executeHeld(conn)
	// Three probe sockets opened one after another: the first two were
	// answered (unless a loaded machine delayed them past the probe's
	// wait), and each time the Conn's socket had brought IOPub meanwhile.
	untilWhileWaiting(t, errc, "the monitor opens no probe sockets", "the Execute ended while its socket relayed", func() bool {
		return k.handshakeCount()-k.handshakesOf(conn.SessionID()) >= 3
	})
	close(release)
	if err := wait(t, "Execute", errc); err != nil {
		t.Fatal(err)
	}
	if n := k.handshakesOf(conn.SessionID()); n != 1 {
		t.Errorf("%d handshakes of the Conn's session: a socket that relays was dropped", n)
	}
}

// untilWhileWaiting polls done until it holds, within hangLimit (else the
// test fails with stuck), while a request goes on waiting: its ending,
// on errc, fails the test with ended.
func untilWhileWaiting(t *testing.T, errc <-chan error, stuck, ended string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangLimit); !done(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(stuck)
		}
		select {
		case err := <-errc:
			t.Fatalf("%s: %v", ended, err)
		default:
		}
	}
}

// executeHeld runs an Execute of "held", whose script prints "done\n",
// and sends its outcome on the channel returned.
func executeHeld(conn *Conn) <-chan error {
	errc := make(chan error, 1)
	go func() {
		ex, err := conn.Execute(context.Background(), "held")
		if err == nil && ex.Stdout() != "done\n" {
			err = fmt.Errorf("stdout %q", ex.Stdout())
		}
		errc <- err
	}()
	return errc
}

// A kernel that answers on no probe socket (busy, its control unanswered,
// nothing sent since the Execute) gets fewer and fewer of them: each
// makes Jupyter nudge the kernel twice a second for up to a minute
// (docs/wire/kernel-channels.md KC46). After the first, the next waits
// for 1, then 3, then 7 silent checks: 3 probe sockets in 8 checks,
// however loaded the machine.
func TestBusyKernelGetsFewProbeSockets(t *testing.T) {
	release := make(chan struct{})
	k := newFakeKernel(t, silentUntil(release))
	k.blockedControl = true
	conn := k.connect(WithCheckInterval(100 * time.Millisecond))
	errc := executeHeld(conn)
	checks := func() int {
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.checks
	}
	untilWhileWaiting(t, errc, "the monitor does not check", "the Execute ended while the kernel was busy with it", func() bool {
		return checks() >= 8
	})
	// The 8th to 14th silent checks open none, so the count is exact
	// whichever of them has run.
	probes := k.handshakeCount() - k.handshakesOf(conn.SessionID())
	n := checks()
	close(release)
	if err := wait(t, "Execute", errc); err != nil {
		t.Fatal(err)
	}
	if n < 15 && probes != 3 {
		t.Errorf("%d probe sockets in %d silent checks; want 3 (at the 1st, 3rd and 7th)", probes, n)
	}
}

// silentUntil is a script that sends nothing until release is closed,
// then the busy status, the input, "done\n" on stdout, the reply and idle.
func silentUntil(release <-chan struct{}) func(x *fakeExec) {
	return func(x *fakeExec) {
		x.wait(release)
		x.status(StateBusy)
		x.input()
		x.stream(Stdout, "done\n")
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	}
}
