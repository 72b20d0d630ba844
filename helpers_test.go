package nbserv

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
)

// The internal tests' ways to reach a server, and nothing else: newMock
// (a recording mock transport, for exact requests and canned answers),
// serve (a real loopback server running a handler, for timeouts, bodies,
// connections) and sequence (canned statuses in turn). The external tests
// (package nbserv_test) use newClient in e2e_test.go; benchmarks
// use a hand-written raw client as their floor.

// Bodies as a real Jupyter Server 1.23.3 sent them (docs/wire/sessions.md S1, S2).
const (
	wireNotebookSession = `{"id": "73293b23-4691-4c77-a951-f2091166b6aa", "path": "foo/nb1.ipynb", "name": "nb1", "type": "notebook", "kernel": {"id": "ee94081f-2d6b-4a43-9a1b-0e7ea6b3a5d1", "name": "python3", "last_activity": "2026-11-27T00:08:47.026443Z", "execution_state": "starting", "connections": 0}, "notebook": {"path": "foo/nb1.ipynb", "name": "nb1"}}`
	wireConsoleSession  = `{"id": "68bc38d6-91ae-43db-86ac-30c2cf2887a2", "path": "c1", "name": null, "type": "console", "kernel": {"id": "6b02616e-e599-4b17-9f96-051440d71017", "name": "python3", "last_activity": "2026-11-27T00:28:29.793697Z", "execution_state": "starting", "connections": 0}}`
	wireOddSession      = `{"id": "0caa679e-ef6e-4c3c-bfb4-bd4706324b22", "path": null, "name": 5, "type": "notebook", "kernel": {"id": "21fa6d6d-359b-4db0-a193-4a612e88ac3a", "name": "python3", "last_activity": "2026-11-27T00:28:35.521366Z", "execution_state": "starting", "connections": 0}, "notebook": {"path": null, "name": 5}}`

	testSessionID = "73293b23-4691-4c77-a951-f2091166b6aa"
	testKernelID  = "ee94081f-2d6b-4a43-9a1b-0e7ea6b3a5d1"
	testToken     = "s3cr3t-t0ken"
)

// recorded is what a mock server saw of one request.
type recorded struct {
	Method, URL string
	Header      http.Header
	Body        string
}

// mockServer answers from a MockTransport and records every request.
type mockServer struct {
	*httpmock.MockTransport
	mu   sync.Mutex
	reqs []recorded
}

func (m *mockServer) requests() []recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]recorded(nil), m.reqs...)
}

// on registers a responder answering status, body and header for method
// and url, recording each request it serves.
func (m *mockServer) on(method, url string, status int, body string, header ...string) {
	m.RegisterResponder(method, url, func(req *http.Request) (*http.Response, error) {
		m.record(req)
		resp := httpmock.NewStringResponse(status, body)
		resp.Request = req
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	})
}

func (m *mockServer) record(req *http.Request) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
	}
	m.mu.Lock()
	m.reqs = append(m.reqs, recorded{Method: req.Method, URL: req.URL.String(), Header: req.Header.Clone(), Body: string(body)})
	m.mu.Unlock()
}

// newMock returns a client for base whose requests go to a mock server.
// Retries wait 1ms so retry tests stay fast.
func newMock(t *testing.T, base string, adjust ...func(*Config)) (*Client, *mockServer) {
	t.Helper()
	m := &mockServer{MockTransport: httpmock.NewMockTransport()}
	cfg := Config{BaseURL: base, Token: NewSecret(testToken), HTTPClient: &http.Client{Transport: m},
		RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}
	for _, f := range adjust {
		f(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// serve starts a test server and a client for it, both closed at the end.
func serve(t testing.TB, h http.HandlerFunc, adjust ...func(*Config)) (*Client, *httptest.Server) {
	t.Helper()
	return serveWith(t, httptest.NewUnstartedServer(h), adjust...)
}

// serveWith is serve for a server built by the caller (any http.Handler,
// TLS); it starts srv.
func serveWith(t testing.TB, srv *httptest.Server, adjust ...func(*Config)) (*Client, *httptest.Server) {
	t.Helper()
	srv.Start()
	cfg := Config{BaseURL: srv.URL, RetryMax: NoRetries}
	for _, f := range adjust {
		f(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		srv.CloseClientConnections()
		srv.Close()
	})
	return c, srv
}

// fastRetries turns serve's retries back on (Config's default count),
// with waits of a millisecond, for tests of what is retried.
func fastRetries(cfg *Config) {
	cfg.RetryMax, cfg.RetryWaitMin, cfg.RetryWaitMax = 0, time.Millisecond, time.Millisecond
}

// sequence answers the i-th request with statuses[i] (the last repeats).
func sequence(m *mockServer, method, url string, statuses []int, header ...string) {
	var n atomic.Int32
	m.RegisterResponder(method, url, func(req *http.Request) (*http.Response, error) {
		m.record(req)
		i := min(int(n.Add(1))-1, len(statuses)-1)
		body := `{"message": "x", "reason": null}`
		switch statuses[i] {
		case 200, 201:
			body = wireNotebookSession
		case 204:
			body = ""
		}
		resp := httpmock.NewStringResponse(statuses[i], body)
		for j := 0; j+1 < len(header); j += 2 {
			resp.Header.Set(header[j], header[j+1])
		}
		return resp, nil
	})
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func itoa(n int) string { return strconv.Itoa(n) }

// allocatedBy returns the bytes allocated while f ran: an upper bound on
// the memory f held at its peak.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// retainedBy returns the live heap that f's result keeps, measured after a
// collection while the result is still referenced.
func retainedBy(f func() any) (int64, any) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc), v
}

// repeatJSON returns a JSON array of copies of elem, about size bytes.
func repeatJSON(elem string, size int) string {
	n := size / (len(elem) + 1)
	return "[" + strings.Repeat(elem+",", n-1) + elem + "]"
}
