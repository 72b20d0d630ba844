package nbserv_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Lost answers (issue 10.4 and 10.5), against every E2E target: a real
// Jupyter Server in CI, the reference server otherwise. A proxy in front
// of the server loses the answer to the first request of one method in
// one of three ways; the SDK must then leave exactly what one call would
// have made: one session, one kernel.

type loss int

const (
	cutAfterAnswer  loss = iota // the server answered; the connection broke before the client read it
	cutBeforeAnswer             // the connection broke while the server was still working on it
	gateway502                  // a gateway answered 502 in place of the server's answer
)

func (l loss) String() string {
	return [...]string{"cut after the answer", "cut before the answer", "502 from a gateway"}[l]
}

// lossyProxy forwards to upstream (scheme and host of a target URL),
// losing the answer to the first request of method as l says.
func lossyProxy(t *testing.T, upstream string, method string, l loss) *httptest.Server {
	t.Helper()
	up, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	var lost atomic.Bool
	var background sync.WaitGroup
	forward := func(r *http.Request, body []byte) (*http.Response, []byte, error) {
		u := *r.URL
		u.Scheme, u.Host = up.Scheme, up.Host
		req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, u.String(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	hangUp := func(w http.ResponseWriter) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method == method && lost.CompareAndSwap(false, true) {
			switch l {
			case cutBeforeAnswer:
				background.Add(1)
				go func() { defer background.Done(); forward(r, body) }()
				time.Sleep(20 * time.Millisecond) // the request reaches the server first
				hangUp(w)
			case cutAfterAnswer:
				forward(r, body)
				hangUp(w)
			case gateway502:
				forward(r, body)
				w.WriteHeader(http.StatusBadGateway)
			}
			return
		}
		resp, b, err := forward(r, body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(b)
	}))
	t.Cleanup(func() { srv.Close(); background.Wait() })
	return srv
}

// throughProxy returns a client for tg that talks through p.
func throughProxy(t *testing.T, tg target, p *httptest.Server) *nbserv.Client {
	t.Helper()
	u, _ := url.Parse(tg.url)
	pu, _ := url.Parse(p.URL)
	u.Scheme, u.Host = pu.Scheme, pu.Host
	return newClient(t, u.String(), tg.token, func(cfg *nbserv.Config) {
		cfg.RetryWaitMin, cfg.RetryWaitMax = 50*time.Millisecond, 500*time.Millisecond
		cfg.RetryMax = 4
	})
}

// settle waits until the server has no kernel start in flight: the list
// of kernels stays the same for a while.
func settle(t *testing.T, c *nbserv.Client) []string {
	t.Helper()
	prev := kernelIDs(t, c)
	for range 40 {
		time.Sleep(250 * time.Millisecond)
		now := kernelIDs(t, c)
		if slices.Equal(now, prev) {
			return now
		}
		prev = now
	}
	return prev
}

func TestE2ELostAnswerCreateMakesOneSession(t *testing.T) {
	for _, l := range []loss{cutAfterAnswer, cutBeforeAnswer, gateway502} {
		t.Run(l.String(), func(t *testing.T) {
			forEachTarget(t, func(t *testing.T, tg target, direct *nbserv.Client) {
				before := kernelIDs(t, direct)
				c := throughProxy(t, tg, lossyProxy(t, tg.url, "POST", l))
				path := uniquePath(t, "lost.ipynb")
				var r nbserv.Response
				s, err := c.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: path, Type: nbserv.TypeNotebook}, nbserv.WithResponse(&r))
				if r.Attempts != 1 {
					t.Errorf("the create was sent %d times after its answer was lost, want once", r.Attempts)
				}
				if err != nil && !errors.Is(err, nbserv.ErrOutcomeUnknown) {
					t.Errorf("Create: %v, want a session or ErrOutcomeUnknown", err)
				}
				after := settle(t, direct)
				list, lerr := direct.Sessions.List(context.Background())
				if lerr != nil {
					t.Fatal(lerr)
				}
				var at []nbserv.Session
				for _, x := range list {
					if x.Path == path {
						at = append(at, x)
						t.Cleanup(func() { direct.Sessions.Delete(context.Background(), x.ID) })
					}
				}
				if len(at) != 1 || len(after) != len(before)+1 {
					t.Errorf("after one Create: %d sessions at the path, %d new kernels; want 1 and 1", len(at), len(after)-len(before))
				}
				if err == nil && (len(at) == 0 || s.ID != at[0].ID) {
					t.Errorf("Create returned %v, not the server's session %v", s, at)
				}
			})
		})
	}
}

func TestE2ELostAnswerStartMakesOneKernel(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, direct *nbserv.Client) {
		before := kernelIDs(t, direct)
		c := throughProxy(t, tg, lossyProxy(t, tg.url, "POST", cutAfterAnswer))
		var r nbserv.Response
		_, err := c.Kernels.Start(context.Background(), nbserv.StartKernelRequest{}, nbserv.WithResponse(&r))
		if !errors.Is(err, nbserv.ErrOutcomeUnknown) || r.Attempts != 1 {
			t.Errorf("Start after a lost answer: %v after %d attempts, want ErrOutcomeUnknown after 1", err, r.Attempts)
		}
		after := settle(t, direct)
		for _, id := range after {
			if !slices.Contains(before, id) {
				t.Cleanup(func() { direct.Kernels.Delete(context.Background(), id) })
			}
		}
		if len(after) != len(before)+1 {
			t.Errorf("%d new kernels, want 1", len(after)-len(before))
		}
	})
}

// With a kernel_id of the client's, a 2.x server answers a second Start
// with the kernel the first one started, so Start is re-sent after a lost
// answer and returns that kernel: still one new kernel.
func TestE2ELostAnswerStartWithIDIsResent(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, direct *nbserv.Client) {
		if tg.generation != 2 {
			return // 1.x ignores kernel_id: a re-sent Start would make a second kernel
		}
		before := kernelIDs(t, direct)
		c := throughProxy(t, tg, lossyProxy(t, tg.url, "POST", cutAfterAnswer))
		id := "5a1d0c3e-7b2f-4e8a-9c61-" + fmt.Sprintf("%012x", time.Now().UnixNano()&0xffffffffffff)
		var r nbserv.Response
		k, err := c.Kernels.Start(context.Background(), nbserv.StartKernelRequest{ID: id}, nbserv.WithResponse(&r))
		t.Cleanup(func() { direct.Kernels.Delete(context.Background(), id) })
		if err != nil || r.Attempts != 2 || k.ID != id {
			t.Errorf("Start with an id after a lost answer: %v, %v after %d attempts; want the kernel %s after 2", k, err, r.Attempts, id)
		}
		after := settle(t, direct)
		if len(after) != len(before)+1 {
			t.Errorf("%d new kernels, want 1", len(after)-len(before))
		}
	})
}

func TestE2ELostAnswerDeleteSucceeds(t *testing.T) {
	for _, l := range []loss{cutAfterAnswer, gateway502} {
		t.Run(l.String(), func(t *testing.T) {
			forEachTarget(t, func(t *testing.T, tg target, direct *nbserv.Client) {
				c := throughProxy(t, tg, lossyProxy(t, tg.url, "DELETE", l))
				s := create(t, direct, nbserv.CreateSessionRequest{Path: uniquePath(t, "d.ipynb"), Type: nbserv.TypeNotebook})
				var r nbserv.Response
				if err := c.Sessions.Delete(context.Background(), s.ID, nbserv.WithResponse(&r)); err != nil || r.Attempts != 2 || r.StatusCode != 404 {
					t.Errorf("Sessions.Delete: %v after %d attempts, last status %d; want success after a 404", err, r.Attempts, r.StatusCode)
				}
				k, err := direct.Kernels.Start(context.Background(), nbserv.StartKernelRequest{})
				if err != nil {
					t.Fatal(err)
				}
				c2 := throughProxy(t, tg, lossyProxy(t, tg.url, "DELETE", l))
				if err := c2.Kernels.Delete(context.Background(), k.ID, nbserv.WithResponse(&r)); err != nil || r.Attempts != 2 {
					t.Errorf("Kernels.Delete: %v after %d attempts; want success", err, r.Attempts)
				}
				if _, err := direct.Kernels.Get(context.Background(), k.ID); !errors.Is(err, nbserv.ErrNotFound) {
					t.Errorf("kernel still there: %v", err)
				}
			})
		})
	}
}

// A create whose answer is lost while the server is still starting its
// kernel (the window in which a re-sent create would make a second
// session on a real Jupyter, reproduced by the reference server's kernel
// start delay): Create looks instead of re-sending, and the server ends
// with one session and one kernel.
func TestLostAnswerCreateDuringASlowKernelStart(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.SetKernelStartDelay(700 * time.Millisecond)
	tg := target{name: "refserver", url: srv.URL, token: srv.Token, generation: 1}
	c := throughProxy(t, tg, lossyProxy(t, tg.url, "POST", cutBeforeAnswer))
	var r nbserv.Response
	s, err := c.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "slow.ipynb", Type: nbserv.TypeNotebook}, nbserv.WithResponse(&r))
	if r.Attempts != 1 || err != nil && !errors.Is(err, nbserv.ErrOutcomeUnknown) {
		t.Errorf("Create: %v after %d attempts", err, r.Attempts)
	}
	time.Sleep(time.Second) // the first attempt's kernel has started by now
	list, _ := srv.Client.Sessions.List(context.Background())
	kernels, _ := srv.Client.Kernels.List(context.Background())
	if len(list) != 1 || len(kernels) != 1 {
		t.Fatalf("%d sessions and %d kernels after one Create, want 1 and 1", len(list), len(kernels))
	}
	if err == nil && s.ID != list[0].ID {
		t.Errorf("Create returned %s, the server holds %s", s.ID, list[0].ID)
	}
}
