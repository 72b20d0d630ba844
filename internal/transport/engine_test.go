package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// scripted is a RoundTripper that answers the i-th request with steps[i]
// (the last repeats), counting requests and CloseIdleConnections calls.
type scripted struct {
	steps  []func(*http.Request) (*http.Response, error)
	n      atomic.Int32
	closed atomic.Int32
	bodies []string
	header []http.Header
}

func (s *scripted) RoundTrip(req *http.Request) (*http.Response, error) {
	i := min(int(s.n.Add(1))-1, len(s.steps)-1)
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	s.bodies = append(s.bodies, string(b))
	s.header = append(s.header, req.Header)
	return s.steps[i](req)
}

func (s *scripted) CloseIdleConnections() { s.closed.Add(1) }

// status answers with code and body, after firing the trace hooks of a
// request written on a connection, as net/http's transport does.
func status(code int, body string) func(*http.Request) (*http.Response, error) {
	return func(req *http.Request) (*http.Response, error) {
		written(req)
		return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)),
			ContentLength: int64(len(body)), Request: req}, nil
	}
}

func written(req *http.Request) {
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil {
		tr.GotConn(httptrace.GotConnInfo{})
		tr.WroteHeaders()
	}
}

func newScripted(t *testing.T, s *scripted) *Client {
	t.Helper()
	c, err := New(Settings{Name: "test", Config: Config{BaseURL: "http://h", HTTPClient: &http.Client{Transport: s},
		RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A connection had but nothing written on it: the server provably did not
// act, so a POST is sent again. The first attempt was written; were its
// trace kept for the second, the second would look sent, and the POST
// would end with ErrOutcomeUnknown.
func TestEachAttemptHasItsOwnTrace(t *testing.T) {
	s := &scripted{steps: []func(*http.Request) (*http.Response, error){
		status(503, "{}"),
		func(req *http.Request) (*http.Response, error) {
			httptrace.ContextClientTrace(req.Context()).GotConn(httptrace.GotConnInfo{})
			return nil, io.ErrUnexpectedEOF
		},
		status(201, `{"id": "x"}`),
	}}
	c := newScripted(t, s)
	var r Response
	_, err := c.Do(context.Background(), Call{Method: "POST", Path: "api/sessions", Body: map[string]string{"path": "p"}}, []CallOption{WithResponse(&r)})
	if err != nil || r.Attempts != 3 || r.StatusCode != 201 {
		t.Fatalf("err = %v, Attempts %d, status %d; want the 201 after 3 attempts", err, r.Attempts, r.StatusCode)
	}
	for i, b := range s.bodies {
		if b != `{"path":"p"}` {
			t.Errorf("attempt %d sent body %q", i+1, b)
		}
	}
}

// cutBody is a body that ends early with an error.
type cutBody struct{ io.Reader }

func (cutBody) Close() error { return nil }

func (b cutBody) Read(p []byte) (int, error) {
	n, err := b.Reader.Read(p)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// A body cut off while read is a failed attempt: a GET is sent again, a
// POST (whose answer is lost) is not, and reports ErrOutcomeUnknown.
func TestCutBodyIsRetriedOnlyWhenRepeatable(t *testing.T) {
	cut := func(req *http.Request) (*http.Response, error) {
		written(req)
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: cutBody{strings.NewReader(`{"i`)},
			ContentLength: 10, Request: req}, nil
	}
	for _, tc := range []struct {
		method   string
		attempts int
		wantErr  error
	}{
		{"GET", 2, nil},
		{"POST", 1, ErrOutcomeUnknown},
	} {
		s := &scripted{steps: []func(*http.Request) (*http.Response, error){cut, status(200, `{"id": "x"}`)}}
		c := newScripted(t, s)
		var r Response
		var got string
		_, err := c.Do(context.Background(), Call{Method: tc.method, Path: "api/sessions",
			Decode: func(b []byte) error { got = string(b); return nil }}, []CallOption{WithResponse(&r)})
		if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) || r.Attempts != tc.attempts {
			t.Errorf("%s: err = %v after %d attempts; want %v after %d", tc.method, err, r.Attempts, tc.wantErr, tc.attempts)
		}
		if tc.wantErr == nil && got != `{"id": "x"}` {
			t.Errorf("%s: decoded %q", tc.method, got)
		}
	}
}

// The engine asks CheckRetry again about an answer whose body was read;
// the verdict that made it final stands, even if the jittered wait would
// now fit (here: the deadline is gone).
func TestSecondLookKeepsTheVerdict(t *testing.T) {
	c := newScripted(t, &scripted{})
	var r Response
	x := c.startCall(context.Background(), time.Now().Add(-time.Second), Call{Method: "GET"}, &r, false)
	defer x.release()
	r.Attempts = 1
	resp := &http.Response{StatusCode: 503, Header: http.Header{}}
	if retry, _ := x.checkRetry(context.Background(), resp, nil); retry {
		t.Fatal("retried a 503 whose wait passes the deadline")
	}
	x.deadline = time.Time{}
	if retry, _ := x.checkRetry(context.Background(), resp, nil); retry {
		t.Error("the second look at a final answer retried it")
	}
	if retry, _ := x.checkRetry(context.Background(), resp, io.ErrUnexpectedEOF); !retry {
		t.Error("a GET whose body was cut off was not retried")
	}
}

// The engine closes its client's idle connections whenever a call gives
// up; that must not reach the transport every call shares, which only
// Client.CloseIdleConnections closes.
func TestGivingUpKeepsThePool(t *testing.T) {
	s := &scripted{steps: []func(*http.Request) (*http.Response, error){status(503, "{}")}}
	c := newScripted(t, s)
	if _, err := c.Do(context.Background(), Call{Method: "GET", Path: "api"}, nil); !errors.Is(err, ErrServer) {
		t.Fatalf("err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Do(ctx, Call{Method: "GET", Path: "api"}, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if n := s.closed.Load(); n != 0 {
		t.Errorf("calls that gave up closed the pool's idle connections %d times", n)
	}
	c.CloseIdleConnections()
	if n := s.closed.Load(); n != 1 {
		t.Errorf("Client.CloseIdleConnections reached the transport %d times, want 1", n)
	}
}

// Stream retries like Do and leaves the final 2xx body open for the
// caller.
func TestStreamAfterARetry(t *testing.T) {
	s := &scripted{steps: []func(*http.Request) (*http.Response, error){status(503, "{}"), status(200, "the file")}}
	c := newScripted(t, s)
	var r Response
	body, _, err := c.Stream(context.Background(), Call{Method: "GET", Path: "files/f"}, []CallOption{WithResponse(&r)})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil || string(b) != "the file" || r.Attempts != 2 {
		t.Errorf("read %q, %v after %d attempts", b, err, r.Attempts)
	}
}

// Calls share the client's header until one adds its own: that call's
// header is its own, and the next call's is as before.
func TestCallHeaderStaysWithItsCall(t *testing.T) {
	s := &scripted{steps: []func(*http.Request) (*http.Response, error){status(200, "{}")}}
	c := newScripted(t, s)
	for _, opts := range [][]CallOption{{WithHeader("X-Call", "1")}, nil} {
		if _, err := c.Do(context.Background(), Call{Method: "POST", Path: "api", Body: 1}, opts); err != nil {
			t.Fatal(err)
		}
	}
	if s.header[0].Get("X-Call") != "1" || s.header[1].Get("X-Call") != "" || c.Header().Get("X-Call") != "" {
		t.Errorf("X-Call: first call %q, second %q, client %q", s.header[0].Get("X-Call"), s.header[1].Get("X-Call"), c.Header().Get("X-Call"))
	}
	if s.header[1].Get("Content-Type") != "application/json" || c.Header().Get("Content-Type") != "" {
		t.Errorf("Content-Type: call %q, client %q", s.header[1].Get("Content-Type"), c.Header().Get("Content-Type"))
	}
}

// http.Client adds a cookie jar's cookies to the request's header in
// place: with a jar, the client's shared header must not be handed to a
// request, or every call would add its cookies to every later call's (and
// concurrent calls would race on the map).
func TestCookieJarDoesNotGrowTheSharedHeader(t *testing.T) {
	var mu sync.Mutex
	var cookies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cookies = append(cookies, r.Header.Get("Cookie"))
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "jupyterhub-session", Value: "s1", Path: "/"})
		w.Write([]byte("{}"))
	}))
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Settings{Name: "test", Config: Config{BaseURL: srv.URL, HTTPClient: &http.Client{Jar: jar}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	var wg sync.WaitGroup
	for range 3 {
		if _, err := c.Do(context.Background(), Call{Method: "GET", Path: "api"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	for range 8 { // concurrent calls: the race detector sees a shared map written
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Do(context.Background(), Call{Method: "GET", Path: "api"}, nil)
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i, got := range cookies[1:] {
		if got != "jupyterhub-session=s1" {
			t.Errorf("request %d sent Cookie %q, want the jar's one cookie", i+2, got)
		}
	}
	if h := c.Header().Get("Cookie"); h != "" {
		t.Errorf("the client's header gained Cookie %q", h)
	}
}

// A body cut off while read sends a GET again; when the context ends
// during the wait before that retry, the call fails with the context's
// error, as any call whose wait is cut short: the answer whose body was
// lost must not come back as the call's answer, with no body.
func TestCutBodyThenCancelledWaitIsTheContextsError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cut := func(req *http.Request) (*http.Response, error) {
		written(req)
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: cancelOnCut{cutBody{strings.NewReader(`{"i`)}, cancel},
			ContentLength: 10, Request: req}, nil
	}
	s := &scripted{steps: []func(*http.Request) (*http.Response, error){cut, status(200, `{"id": "x"}`)}}
	c, err := New(Settings{Name: "test", Config: Config{BaseURL: "http://h", HTTPClient: &http.Client{Transport: s},
		Timeout: NoTimeout, RetryWaitMin: time.Minute, RetryWaitMax: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	decoded := false
	_, err = c.Do(ctx, Call{Method: "GET", Path: "api/sessions", Decode: func([]byte) error { decoded = true; return nil }}, nil)
	if !errors.Is(err, context.Canceled) || decoded {
		t.Errorf("err = %v, decoded %v; want context.Canceled and nothing decoded", err, decoded)
	}
}

// cancelOnCut ends a context when its body is cut off.
type cancelOnCut struct {
	cutBody
	cancel context.CancelFunc
}

func (b cancelOnCut) Read(p []byte) (int, error) {
	n, err := b.cutBody.Read(p)
	if err != nil {
		b.cancel()
	}
	return n, err
}

// A caller's RoundTripper that writes to the request's header (against
// net/http's contract, but common in auth and tracing wrappers) gets a
// copy: what it adds stays with that request.
func TestRoundTripperWritingHeadersDoesNotReachTheClient(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, strings.Join(r.Header.Values("X-Trace"), ","))
		mu.Unlock()
		r.Header.Add("X-Trace", "span")
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
	})
	c, err := New(Settings{Name: "test", Config: Config{BaseURL: "http://h", HTTPClient: &http.Client{Transport: rt}}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Do(context.Background(), Call{Method: "GET", Path: "api"}, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i, s := range seen {
		if s != "" {
			t.Errorf("request %d arrived with X-Trace %q from an earlier request", i+1, s)
		}
	}
	if h := c.Header().Get("X-Trace"); h != "" {
		t.Errorf("the client's header gained X-Trace %q", h)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
