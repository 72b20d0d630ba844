package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	var big *Execution
	go func() {
		ex, err := conn.Execute(ctx, strings.Repeat("x", 32<<20))
		big = ex
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
	// Stopped midway, it may have run: an Execution, and not "not sent";
	// still waiting for its turn (behind the small one), not sent.
	midway := errors.Is(err, ErrOutcomeUnknown)
	if midway && (strings.Contains(err.Error(), "not sent") || big == nil) || !midway && !strings.Contains(err.Error(), "not sent") {
		t.Errorf("32 MiB Execute: %+v, %v, want ErrOutcomeUnknown and an Execution, or \"not sent\"", big, err)
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
// its own context, none is sent twice, and the Conn goes on. One of them
// outlives the others, so that a message is written that the buffers
// cannot hold: under load the others' contexts can all end before any of
// theirs starts, and a small request then fits in the buffers and is
// never answered (the check interval, off here, would drop that socket).
func TestConcurrentWritesOnAStuckSocket(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.stallNext = 1
	conn := k.connect(WithWriteInactivity(time.Second), WithCheckInterval(-1))
	chunk := strings.Repeat("y", 4<<20)
	var wg sync.WaitGroup
	errc, bigc := make(chan error, 16), make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
		defer cancel()
		_, err := conn.Execute(ctx, strings.Repeat("z", 32<<20))
		if errors.Is(err, ErrOutcomeUnknown) && !errors.Is(err, context.DeadlineExceeded) {
			err = nil // cut off by the write inactivity, or run on the restored socket
		}
		bigc <- err
	}()
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
	for range 16 {
		_ = wait(t, "concurrent Execute", errc)
	}
	if err := wait(t, "the Execute that outlives the others", bigc); err != nil {
		t.Errorf("the Execute that outlives the others: %v", err)
	}
	wg.Wait()
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

// A socket that Jupyter opened without nudging the kernel (it was busy)
// can relay the kernel's replies before its IOPub subscription is in
// place, losing the statuses of the first asks (docs/wire/kernel-channels.md
// KC99): Dial asks again, as Jupyter's nudge does, and opens on the
// statuses of a later ask, well within its handshake timeout, instead of
// waiting the whole of it for IOPub that only a new request brings.
func TestDialAsksAgainUntilIOPubComes(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.mu.Lock()
	k.lateIOPub = 3 // the first ask's two requests lose their statuses
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	conn, err := dial(ctx, k.client, k.id, WithHandshakeTimeout(hangLimit))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer conn.Close()
	if n := len(k.receivedOf(MsgKernelInfoRequest)); n < 3 {
		t.Errorf("%d kernel_info_requests, want at least 3: the Conn opened without IOPub", n)
	}
	ex, err := conn.Execute(ctx, "1+1")
	if err != nil || ex.Result() == nil {
		t.Fatalf("Execute: %+v, %v", ex, err)
	}
}

// A Dial whose handshake timeout ends on a socket that relays replies and
// no IOPub says so, and wraps the deadline.
func TestDialTimeoutSaysWhatItWaitedFor(t *testing.T) {
	k := newFakeKernel(t, standardExec)
	k.mu.Lock()
	k.noIOPubNext = 1
	k.mu.Unlock()
	_, err := dial(context.Background(), k.client, k.id, WithHandshakeTimeout(2500*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "answered, but no IOPub message came") {
		t.Fatalf("Dial: %v, want the deadline, saying that no IOPub came", err)
	}
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

// cutExec answers "cut" with the sequence of a "1+1" (busy,
// execute_input, the result, the reply, idle), dropping the client's
// socket from the server's side before message cut and losing messages
// cut to resume-1, as Jupyter loses what it writes into a socket it has
// not yet seen close; the rest reaches the client, kept and replayed or on
// its new socket. Anything else runs as standardExec.
func cutExec(cut, resume int) func(x *fakeExec) {
	return func(x *fakeExec) {
		if x.req.Code != "cut" {
			standardExec(x)
			return
		}
		steps := []func(){
			func() { x.status(StateBusy) },
			x.input,
			func() { x.result("2") },
			func() { x.reply(StatusOK, nil) },
			func() { x.status(StateIdle) },
		}
		for i, step := range steps {
			if i == cut {
				x.k.drop(x.session)
			}
			x.lose = i >= cut && i < resume
			step()
		}
		if cut == len(steps) {
			x.k.drop(x.session)
		}
	}
}

// The socket drops at each point of an execution, losing each run of the
// messages that follow: the Execute completes when its reply and idle
// status come (on the restored socket) and the kernel's message numbers
// prove that nothing before them was lost; it ends with ErrOutputMayBeLost
// when something was, and otherwise, long before its context, with an
// error saying its fate is unknown; it is never sent again, and the Conn
// goes on.
func TestExecuteWhoseSocketDropsNeverWaitsForItsContext(t *testing.T) {
	const steps = 5 // busy, execute_input, result, reply, idle
	for cut := 0; cut <= steps; cut++ {
		for resume := cut; resume <= steps; resume++ {
			t.Run(fmt.Sprintf("cut%d_lost%d", cut, resume-cut), func(t *testing.T) {
				t.Parallel()
				k := newFakeKernel(t, cutExec(cut, resume))
				k.serialShell = true
				conn := k.connect()
				lost := func(i int) bool { return cut <= i && i < resume }
				ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
				defer cancel()
				ex, err := conn.Execute(ctx, "cut")
				switch {
				case errors.Is(err, context.DeadlineExceeded):
					t.Fatalf("Execute waited for its context: %v", err)
				case lost(3) || lost(4):
					if !errors.Is(err, ErrOutcomeUnknown) {
						t.Fatalf("Execute whose reply or idle status was lost: %v, want ErrOutcomeUnknown", err)
					}
				case resume > cut:
					// Its reply came, and a message before it was lost: never
					// a silent success, whatever was lost (an output, or a
					// status the Conn cannot tell from one); what came is kept.
					if !errors.Is(err, ErrOutputMayBeLost) || ex == nil || ex.Status != StatusOK {
						t.Fatalf("Execute that lost a message before its reply: %v, want ErrOutputMayBeLost with the reply", err)
					}
					if (ex.Result() == nil) != lost(2) || ex.ExecutionCount != 1 {
						t.Fatalf("Execute: result %v, count %d", ex.Result(), ex.ExecutionCount)
					}
				case err != nil:
					t.Fatalf("Execute whose messages all came, across the drop: %v", err)
				case ex.Result() == nil || ex.ExecutionCount != 1:
					t.Fatalf("Execute: result %v, count %d", ex.Result(), ex.ExecutionCount)
				}
				ex, err = conn.Execute(ctx, "1+1")
				if err != nil || ex.Result() == nil || ex.ExecutionCount != 2 {
					t.Fatalf("the next Execute: %v, count %d", err, ex.ExecutionCount)
				}
				if n := len(k.receivedOf(MsgExecuteRequest)); n != 2 {
					t.Errorf("%d execute_requests for 2 Executes", n)
				}
			})
		}
	}
}

// The socket drops as the request reaches the server, which loses it: the
// kernel never runs it, the kernel answers later requests on the restored
// socket, and the request ends, before its context, saying its fate is
// unknown; on shell (an Execute) and on control (a Request) alike.
func TestRequestLostWithItsSocketEnds(t *testing.T) {
	for _, tc := range []struct {
		ch      Channel
		msgType string
	}{{ChannelShell, MsgExecuteRequest}, {ChannelControl, "comm_info_request"}} {
		t.Run(string(tc.ch), func(t *testing.T) {
			k := newFakeKernel(t, standardExec)
			k.serialShell = true
			conn := k.connect()
			k.mu.Lock()
			k.dropOn = tc.msgType
			k.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
			defer cancel()
			var err error
			if tc.ch == ChannelShell {
				_, err = conn.Execute(ctx, "1+1")
			} else {
				_, err = conn.Request(ctx, tc.ch, tc.msgType, struct{}{})
			}
			if !errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("%s lost with its socket: %v, want ErrOutcomeUnknown before its context", tc.msgType, err)
			}
			ex, err := conn.Execute(ctx, "1+1")
			if err != nil || ex.Result() == nil {
				t.Fatalf("the next Execute: %v", err)
			}
		})
	}
}

// A write that fails drops its socket: the request it carried ends with
// ErrOutcomeUnknown at once (it may have reached the server), and the one
// sent straight after goes out on the restored socket instead of failing
// on the dead one, which the library would otherwise go on reading from.
func TestFailedWriteDropsItsSocket(t *testing.T) {
	k, conn := connectBreakingWrites(t)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	_, err := conn.KernelInfo(ctx)
	if !errors.Is(err, ErrOutcomeUnknown) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("kernel info on a socket that cannot be written: %v, want ErrOutcomeUnknown before its context", err)
	}
	ex, err := conn.Execute(ctx, "1+1")
	if err != nil || ex.Result() == nil {
		t.Fatalf("the Execute straight after a failed write: %v (Conn: %v)", err, conn.Err())
	}
	if n := k.handshakeCount(); n < 2 {
		t.Errorf("%d handshakes, want the socket restored", n)
	}
}

// Requests waiting for their turn on a socket whose write fails: only
// the one being written fails; the others go out on the restored socket.
func TestFailedWriteFailsOnlyItsRequest(t *testing.T) {
	_, conn := connectBreakingWrites(t)
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	const n = 8
	errc := make(chan error, n)
	for range n {
		go func() {
			_, err := conn.KernelInfo(ctx)
			errc <- err
		}()
	}
	failed := 0
	for range n {
		switch err := <-errc; {
		case err == nil:
		case errors.Is(err, ErrOutcomeUnknown) && !errors.Is(err, context.DeadlineExceeded):
			failed++
		default:
			t.Errorf("kernel info: %v", err)
		}
	}
	if failed != 1 {
		t.Errorf("%d of %d requests failed, want only the one whose write failed", failed, n)
	}
}

// connectBreakingWrites connects to a fake kernel, then breaks the
// writes of every connection made so far: the Conn's socket's among them.
func connectBreakingWrites(t *testing.T) (*fakeKernel, *Conn) {
	var d breakableDialer
	k := newFakeKernel(t, standardExec, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: d.dial}}
	})
	conn := k.connect()
	d.breakWrites()
	return k, conn
}

// breakableDialer dials TCP connections whose writes it can break: a
// broken connection fails every write and still reads, as a socket whose
// sending side failed.
type breakableDialer struct {
	mu    sync.Mutex
	conns []*breakableConn
}

func (d *breakableDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	bc := &breakableConn{Conn: c}
	d.mu.Lock()
	d.conns = append(d.conns, bc)
	d.mu.Unlock()
	return bc, nil
}

// breakWrites breaks the connections dialled so far; later ones work.
func (d *breakableDialer) breakWrites() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.broken.Store(true)
	}
}

type breakableConn struct {
	net.Conn
	broken atomic.Bool
}

func (c *breakableConn) Write(p []byte) (int, error) {
	if c.broken.Load() {
		return 0, errBrokenWrite
	}
	return c.Conn.Write(p)
}

var errBrokenWrite = errors.New("test: the connection's writes are broken")

// busyKernel is a fake whose "held" execution runs until release is
// closed, its control channel unanswered meanwhile (ipykernel's control
// thread while C code holds the GIL), its shell requests in order, and the
// server reporting it busy (once the test says so).
func busyKernel(t *testing.T, release <-chan struct{}) *fakeKernel {
	k := newFakeKernel(t, heldExec(release))
	k.serialShell = true
	return k
}

// heldExec runs "held" until release is closed, then prints "done";
// anything else as standardExec.
func heldExec(release <-chan struct{}) func(x *fakeExec) {
	return func(x *fakeExec) {
		if x.req.Code != "held" {
			standardExec(x)
			return
		}
		x.status(StateBusy)
		x.input()
		x.wait(release)
		x.stream(Stdout, "done\n")
		x.reply(StatusOK, nil)
		x.status(StateIdle)
	}
}

// restGets counts the fake's REST GETs of the kernel.
func (k *fakeKernel) restGets() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.checks
}

// dropWhileHeld starts a held Execute on conn, and, once the kernel has
// it, applies fault to the fake under its lock, drops the socket, and
// waits for gets REST GETs of the kernel (the restore asking the server),
// failing if the Conn ends first. It returns the Execute's outcome.
func dropWhileHeld(t *testing.T, ctx context.Context, k *fakeKernel, conn *Conn, fault func(), gets int) <-chan *result {
	t.Helper()
	resc := make(chan *result, 1)
	go func() {
		ex, err := conn.Execute(ctx, "held")
		resc <- &result{ex, err}
	}()
	for deadline := time.Now().Add(hangLimit); len(k.receivedOf(MsgExecuteRequest)) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the Execute did not reach the kernel")
		}
	}
	k.mu.Lock()
	fault()
	k.mu.Unlock()
	k.dropAll()
	for deadline := time.Now().Add(hangLimit); k.restGets() < gets; time.Sleep(10 * time.Millisecond) {
		if err := conn.Err(); err != nil {
			t.Fatalf("the Conn ended while its kernel was busy: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d REST GETs: the restore does not ask the server", k.restGets())
		}
	}
	return resc
}

// result is an Execute's outcome.
type result struct {
	ex  *Execution
	err error
}

// The socket drops while the kernel runs a cell that holds the GIL: the
// new socket stays unanswered past the reconnect timeout, but the server
// reports the kernel busy, so the restore is over and the socket kept; the
// cell's reply comes on it once the kernel is done, and the next Execute
// runs there.
// Jupyter 1.23.3 can report a kernel it started "starting" while it runs
// the cell: that is tolerated as busy.
func TestRestoreToleratesABusyKernel(t *testing.T) {
	for _, state := range []string{StateBusy, StateStarting} {
		t.Run(state, func(t *testing.T) { checkBusyRestore(t, state) })
	}
}

func checkBusyRestore(t *testing.T, state string) {
	release := make(chan struct{})
	k := busyKernel(t, release)
	// No check interval: the REST GETs counted are the restore's alone.
	conn := k.connect(WithReconnectTimeout(time.Second), WithHandshakeTimeout(2*time.Second), WithCheckInterval(-1))
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	// The restore's end (1 s) and two rounds (2 s each) ask the server.
	resc := dropWhileHeld(t, ctx, k, conn, func() { k.state, k.blockedControl = state, true }, 3)
	if err := conn.Err(); err != nil {
		t.Fatalf("the Conn ended while its kernel was busy: %v", err)
	}
	k.mu.Lock()
	k.state = ""
	k.mu.Unlock()
	close(release)
	var res *result
	select {
	case res = <-resc:
	case <-time.After(hangLimit):
		t.Fatalf("the held Execute: still blocked after %v", hangLimit)
	}
	if res.err != nil || res.ex.Stdout() != "done\n" {
		t.Fatalf("the held Execute: %v, stdout %q", res.err, res.ex.Stdout())
	}
	if ex, err := conn.Execute(ctx, "1+1"); err != nil || ex.Result() == nil {
		t.Fatalf("after the busy restore: %v", err)
	}
	if n := k.handshakeCount(); n != 2 {
		t.Errorf("%d handshakes, want 2: the busy kernel's new socket was dropped", n)
	}
}

// The server reports the kernel busy, then no longer, and the new socket
// still gives no answer: it is dropped after one more round, and, since
// later sockets stay silent, the Conn ends with the reconnect timeout of
// the restore that follows instead of waiting for ever.
func TestBusyRestoreEndsOnASilentSocket(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	k := busyKernel(t, release)
	conn := k.connect(WithReconnectTimeout(time.Second), WithHandshakeTimeout(2*time.Second), WithCheckInterval(-1))
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	resc := dropWhileHeld(t, ctx, k, conn, func() { k.state, k.silentNew = StateBusy, true }, 2)
	k.mu.Lock()
	k.state = ""
	k.mu.Unlock()
	var res *result
	select {
	case res = <-resc:
	case <-time.After(hangLimit):
		t.Fatalf("the held Execute: still blocked after %v", hangLimit)
	}
	if err := res.err; err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not restored within 1s") {
		t.Fatalf("held Execute: %v, want the Conn's end: not restored", err)
	}
	if n := k.handshakeCount(); n < 3 {
		t.Errorf("%d handshakes: the silent socket was not dropped", n)
	}
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

// The server reports the kernel busy, then no longer, and the kernel then
// works through requests queued ahead of the gate's (Jupyter's nudges of
// other sockets: docs/wire/kernel-channels.md KC46, KC98) for longer than
// two rounds, each with its status on IOPub: the socket relays, and is
// kept until the kernel answers on it. Dropping it would make Jupyter
// replace it as stale and lose what the Conn sent on it meanwhile: the
// next cell.
func TestBusyRestoreWaitsThroughABacklog(t *testing.T) {
	release := make(chan struct{})
	k := newFakeKernel(t, func(x *fakeExec) {
		heldExec(release)(x)
		if x.req.Code != "held" {
			return
		}
		// The shell is serial: the gate's kernel_info_request on it waits
		// for this backlog, three rounds (2 s each) long.
		x.k.mu.Lock()
		x.k.state = ""
		x.k.mu.Unlock()
		other := json.RawMessage(`{"msg_id": "other_1", "msg_type": "kernel_info_request", "session": "other"}`)
		for range 60 {
			x.k.broadcast(other, MsgStatus, Status{StateBusy})
			select {
			case <-time.After(100 * time.Millisecond):
			case <-x.k.done:
				return
			}
			x.k.broadcast(other, MsgStatus, Status{StateIdle})
		}
	})
	k.serialShell = true
	conn := k.connect(WithReconnectTimeout(time.Second), WithHandshakeTimeout(2*time.Second), WithCheckInterval(-1))
	ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
	defer cancel()
	resc := dropWhileHeld(t, ctx, k, conn, func() { k.state, k.blockedControl = StateBusy, true }, 2)
	close(release)
	res := <-resc
	if res.err != nil || res.ex.Stdout() != "done\n" {
		t.Fatalf("the held Execute: %v", res.err)
	}
	if ex, err := conn.Execute(ctx, "1+1"); err != nil || ex.Result() == nil {
		t.Fatalf("the next Execute: %v (Conn: %v)", err, conn.Err())
	}
	if n := k.handshakeCount(); n != 2 {
		t.Errorf("%d handshakes, want 2: the socket that relayed the kernel's backlog was dropped", n)
	}
}

// Executions pipelined across a drop, nothing the kernel sent lost: each
// whose reply came is proven complete though the others' messages, and the
// restore's, are numbered in between: none ends with ErrOutputMayBeLost
// (a request written into the closing socket is lost, and ends with
// ErrOutcomeUnknown, as it should); repeated, so that the later ones go out
// before, during and after the restore.
func TestPipelinedExecutionsAcrossADropAreProvenComplete(t *testing.T) {
	for i := range 10 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			k := newFakeKernel(t, cutExec(1, 1))
			k.serialShell = true
			conn := k.connect()
			ctx, cancel := context.WithTimeout(context.Background(), hangLimit)
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for j, code := range []string{"cut", "1+1", "1+1", "1+1"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ex, err := conn.Execute(ctx, code)
					if err == nil && ex.Result() == nil {
						err = fmt.Errorf("%s: no result", code)
					}
					errs[j] = err
				}()
				time.Sleep(time.Duration(i) * time.Millisecond)
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil && !errors.Is(err, ErrOutcomeUnknown) {
					t.Error(err)
				}
			}
		})
	}
}
