package nbserv_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// TestLoad shares one Client among many goroutines against the reference
// server on loopback. It is bounded in count (workers × cycles) and in
// time (a one-minute context), and stops by itself.
func TestLoad(t *testing.T) {
	const workers, cycles = 32, 25
	srv := nbservtest.NewServer(t)
	c := srv.Client
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var mu sync.Mutex
	var created []string
	var latencies []time.Duration
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	timed := func(f func() error) {
		start := time.Now()
		if err := f(); err != nil {
			fail(err)
			return
		}
		d := time.Since(start)
		mu.Lock()
		latencies = append(latencies, d)
		mu.Unlock()
	}

	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range cycles {
				if ctx.Err() != nil {
					return
				}
				path := fmt.Sprintf("load/w%d/nb%d.ipynb", w, i)
				var s *nbserv.Session
				timed(func() (err error) {
					s, err = c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionNotebook})
					return err
				})
				if s == nil {
					continue
				}
				mu.Lock()
				created = append(created, s.ID)
				mu.Unlock()
				timed(func() error {
					got, err := c.Sessions.Get(ctx, s.ID)
					if err == nil && got.Path != path {
						err = fmt.Errorf("Get %s: path %q, want %q", s.ID, got.Path, path)
					}
					return err
				})
				timed(func() error { _, err := c.Sessions.Rename(ctx, s.ID, "n", ""); return err })
				if i%5 == 0 {
					timed(func() error { _, err := c.Sessions.List(ctx); return err })
				}
				timed(func() error { return c.Sessions.Delete(ctx, s.ID) })
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	for _, err := range errs {
		t.Error(err)
	}
	if len(created) != workers*cycles {
		t.Errorf("%d sessions created, want %d", len(created), workers*cycles)
	}
	slices.Sort(created)
	if len(slices.Compact(slices.Clone(created))) != len(created) {
		t.Errorf("duplicate session ids")
	}
	if left, err := c.Sessions.List(context.Background()); err != nil || len(left) != 0 {
		t.Errorf("after the load: %d sessions left, %v", len(left), err)
	}
	if ks, err := c.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
		t.Errorf("after the load: %d kernels left, %v", len(ks), err)
	}
	slices.Sort(latencies)
	if n := len(latencies); n > 0 {
		t.Logf("load: %d workers, %d requests in %v (%.0f req/s); latency p50 %v, p99 %v, max %v",
			workers, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(),
			latencies[n/2], latencies[n*99/100], latencies[n-1])
	}
}
