package nbserv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
)

func TestNewClientRejectsMalformedBaseURL(t *testing.T) {
	for _, raw := range []string{
		"", "://x", "localhost:8888", "ftp://h/", "http://", "http://u:p@h/", "http://h/?token=x", "http://h/#f", "http://h/%zz",
	} {
		_, err := NewClient(Config{BaseURL: raw})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "BaseURL" || !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NewClient(%q) = %v, want a BaseURL *ValidationError", raw, err)
		}
	}
}

func TestNewClientRejectsBadLimits(t *testing.T) {
	for field, cfg := range map[string]Config{
		"RetryWaitMin":     {BaseURL: "http://h", RetryWaitMin: 5 * time.Second, RetryWaitMax: time.Second},
		"RetryWaitMin ":    {BaseURL: "http://h", RetryWaitMin: -time.Second},
		"MaxResponseBytes": {BaseURL: "http://h", MaxResponseBytes: -1},
	} {
		var ve *ValidationError
		if _, err := NewClient(cfg); !errors.As(err, &ve) || ve.Field != strings.TrimSpace(field) {
			t.Errorf("%s: err = %v", field, err)
		}
	}
}

func TestNewClientNormalizesPrefix(t *testing.T) {
	for raw, want := range map[string]string{
		"http://h:8888":                       "http://h:8888/",
		"http://h:8888/":                      "http://h:8888/",
		"https://hub.example.org/user/alice":  "https://hub.example.org/user/alice/",
		"https://hub.example.org/user/alice/": "https://hub.example.org/user/alice/",
	} {
		c, err := NewClient(Config{BaseURL: raw})
		if err != nil {
			t.Fatalf("NewClient(%q): %v", raw, err)
		}
		if got := c.BaseURL(); got != want {
			t.Errorf("BaseURL of %q = %q, want %q", raw, got, want)
		}
	}
}

func TestCallOptions(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/bob")
	m.on("POST", "http://jupyter.test/user/bob/api/sessions", 201, wireNotebookSession,
		"Location", "/user/bob/api/sessions/"+testSessionID)
	var r Response
	s, err := c.Sessions.Create(context.Background(), CreateSessionRequest{Path: "foo/nb1.ipynb", Type: SessionNotebook},
		WithHeader("X-Request-Id", "42"), WithResponse(&r))
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != testSessionID {
		t.Errorf("ID = %q", s.ID)
	}
	if r.StatusCode != 201 || r.Header.Get("Location") != "/user/bob/api/sessions/"+testSessionID || string(r.Body) != wireNotebookSession || r.Attempts != 1 {
		t.Errorf("Response = %d %v %q attempts %d", r.StatusCode, r.Header, r.Body, r.Attempts)
	}
	if got := m.requests()[0].Header.Get("X-Request-Id"); got != "42" {
		t.Errorf("X-Request-Id = %q", got)
	}
}

func TestHeaderCannotOverrideToken(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) {
		cfg.Header = NewSecretHeader(http.Header{"Authorization": {"token other"}})
	})
	m.on("GET", "http://jupyter.test/api/sessions", 200, "[]")
	if _, err := c.Sessions.List(context.Background(), WithHeader("Authorization", "Bearer x")); err != nil {
		t.Fatal(err)
	}
	if got := m.requests()[0].Header.Get("Authorization"); got != "token "+testToken {
		t.Errorf("Authorization = %q", got)
	}
}

func TestNoTokenSendsNoAuthorization(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) { cfg.Token = NewSecret("") })
	m.on("GET", "http://jupyter.test/api/sessions", 200, "[]")
	if _, err := c.Sessions.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h, ok := m.requests()[0].Header["Authorization"]; ok {
		t.Errorf("Authorization sent: %q", h)
	}
}

// roundTripFunc lets a test see that a caller's transport carries requests.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestCallerHTTPClientIsUsed(t *testing.T) {
	used := 0
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used++
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
	})}
	c, err := NewClient(Config{BaseURL: "https://tls.example", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Sessions.Delete(context.Background(), testSessionID); err != nil {
		t.Fatal(err)
	}
	if used != 1 {
		t.Errorf("caller's transport used %d times", used)
	}
}

func TestTokenNeverPrinted(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: NewSecret(testToken)}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		cfg.String(), cfg.GoString(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg),
		c.String(), fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
	} {
		if strings.Contains(s, testToken) {
			t.Errorf("token printed: %s", s)
		}
	}
	if !strings.Contains(cfg.String(), "[REDACTED]") {
		t.Errorf("Config.String() = %s: does not say a token is set", cfg.String())
	}
}

func TestUnexpectedSuccessBodyIsDecodeError(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/api/sessions/"+testSessionID, 200, "<html>proxy login</html>")
	_, err := c.Sessions.Get(context.Background(), testSessionID)
	if err == nil || !strings.Contains(err.Error(), "decoding 200 response") {
		t.Fatalf("err = %v", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a 200 must not be an *Error")
	}
}

// TestRequestsWithoutBodyHaveNone guards against sending GET and DELETE
// with an empty body, which makes net/http probe it on every call.
func TestRequestsWithoutBodyHaveNone(t *testing.T) {
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil && r.Body != http.NoBody {
			t.Errorf("%s %s has a body", r.Method, r.URL.Path)
		}
		body := "[]"
		if r.URL.Path != "/api/sessions" {
			body = wireNotebookSession
		}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1, Request: r}, nil
	})}
	c, err := NewClient(Config{BaseURL: "http://h", HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Sessions.List(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sessions.Get(ctx, testSessionID); err != nil {
		t.Fatal(err)
	}
	if err := c.Sessions.Delete(ctx, testSessionID); err != nil {
		t.Fatal(err)
	}
}

func TestOtherAuthSchemeWithoutToken(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) {
		cfg.Token = NewSecret("")
		cfg.Header = NewSecretHeader(http.Header{"authorization": {"Bearer hub-token"}}) // not canonical: still applied
	})
	m.on("GET", "http://jupyter.test/api/sessions", 200, "[]")
	if _, err := c.Sessions.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.requests()[0].Header.Get("Authorization"); got != "Bearer hub-token" {
		t.Errorf("Authorization = %q", got)
	}
}

// BaseURLs a person might type, each refused with what was
// given and what is expected, the parser's cause kept.
func TestBaseURLMistakesAreExplained(t *testing.T) {
	for raw, want := range map[string]string{
		"http://h/?":          "query",
		"127.0.0.1:8888":      `"http://127.0.0.1:8888"`,
		"localhost:8888":      `"http://localhost:8888"`,
		"ftp://h/":            `scheme "ftp"`,
		"http://u:pw@h/":      "credentials",
		"http:///x":           "no host",
		"http://h/#":          "fragment",
		"http://u:s3cret@h:x": "http://[REDACTED]@h:x",
	} {
		_, err := NewClient(Config{BaseURL: raw})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "BaseURL" || !strings.Contains(err.Error(), want) {
			t.Errorf("NewClient(%q) = %v, want a BaseURL error mentioning %s", raw, err, want)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the password is quoted: %v", err)
		}
	}
	_, err := NewClient(Config{BaseURL: "127.0.0.1:8888"})
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Errorf("the parse error's cause is lost: %v", err)
	}
}

// Jupyter prints its URL with the token in the query, and users paste it
// whole as BaseURL or JUPYTER_URL: the refusal never quotes the token,
// wherever in the URL it sits, and says where a token goes instead.
func TestBaseURLWithTokenIsNotQuoted(t *testing.T) {
	const secret = "s3cr3tT0k3n"
	for _, raw := range []string{
		"http://host:8888/lab?token=" + secret,
		"http://host:8888/lab/tree?token=" + secret + "#frag",
		"http://host:8888/#token=" + secret,
		"http://host:8888?token=" + secret,
		"http://host:8888/lab?token=" + secret + "%zz", // the parser's own error quotes the bad escape
		"http://host:8888/lab#" + secret + "%zz",
		"host:8888/lab?token=" + secret,
		"localhost:8888?token=" + secret,
		"127.0.0.1:8888/?token=" + secret,
		"http://" + secret + "@host:8888/",
		"http://user:" + secret + "@host:8888/",
		"http://user:" + secret + "?x@host:8888/", // a '?' inside the password
		"http://user:" + secret + "#x@host:8888/",
		"user:" + secret + "@host:8888/",
		"http://user:" + secret + "@host:x/",
		"http://user:" + secret + "@ho st/",
		"http://user:ab/" + secret + "@host:8888/", // a '/' inside the password (base64 has them)
		"user:ab/" + secret + "@host:8888",
		"user:" + secret + "@host:8888/?next=http://x", // a "://" in the query is no scheme's
		"http://host:8888/lab?token=" + secret + "\n",
		"  http://host:8888/lab?token=" + secret,
	} {
		_, err := NewClient(Config{BaseURL: raw})
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Field != "BaseURL" {
			t.Errorf("NewClient(%q) = %v, want a BaseURL *ValidationError", raw, err)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(fmt.Sprintf("%+v %#v", err, ve), secret) {
			t.Errorf("NewClient quotes the secret: %v", err)
		}
		if strings.ContainsAny(raw[strings.Index(raw, "host")+4:], "?#") && !strings.Contains(err.Error(), "Token") {
			t.Errorf("NewClient(%q) = %v, want it to say where the token goes", raw, err)
		}
		t.Setenv("JUPYTER_URL", raw)
		if _, err := ConfigFromEnv(); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("ConfigFromEnv with JUPYTER_URL=%q: %v", raw, err)
		}
		cfg := Config{BaseURL: raw}
		js, _ := json.Marshal(cfg)
		var text strings.Builder
		slog.New(slog.NewTextHandler(&text, nil)).Info("m", "cfg", cfg)
		for _, s := range []string{cfg.String(), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, &cfg), string(js), text.String()} {
			if strings.Contains(s, secret) {
				t.Errorf("a printer quotes the secret: %s", s)
			}
		}
	}
}

func TestTimeouts(t *testing.T) {
	stall := func(w http.ResponseWriter, r *http.Request) { // never sends its headers
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	trickle := func(w http.ResponseWriter, r *http.Request) { // headers, then a byte now and then
		w.Write([]byte("["))
		for range 500 {
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
			w.Write([]byte(" "))
		}
	}
	for name, h := range map[string]http.HandlerFunc{"stalled headers": stall, "trickled body": trickle} {
		t.Run(name+"/config", func(t *testing.T) {
			c, _ := serve(t, h, func(cfg *Config) { cfg.Timeout = 150 * time.Millisecond })
			start := time.Now()
			_, err := c.Sessions.List(context.Background())
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("call held %v past its 150ms deadline", d)
			}
		})
		t.Run(name+"/per call", func(t *testing.T) {
			c, _ := serve(t, h, func(cfg *Config) { cfg.Timeout = time.Hour })
			_, err := c.Sessions.List(context.Background(), WithTimeout(150*time.Millisecond))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want DeadlineExceeded", err)
			}
		})
	}
}

// NoTimeout switches the timeout off; a zero or negative
// WithTimeout is a spent budget, never "unlimited".
func TestTimeoutConventions(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("[]"))
	}, func(cfg *Config) { cfg.Timeout = NoTimeout })
	if _, err := c.Sessions.List(context.Background()); err != nil {
		t.Errorf("Timeout NoTimeout: %v", err)
	}
	if _, err := c.Sessions.List(context.Background(), WithTimeout(50*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WithTimeout overriding NoTimeout: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Nanosecond, -time.Hour} {
		if _, err := c.Sessions.List(context.Background(), WithTimeout(d)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WithTimeout(%v): %v, want DeadlineExceeded at once", d, err)
		}
	}
	c2, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Write([]byte("[]"))
	}, func(cfg *Config) { cfg.Timeout = 50 * time.Millisecond })
	if _, err := c2.Sessions.List(context.Background(), WithTimeout(NoTimeout)); err != nil {
		t.Errorf("WithTimeout(NoTimeout): %v", err)
	}
}

func TestBoundedReads(t *testing.T) {
	big := "[" + strings.Repeat(wireNotebookSession+",", 20) + wireNotebookSession + "]"
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/sessions" {
			w.Write([]byte(big))
			return
		}
		w.WriteHeader(500)
		w.Write([]byte(strings.Repeat("x", 4096)))
	}, func(cfg *Config) { cfg.MaxResponseBytes = 1024 })
	if _, err := c.Sessions.List(context.Background()); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("List: err = %v, want ErrResponseTooLarge", err)
	}
	if _, err := c.Sessions.Get(context.Background(), testSessionID); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("Get of a huge error page: err = %v, want ErrResponseTooLarge", err)
	}
	// A body of unknown length (chunked) is cut off at the limit too.
	c3, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		for range 10 {
			w.Write([]byte(strings.Repeat(" ", 512)))
			w.(http.Flusher).Flush()
		}
		w.Write([]byte("[]"))
	}, func(cfg *Config) { cfg.MaxResponseBytes = 1024 })
	if _, err := c3.Sessions.List(context.Background()); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("chunked List: err = %v, want ErrResponseTooLarge", err)
	}
	// At the limit exactly, the body is read.
	c2, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) },
		func(cfg *Config) { cfg.MaxResponseBytes = int64(len(big)) })
	if list, err := c2.Sessions.List(context.Background()); err != nil || len(list) != 21 {
		t.Errorf("List at the limit: %d sessions, %v", len(list), err)
	}
}

// A call's memory is bounded by MaxResponseBytes, whatever the
// body and whichever decoding path it takes. The bound, stated in the
// README: the body (at most MaxResponseBytes, in a buffer that grows to at
// most twice that) plus decoded values of at most DecodeFactor ×
// MaxResponseBytes, so a call allocates at most (2 + DecodeFactor) ×
// MaxResponseBytes, plus a constant. Measured here with a 4 MiB cap, as
// total bytes allocated during the call (above the peak it held).
func TestMemoryBoundedByMaxResponseBytes(t *testing.T) {
	const limit = 4 << 20
	const bound = (2+transport.DecodeFactor)*limit + 2<<20
	session := `{"id":"a-b-c-d-e","path":"p","name":"n","type":"notebook","kernel":{"id":"k-b-c-d-e","name":"python3","last_activity":"2026-11-27T00:08:47.026443Z","execution_state":"idle","connections":0}}`
	odd := `{"id":"a-b-c-d-e","name":1,"kernel":{"id":"k","connections":"x"}}`
	bodies := map[string]string{
		"[{},…]: objects":                    repeatJSON(`{}`, limit-16),
		`[{"id":1},…]: the lenient path`:     repeatJSON(`{"id":1}`, limit-16),
		"[odd sessions,…]: the lenient path": repeatJSON(odd, limit-16),
		`[{"kernel":{}},…]: nested objects`:  repeatJSON(`{"kernel":{}}`, limit-16),
		"[0,0,…]: scalars":                   repeatJSON(`0`, limit-16),
		"[[],[],…]: arrays":                  repeatJSON(`[]`, limit-16),
		"real sessions":                      repeatJSON(session, limit-16),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) },
				func(cfg *Config) { cfg.MaxResponseBytes = limit })
			var err error
			allocated := allocatedBy(func() { _, err = c.Sessions.List(context.Background()) })
			retained, _ := retainedBy(func() any { l, _ := c.Sessions.List(context.Background()); return l })
			t.Logf("%d-byte body: allocated %.1f MiB (%.1f× the cap), retained %.1f MiB; err: %v",
				len(body), float64(allocated)/(1<<20), float64(allocated)/limit, float64(retained)/(1<<20), err)
			if allocated > bound {
				t.Errorf("allocated %d MiB, over the stated %d MiB", allocated>>20, bound>>20)
			}
			if name == "real sessions" && err != nil {
				t.Errorf("a real list near the cap must decode: %v", err)
			}
			if err != nil && !errors.Is(err, ErrResponseTooLarge) && !strings.Contains(err.Error(), "id") && !strings.Contains(err.Error(), "cannot unmarshal") {
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
}

// A Content-Length that lies does not allocate ahead of the
// bytes that actually arrive.
func TestLyingContentLengthAllocatesWhatArrives(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // announce 64 MiB, send one byte, hang up; every time
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			conn.Read(buf)
			fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n[", 64<<20)
			conn.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	c, err := NewClient(Config{BaseURL: "http://" + ln.Addr().String(), RetryMax: NoRetries})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	allocated := allocatedBy(func() {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.Sessions.List(context.Background()); err == nil {
					t.Error("List of a cut-off body succeeded")
				}
			}()
		}
		wg.Wait()
	})
	if allocated > 8<<20 { // was 8 × 64 MiB
		t.Errorf("8 calls allocated %d MiB for 8 bytes received", allocated>>20)
	}
}

// Credentials stay on BaseURL's origin; only same-origin GET
// redirects are followed; the caller's HTTPClient is not modified.
func TestRedirectPolicy(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" || r.Header.Get("X-Call") != "" {
			leaked.Add(1)
		}
		w.Write([]byte("[]"))
	}))
	defer other.Close()
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			leaked.Store(0)
			var hits atomic.Int32
			c, srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/api/sessions/": // Jupyter's trailing-slash redirect, same origin
					http.Redirect(w, r, "/api/sessions", status)
				case "/api/sessions":
					if r.Method == "POST" { // never followed, even on the same origin
						http.Redirect(w, r, "/api/sessions/elsewhere", status)
						return
					}
					if r.Header.Get("Authorization") == "token "+testToken {
						hits.Add(1)
					}
					w.Write([]byte("[]"))
				default: // to another port of the same host
					http.Redirect(w, r, other.URL+"/api/sessions", status)
				}
			}, func(cfg *Config) {
				cfg.Token = NewSecret(testToken)
				cfg.Header = NewSecretHeader(http.Header{"X-Api-Key": {"k3y"}})
			})
			// Another origin: not followed, typed, target named.
			_, err := c.Sessions.Get(context.Background(), testSessionID, WithHeader("X-Call", "v"))
			var e *Error
			if !errors.Is(err, ErrRedirect) || !errors.As(err, &e) || e.Location != other.URL+"/api/sessions" ||
				!strings.Contains(err.Error(), other.URL) {
				t.Errorf("cross-origin redirect: %v", err)
			}
			// A POST is never followed, even on the same origin.
			_, err = c.Sessions.Create(context.Background(), CreateSessionRequest{Path: "p", Type: "t"})
			if !errors.Is(err, ErrRedirect) {
				t.Errorf("redirected POST: %v", err)
			}
			if leaked.Load() != 0 {
				t.Errorf("%d requests with credentials reached another origin", leaked.Load())
			}
			// The same-origin GET redirect is followed with its credentials.
			resp, _, err := c.t.Stream(context.Background(), transport.Call{Method: "GET", Path: "api/sessions/"}, nil)
			if err != nil || hits.Load() != 1 {
				t.Errorf("same-origin GET redirect: %v, %d authorized hits", err, hits.Load())
			} else {
				resp.Close()
			}
			_ = srv
		})
	}
	t.Run("to a login page", func(t *testing.T) {
		c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/login" {
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<form>password</form>")) // 200: what following would give
				return
			}
			http.Redirect(w, r, "/login?next=%2Ffiles%2Fa.bin", http.StatusFound)
		})
		body, _, err := c.t.Stream(context.Background(), transport.Call{Method: "GET", Path: "files/a.bin"}, nil)
		if err == nil {
			body.Close()
		}
		if !errors.Is(err, ErrRedirect) || !errors.Is(err, ErrUnauthorized) {
			t.Errorf("redirect to the login page: %v, want ErrRedirect and ErrUnauthorized", err)
		}
	})
	t.Run("https to http", func(t *testing.T) {
		plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "" {
				leaked.Add(1)
			}
		}))
		defer plain.Close()
		secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// the same host and port, downgraded to http
			http.Redirect(w, r, "http://"+r.Host+"/api/sessions", http.StatusFound)
		}))
		defer secure.Close()
		leaked.Store(0)
		mine := secure.Client()
		c, err := NewClient(Config{BaseURL: secure.URL, Token: NewSecret(testToken), HTTPClient: mine})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdleConnections()
		if _, err := c.Sessions.List(context.Background()); !errors.Is(err, ErrRedirect) {
			t.Errorf("downgrade: %v", err)
		}
		if mine.CheckRedirect != nil {
			t.Error("the caller's HTTPClient was modified")
		}
		if leaked.Load() != 0 {
			t.Error("token sent over http")
		}
	})
}

// A redirect to a host whose name only Unicode case folding makes the
// base's is another origin: σ and ς fold together, but IDNA (what the
// transport dials) makes them xn--4xa and xn--3xa, two servers.
func TestRedirectToAFoldEqualHostIsNotFollowed(t *testing.T) {
	var leaked atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Api-Key") != "" {
			leaked.Add(1)
		}
		w.Write([]byte("[]"))
	}))
	defer other.Close()
	base := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://ς.example/api/sessions", http.StatusFound)
	}))
	defer base.Close()
	var dialed sync.Map
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed.Store(addr, true)
		to := map[string]string{"xn--4xa.example:80": base.Listener.Addr().String(), "xn--3xa.example:80": other.Listener.Addr().String()}[addr]
		if to == "" {
			return nil, fmt.Errorf("unexpected dial of %s", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, to)
	}}}
	defer hc.CloseIdleConnections()
	c, err := NewClient(Config{BaseURL: "http://σ.example/", Token: NewSecret(testToken), Header: NewSecretHeader(http.Header{"X-Api-Key": {"k3y"}}),
		HTTPClient: hc, RetryMax: NoRetries})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Sessions.List(context.Background()); !errors.Is(err, ErrRedirect) {
		t.Errorf("redirect to ς: %v, want ErrRedirect", err)
	}
	if leaked.Load() != 0 {
		t.Error("the token or Header reached the other host")
	}
	if _, ok := dialed.Load("xn--4xa.example:80"); !ok {
		t.Error("the base was never dialed: the test proves nothing")
	}
}

// TestConnectionsAreReused checks that bodies are drained and closed, on
// success and on error, so that one keep-alive connection serves all calls.
func TestConnectionsAreReused(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case "DELETE":
			w.WriteHeader(404)
			w.Write([]byte(`{"message": "Session not found", "reason": null}` + strings.Repeat(" ", 8192)))
		default:
			w.Write([]byte(wireNotebookSession))
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	c, _ := serveWith(t, srv)
	for range 50 {
		if _, err := c.Sessions.Get(context.Background(), testSessionID); err != nil {
			t.Fatal(err)
		}
		if err := c.Sessions.Delete(context.Background(), testSessionID); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("100 calls opened %d connections, want 1", n)
	}
}

// Calls that use up their retries leave the other calls'
// connections alone.
func TestExhaustedRetriesKeepThePool(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	c, _ := serveWith(t, srv, func(cfg *Config) {
		cfg.RetryMax, cfg.RetryWaitMin, cfg.RetryWaitMax = 2, time.Millisecond, time.Millisecond
	})
	for range 20 {
		if _, err := c.Sessions.List(context.Background()); !errors.Is(err, ErrServer) {
			t.Fatalf("err = %v", err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 calls × 3 attempts opened %d connections, want 1", n)
	}
}

func TestLoggingNeverHoldsTheToken(t *testing.T) {
	var logs bytes.Buffer
	var n atomic.Int32
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(404)
		fmt.Fprintf(w, `{"message": "Session not found: %s", "reason": null}`, r.Header.Get("Authorization"))
	}, func(cfg *Config) {
		cfg.Token = NewSecret(testToken)
		cfg.RetryMax = 1
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, time.Millisecond
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	_, err := c.Sessions.Get(context.Background(), testSessionID)
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"msg":"nbserv retry"`) || !strings.Contains(lines[0], `"attempt":2`) ||
		!strings.Contains(lines[1], `"msg":"nbserv call"`) || !strings.Contains(lines[1], `"status":404`) ||
		!strings.Contains(lines[1], `"attempts":2`) || !strings.Contains(lines[1], `"path":"/api/sessions/`+testSessionID+`"`) {
		t.Errorf("log:\n%s", out)
	}
	// The server echoed the Authorization header into its message; the
	// logged error must still not hold the token.
	if strings.Contains(out, testToken) {
		t.Errorf("token in the log:\n%s", out)
	}
}
