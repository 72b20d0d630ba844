package refserver

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestShellQueueIsBounded: while the kernel is busy, execute_requests
// queue up to MaxShellQueue bytes (lowered here to 1 MiB); the one that
// would pass it is dropped and its connection closed with 1013, and the
// queue's memory never exceeds the bound. What was queued before still
// runs, another connection is served, and the count of queued bytes
// returns to 0.
func TestShellQueueIsBounded(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	const limit = 1 << 20
	f.ref.mu.Lock()
	f.ref.ch.maxShell = limit
	f.ref.mu.Unlock()
	f.ref.Script("block()", StreamStep("stdout", "started\n"), SleepStep(time.Hour))
	queued := func() int {
		f.ref.mu.Lock()
		defer f.ref.mu.Unlock()
		return f.ref.kernels[kid].rt.queuedBytes
	}
	c := f.dial(kid, "flood")
	c.execute("block()")
	c.until(10*time.Second, func(m wmsg) bool { return m.Type() == "stream" })
	code := "# " + strings.Repeat("x", 200<<10) // about 200 KiB each: the sixth passes 1 MiB
	sent := 0
	for ; sent < 64; sent++ {
		if c.tryExecute(code) != nil {
			break // the server has closed the connection
		}
		if q := queued(); q > limit {
			t.Fatalf("%d bytes queued after %d requests, over the bound %d", q, sent+1, limit)
		}
	}
	// The connection ends, closed by the server with 1013.
	for {
		if _, err := c.recv(time.Minute); err != nil {
			if errors.Is(err, errQuiet) {
				t.Fatalf("no close after %d requests of 200 KiB (%d bytes queued)", sent, queued())
			}
			if st := websocket.CloseStatus(err); st != websocket.StatusTryAgainLater {
				t.Errorf("closed with %v (%v), want 1013", st, err)
			}
			break
		}
	}
	if q := queued(); q > limit || q < limit-(250<<10) {
		t.Errorf("%d bytes queued at the close, want the bound %d less at most one request", q, limit)
	}
	// What was queued runs once the blocking request is interrupted; a new
	// connection is served after it, and the queue empties.
	f.do("POST", "api/kernels/"+kid+"/interrupt")
	other := f.dial(kid, "other")
	id := other.execute("1+1")
	other.until(time.Minute, func(m wmsg) bool { return m.Type() == "execute_reply" && m.ParentID() == id })
	if q := queued(); q != 0 {
		t.Errorf("%d bytes queued after the queue ran", q)
	}
	// One request larger than the bound is refused the same way, even on
	// an idle kernel, and leaves nothing queued.
	big := f.dial(kid, "big")
	if err := big.tryExecute("# " + strings.Repeat("y", limit+1)); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := big.recv(time.Minute); err != nil {
			if st := websocket.CloseStatus(err); st != websocket.StatusTryAgainLater {
				t.Errorf("a request over the bound: closed with %v (%v), want 1013", st, err)
			}
			break
		}
	}
	if q := queued(); q != 0 {
		t.Errorf("%d bytes queued after a refused request", q)
	}
}

// tryExecute sends an execute_request for code, returning the write's
// error rather than failing the test (the server may have closed).
func (c *wsClient) tryExecute(code string) error {
	c.n++
	hdr := map[string]any{"msg_id": fmt.Sprintf("%s-try-%d", c.session, c.n),
		"msg_type": "execute_request", "username": "tester", "session": c.session, "version": "5.3",
		"date": time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")}
	m := map[string]any{"header": hdr, "parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
			"allow_stdin": false, "stop_on_error": false}}
	return c.ws.Write(ctxT(c.t), websocket.MessageText, mustJSON(m))
}

// TestShellQueueBoundConcurrent: four clients flooding one busy kernel at
// once share its bound: the queue never holds more than MaxShellQueue
// (lowered to 1 MiB), however their requests interleave.
func TestShellQueueBoundConcurrent(t *testing.T) {
	const limit = 1 << 20
	f, kid, _ := busyKernel(t, limit, "first")
	code := "# " + strings.Repeat("x", 100<<10)
	var wg sync.WaitGroup
	var over atomic.Int64
	for i := range 4 {
		c := f.dial(kid, fmt.Sprintf("c%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 30 {
				if c.tryExecute(code) != nil {
					return
				}
				f.ref.mu.Lock()
				if q := f.ref.kernels[kid].rt.queuedBytes; q > limit {
					over.Store(int64(q))
				}
				f.ref.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if q := over.Load(); q != 0 {
		t.Errorf("%d bytes queued, over the bound %d", q, limit)
	}
	f.do("POST", "api/kernels/"+kid+"/interrupt")
}

// TestShellQueueDropKeepsOrder: once a connection's request is dropped
// for passing the bound, the requests it sent after it, though small
// enough to fit, are dropped too: the kernel never runs a request whose
// predecessor from the same client it dropped. The client writes the
// small request right after the one that passes the bound, before the
// close can reach it.
func TestShellQueueDropKeepsOrder(t *testing.T) {
	f, kid, c := busyKernel(t, 1<<20, "flood")
	for range 4 { // about 800 KiB queued
		if err := c.tryExecute("# " + strings.Repeat("x", 200<<10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.tryExecute("# " + strings.Repeat("y", 400<<10)); err != nil { // passes the bound
		t.Fatal(err)
	}
	small := fmt.Sprintf("%s-try-%d", c.session, c.n+1)
	if err := c.tryExecute("1+1"); err != nil {
		t.Logf("the small request was not sent (%v): the close came first", err)
	}
	for {
		if _, err := c.recv(time.Minute); err != nil {
			if errors.Is(err, errQuiet) {
				t.Fatal("no close after a request over the bound")
			}
			break
		}
	}
	// Every message the server read from the connection has been
	// dispatched once its handler is gone.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		f.ref.mu.Lock()
		n := len(f.ref.kernels[kid].rt.conns)
		f.ref.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed connection is still served")
		}
	}
	f.ref.mu.Lock()
	defer f.ref.mu.Unlock()
	for _, req := range f.ref.kernels[kid].rt.queue {
		if req.msgID == small {
			t.Errorf("%s, sent after a dropped request, is queued to run", small)
		}
	}
}

// busyKernel starts a kernel whose shell queue is bounded at limit bytes
// and keeps it busy with a request that runs until interrupted, sent on a
// connection with the given session, which it returns.
func busyKernel(t *testing.T, limit int, session string) (*chanFixture, string, *wsClient) {
	t.Helper()
	f := newChanFixture(t)
	kid := f.kernel()
	f.ref.mu.Lock()
	f.ref.ch.maxShell = limit
	f.ref.mu.Unlock()
	f.ref.Script("block()", StreamStep("stdout", "started\n"), SleepStep(time.Hour))
	c := f.dial(kid, session)
	c.execute("block()")
	c.until(10*time.Second, func(m wmsg) bool { return m.Type() == "stream" })
	return f, kid, c
}
