package nbserv_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/trustpem"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The end-to-end suite's harness; the tests are in e2e_<service>_test.go.
// The suite runs through the public SDK only, against the embedded
// reference server by default (plain and under a JupyterHub-style
// prefix), or against a real Jupyter Server when NBSERV_JUPYTER_URL and
// NBSERV_JUPYTER_TOKEN are set (scripts/with-jupyter.sh does that). The
// assertions are the same in both modes, except the ones marked with
// target.real: see that field.
//
// Over TLS: NBSERV_E2E_TLS=1 serves the reference servers over https; a
// real server's https URL comes with NBSERV_JUPYTER_CA, the PEM file of
// the certificate it presents (WITH_JUPYTER_TLS=1 scripts/with-jupyter.sh
// sets both). Every client of an https URL then trusts that certificate
// through its HTTPClient's TLS configuration, and nothing else.

// target is one server the suite runs against.
type target struct {
	name  string
	url   string
	token string
	// real is set against a real Jupyter Server, where two things may
	// legitimately differ from the reference server, and nothing else:
	//   - a kernel's execution_state moves on its own ("starting", then
	//     whatever the kernel reports), so tests assert only that it is set;
	//   - where Jupyter crashes into a 500, its body carries a Python
	//     traceback; the reference server answers the same status and keys
	//     with a short explanation, so tests assert the status and keys only.
	real bool
	// generation is the Jupyter Server's major version: 1 for the
	// reference server and Debian's 1.23.3, 2 when NBSERV_JUPYTER_GENERATION
	// says so (scripts/with-jupyter.sh sets it).
	generation int
	// gateway is set when NBSERV_JUPYTER_GATEWAY is 1: the server runs its
	// kernels on Enterprise Gateway (--gateway-url; WITH_GATEWAY_MODE=server
	// scripts/with-gateway.sh), and answers otherwise where
	// docs/wire/gateway.md GW9-GW14 say; the tests of those answers
	// assert them then.
	gateway bool
}

func targets(t *testing.T) []target {
	if u := os.Getenv("NBSERV_JUPYTER_URL"); u != "" {
		gen := 1
		if os.Getenv("NBSERV_JUPYTER_GENERATION") == "2" {
			gen = 2
		}
		return []target{{name: "jupyter", url: u, token: os.Getenv("NBSERV_JUPYTER_TOKEN"), real: true, generation: gen,
			gateway: os.Getenv("NBSERV_JUPYTER_GATEWAY") == "1"}}
	}
	// Both of the reference server's personalities, as the real servers
	// CI runs the suite against: 1.23.3 plain, 2.21.1 (its default) plain
	// and prefixed.
	v1 := newRefServer(t, nbservtest.WithGeneration(1))
	v2 := newRefServer(t)
	v2prefixed := newRefServer(t, nbservtest.WithBaseURL("/user/ci/"))
	return []target{
		{name: "refserver-1", url: v1.URL, token: v1.Token, generation: 1},
		{name: "refserver-2", url: v2.URL, token: v2.Token, generation: v2.Generation()},
		{name: "refserver-2-prefixed", url: v2prefixed.URL, token: v2prefixed.Token, generation: v2prefixed.Generation()},
	}
}

// newRefServer starts a reference server for an end-to-end test: over
// https when NBSERV_E2E_TLS=1, its certificate then being the one
// NBSERV_JUPYTER_CA names for the rest of the test (every such server
// presents the same, httptest's).
func newRefServer(t *testing.T, opts ...nbservtest.Option) *nbservtest.Server {
	t.Helper()
	if os.Getenv("NBSERV_E2E_TLS") != "1" {
		return nbservtest.NewServer(t, opts...)
	}
	srv := nbservtest.NewServer(t, append(opts, nbservtest.WithTLS())...)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NBSERV_JUPYTER_CA", ca)
	return srv
}

// e2eTransport is a transport of the test's own (closed when it ends)
// that trusts the certificate in NBSERV_JUPYTER_CA, when set, instead of
// the system's roots.
func e2eTransport(t testing.TB) *http.Transport {
	t.Helper()
	ca := os.Getenv("NBSERV_JUPYTER_CA")
	if ca == "" {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		t.Cleanup(tr.CloseIdleConnections)
		return tr
	}
	tr, err := trustpem.Transport(ca)
	if err != nil {
		t.Fatalf("NBSERV_JUPYTER_CA: %v", err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// forEachTarget runs f against every target with a fresh client.
func forEachTarget(t *testing.T, f func(t *testing.T, tg target, c *nbserv.Client)) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			c := newClient(t, tg.url, tg.token)
			f(t, tg, c)
		})
	}
}

// newClient is the external tests' one way to make a client: for base
// with token, a minute per call, adjusted by adjust.
func newClient(t testing.TB, base, token string, adjust ...func(*nbserv.Config)) *nbserv.Client {
	t.Helper()
	cfg := nbserv.Config{BaseURL: base, Token: nbserv.NewSecret(token), Timeout: time.Minute}
	if strings.HasPrefix(base, "https://") {
		cfg.HTTPClient = &http.Client{Transport: e2eTransport(t)}
	}
	for _, f := range adjust {
		f(&cfg)
	}
	c, err := nbserv.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// uniquePath gives each test its own paths, so runs never collide on a
// shared server.
func uniquePath(t *testing.T, name string) string {
	return fmt.Sprintf("e2e-%d/%s/%s", time.Now().UnixNano(), strings.ReplaceAll(t.Name(), "/", "_"), name)
}

// create creates a session and deletes it when the test ends: on a real
// server each session is a kernel process.
func create(t *testing.T, c *nbserv.Client, req nbserv.CreateSessionRequest, opts ...nbserv.CallOption) *nbserv.Session {
	t.Helper()
	s, err := c.Sessions.Create(context.Background(), req, opts...)
	if err != nil {
		t.Fatalf("Create %+v: %v", req, err)
	}
	t.Cleanup(func() {
		err := c.Sessions.Delete(context.Background(), s.ID)
		if err != nil && !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("cleanup: Delete %s: %v", s.ID, err)
		}
	})
	return s
}

func kernelIDs(t *testing.T, c *nbserv.Client) []string {
	t.Helper()
	ks, err := c.Kernels.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(ks))
	for i, k := range ks {
		ids[i] = k.ID
	}
	return ids
}

// Lost answers (of a create, a start, a delete), against every target: a
// real Jupyter Server in CI, the reference server otherwise. A proxy in
// front of the server loses the answer to the first request of one method
// in one of three ways; the SDK must then leave exactly what one call
// would have made: one session, one kernel.

// loss is how lossyProxy loses an answer.
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
	upstreamTransport := e2eTransport(t) // the proxy serves http; upstream may be https
	forward := func(r *http.Request, body []byte) (*http.Response, []byte, error) {
		u := *r.URL
		u.Scheme, u.Host = up.Scheme, up.Host
		req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, u.String(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := upstreamTransport.RoundTrip(req)
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

func TestE2EErrors(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		const unknown = "00000000-0000-4000-8000-000000000000"
		var e *nbserv.Error

		_, err := c.Sessions.Get(ctx, unknown)
		if !errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) || e.Message != "Session not found: session_id='"+unknown+"'" {
			t.Errorf("Get unknown: %v", err)
		}
		if err := c.Sessions.Delete(ctx, unknown); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Delete unknown: %v", err)
		}
		if _, err := c.Sessions.Rename(ctx, unknown, "x", ""); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Rename unknown: %v", err)
		}
		if _, err := c.Kernels.Get(ctx, unknown); !errors.As(err, &e) || e.Message != "Kernel does not exist: "+unknown {
			t.Errorf("Kernels.Get unknown: %v", err)
		}

		_, err = c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: uniquePath(t, "x"), Type: "file", Kernel: &nbserv.KernelRequest{Name: "nosuch"}})
		if tg.gateway { // the gateway's refusal reaches the client as a 500 (docs/wire/gateway.md GW12)
			if !errors.Is(err, nbserv.ErrServer) || !strings.Contains(err.Error(), "Error from Gateway") {
				t.Errorf("Create with unknown kernelspec through a gateway: %v", err)
			}
		} else if !errors.Is(err, nbserv.ErrKernelUnavailable) || !errors.As(err, &e) || e.ShortMessage != "nosuch not found" ||
			e.Message != "The 'nosuch' kernel is not available. Please pick another suitable kernel instead, or install that kernel." {
			t.Errorf("Create with unknown kernelspec: %v", err)
		}

		// Jupyter Server 1.x crashes on PATCH with an unknown kernelspec: a
		// 500 either way; only the traceback's text differs (see
		// target.real). 2.x answers 501, as to a create
		// (docs/wire/jupyter-server-2.md G2, G9).
		s := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "y"), Type: "file"})
		_, err = c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Kernel: &nbserv.KernelRequest{Name: "nosuch"}})
		if tg.generation == 2 {
			if !errors.Is(err, nbserv.ErrKernelUnavailable) || !errors.As(err, &e) || e.ShortMessage != "Error starting kernel nosuch" {
				t.Errorf("PATCH unknown kernelspec on 2.x: %v", err)
			}
		} else if !errors.Is(err, nbserv.ErrServer) || !errors.As(err, &e) || e.StatusCode != 500 || e.Message != "Unhandled error" ||
			!strings.Contains(e.Traceback, "NoSuchKernel") {
			t.Errorf("PATCH unknown kernelspec: %v (traceback %q)", err, e.Traceback)
		}
		if got, err := c.Sessions.Get(ctx, s.ID); err != nil || got.Kernel.ID != s.Kernel.ID {
			t.Errorf("session after failed PATCH: %+v, %v", got, err)
		}

		// Wrong and missing tokens.
		for _, token := range []string{"wrong-token", ""} {
			bad := newClient(t, tg.url, token)
			_, err := bad.Sessions.List(ctx)
			if !errors.Is(err, nbserv.ErrUnauthorized) || !errors.As(err, &e) || e.Message != "Forbidden" {
				t.Errorf("List with token %q: %v", token, err)
			}
			_, err = bad.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "p", Type: "file"})
			if !errors.Is(err, nbserv.ErrUnauthorized) || !errors.As(err, &e) || e.Message != "'_xsrf' argument missing from POST" {
				t.Errorf("Create with token %q: %v", token, err)
			}
			if strings.Contains(err.Error(), tg.token) {
				t.Errorf("error leaks the token: %v", err)
			}
		}

		// A wrong prefix reaches no route: Jupyter's HTML 404 page, which
		// embeds the token; the SDK redacts it.
		u, _ := url.Parse(tg.url)
		u.Path = "/no/such/prefix/"
		_, err = newClient(t, u.String(), tg.token).Sessions.List(ctx)
		if !errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) || !strings.Contains(string(e.Body), "404") ||
			strings.Contains(string(e.Body), tg.token) || strings.Contains(err.Error(), tg.token) {
			t.Errorf("wrong prefix: %v", err)
		}
	})
}

func TestE2EParallelClients(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, _ *nbserv.Client) {
		ctx := context.Background()
		const clients, each = 4, 2
		var wg sync.WaitGroup
		errs := make(chan error, clients*each*3)
		ids := make(chan string, clients*each)
		for i := range clients {
			c := newClient(t, tg.url, tg.token)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: uniquePath(t, fmt.Sprintf("p%d-%d", i, j)), Type: "file"})
					if err != nil {
						errs <- err
						continue
					}
					ids <- s.ID
					if _, err := c.Sessions.Rename(ctx, s.ID, fmt.Sprintf("n%d-%d", i, j), ""); err != nil {
						errs <- err
					}
					if err := c.Sessions.Delete(ctx, s.ID); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		close(ids)
		for err := range errs {
			t.Error(err)
		}
		seen := map[string]bool{}
		for id := range ids {
			if seen[id] {
				t.Errorf("session %s created twice", id)
			}
			seen[id] = true
		}
		if len(seen) != clients*each {
			t.Errorf("%d sessions created, want %d", len(seen), clients*each)
		}
	})
}

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
