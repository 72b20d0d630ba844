package nbserv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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

// TestRequests asserts the exact request of every operation: method, URL
// (with and without prefix), headers and JSON body.
func TestRequests(t *testing.T) {
	ctx := context.Background()
	for _, base := range []string{"http://jupyter.test", "https://hub.example.org/user/alice/"} {
		root := strings.TrimSuffix(base, "/") + "/api/sessions"
		one := root + "/" + testSessionID
		cases := []struct {
			name         string
			call         func(c *Client) error
			method, url  string
			status       int
			answer, body string
		}{
			{"List", func(c *Client) error { _, err := c.Sessions.List(ctx); return err },
				"GET", root, 200, "[" + wireNotebookSession + "]", ""},
			{"Create", func(c *Client) error {
				_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "foo/nb1.ipynb", Type: TypeNotebook, Name: "nb1",
					Kernel: &KernelRequest{Name: "python3", Env: map[string]string{"A": "1"}}})
				return err
			}, "POST", root, 201, wireNotebookSession,
				`{"path":"foo/nb1.ipynb","type":"notebook","name":"nb1","kernel":{"name":"python3","env":{"A":"1"}}}`},
			{"CreateMinimal", func(c *Client) error {
				_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "c1", Type: TypeConsole})
				return err
			}, "POST", root, 201, wireConsoleSession, `{"path":"c1","type":"console"}`},
			{"CreateByKernelID", func(c *Client) error {
				_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "c1", Type: "file", Kernel: &KernelRequest{ID: testKernelID}})
				return err
			}, "POST", root, 201, wireConsoleSession, `{"path":"c1","type":"file","kernel":{"id":"` + testKernelID + `"}}`},
			{"Get", func(c *Client) error { _, err := c.Sessions.Get(ctx, testSessionID); return err },
				"GET", one, 200, wireNotebookSession, ""},
			{"RenameName", func(c *Client) error { _, err := c.Sessions.Rename(ctx, testSessionID, "renamed", ""); return err },
				"PATCH", one, 200, wireNotebookSession, `{"name":"renamed"}`},
			{"RenameBoth", func(c *Client) error {
				_, err := c.Sessions.Rename(ctx, testSessionID, "renamed", "foo/renamed.ipynb")
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{"path":"foo/renamed.ipynb","name":"renamed"}`},
			{"UpdateEmpty", func(c *Client) error {
				_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{})
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{}`},
			{"UpdateAll", func(c *Client) error {
				_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{Path: Ptr(""), Name: Ptr("n"), Type: Ptr("console"),
					Kernel: &KernelRequest{Name: "python3"}})
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{"path":"","name":"n","type":"console","kernel":{"name":"python3"}}`},
			{"UpdateKernelID", func(c *Client) error {
				_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{Kernel: &KernelRequest{ID: testKernelID}})
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{"kernel":{"id":"` + testKernelID + `"}}`},
			{"Delete", func(c *Client) error { return c.Sessions.Delete(ctx, testSessionID) },
				"DELETE", one, 204, "", ""},
			{"KernelsList", func(c *Client) error { _, err := c.Kernels.List(ctx); return err },
				"GET", strings.TrimSuffix(base, "/") + "/api/kernels", 200, "[]", ""},
			{"KernelsStart", func(c *Client) error { _, err := c.Kernels.Start(ctx, StartKernelRequest{Name: "python3"}); return err },
				"POST", strings.TrimSuffix(base, "/") + "/api/kernels", 201, `{"id": "` + testKernelID + `", "name": "python3", "last_activity": "2026-11-27T00:28:40.011808Z", "execution_state": "starting", "connections": 0}`, `{"name":"python3"}`},
			{"KernelsDelete", func(c *Client) error { return c.Kernels.Delete(ctx, testKernelID) },
				"DELETE", strings.TrimSuffix(base, "/") + "/api/kernels/" + testKernelID, 204, "", ""},
		}
		for _, tc := range cases {
			t.Run(base+"/"+tc.name, func(t *testing.T) {
				c, m := newMock(t, base, func(cfg *Config) {
					cfg.UserAgent = "myapp/2"
					cfg.Header = http.Header{"X-Team": {"data"}}
				})
				m.on(tc.method, tc.url, tc.status, tc.answer)
				if err := tc.call(c); err != nil {
					t.Fatal(err)
				}
				reqs := m.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Method != tc.method || r.URL != tc.url {
					t.Errorf("request %s %s, want %s %s", r.Method, r.URL, tc.method, tc.url)
				}
				if r.Body != tc.body {
					t.Errorf("body %s, want %s", r.Body, tc.body)
				}
				want := map[string]string{
					"Authorization": "token " + testToken,
					"Accept":        "application/json",
					"User-Agent":    "myapp/2 go-nbserv/" + Version,
					"X-Team":        "data",
					"Content-Type":  "",
				}
				if tc.body != "" {
					want["Content-Type"] = "application/json"
				}
				for k, v := range want {
					if got := r.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
			})
		}
	}
}

func TestCallOptions(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/bob")
	m.on("POST", "http://jupyter.test/user/bob/api/sessions", 201, wireNotebookSession,
		"Location", "/user/bob/api/sessions/"+testSessionID)
	var r Response
	s, err := c.Sessions.Create(context.Background(), CreateSessionRequest{Path: "foo/nb1.ipynb", Type: TypeNotebook},
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
		cfg.Header = http.Header{"Authorization": {"token other"}}
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
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) { cfg.Token = "" })
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
	cfg := Config{BaseURL: "http://h/", Token: testToken}
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

func TestModelsDecodeFromWire(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/api/sessions/"+testSessionID, 200, wireNotebookSession)
	got, err := c.Sessions.Get(context.Background(), testSessionID)
	if err != nil {
		t.Fatal(err)
	}
	want := &Session{
		ID: testSessionID, Path: "foo/nb1.ipynb", Name: "nb1", Type: "notebook",
		Kernel: &Kernel{ID: testKernelID, Name: "python3", LastActivity: mustTime(t, "2026-11-27T00:08:47.026443Z"),
			ExecutionState: "starting"},
		Notebook: &NotebookRef{Path: "foo/nb1.ipynb", Name: "nb1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
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

func TestValidIDMatchesJupytersRoute(t *testing.T) {
	route := regexp.MustCompile(`^\w+-\w+-\w+-\w+-\w+$`) // Jupyter's, anchored as Tornado does
	for _, id := range []string{
		testSessionID, "a-b-c-d-e", "A_1-b-c-d-e", "", "-", "a-b-c-d", "a-b-c-d-e-f", "a--b-c-d", "-a-b-c-d", "a-b-c-d-",
		"a-b-c-d-é", "a-b-c-d-e ", "a/b-c-d-e", "a-b-c-d-%41", "..", "a-b-c-d-e\n",
	} {
		if got, want := validID(id), route.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, Jupyter's route says %v", id, got, want)
		}
	}
}

func TestOtherAuthSchemeWithoutToken(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) {
		cfg.Token = ""
		cfg.Header = http.Header{"authorization": {"Bearer hub-token"}} // not canonical: still applied
	})
	m.on("GET", "http://jupyter.test/api/sessions", 200, "[]")
	if _, err := c.Sessions.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := m.requests()[0].Header.Get("Authorization"); got != "Bearer hub-token" {
		t.Errorf("Authorization = %q", got)
	}
}
