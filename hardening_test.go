package nbserv

// Regression tests of the SDK's hardening: each input here broke the
// SDK before its fix. The README's Reliability section names them.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
				cfg.Token = testToken
				cfg.Header = http.Header{"X-Api-Key": {"k3y"}}
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
		c, err := NewClient(Config{BaseURL: secure.URL, Token: testToken, HTTPClient: mine})
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

// Config and Secret never encode the token.
func TestConfigNeverEncodesTheToken(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: testToken, Header: http.Header{"X-Api-Key": {"k3y-value"}}}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text, logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "token", cfg.Token)
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cfg", cfg, "token", cfg.Token)
	wrapped, _ := json.Marshal(struct{ C Config }{cfg})
	for where, s := range map[string]string{
		"json": string(js), "json of a struct holding it": string(wrapped), "slog json": logged.String(), "slog text": text.String(),
		"fmt":        fmt.Sprintf("%v %+v %#v %s %q %x %X %d %10s", cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token),
		"fmt config": fmt.Sprintf("%v %+v %#v %s %d %x", cfg, cfg, cfg, cfg, cfg, cfg),
	} {
		if strings.Contains(s, testToken) || strings.Contains(s, fmt.Sprintf("%x", testToken)) {
			t.Errorf("%s holds the token: %s", where, s)
		}
		if where == "slog json" && strings.Contains(s, "k3y-value") {
			t.Errorf("slog holds a Header value: %s", s)
		}
	}
	if Secret("").String() != "" || Secret("x").String() != "[REDACTED]" {
		t.Error("Secret.String must tell set from unset")
	}
}

// One rule for Config's numbers, each refused under its own
// name.
func TestConfigNegativeValuesAreRefusedByName(t *testing.T) {
	for field, cfg := range map[string]Config{
		"Timeout":          {Timeout: -time.Second},
		"RetryMax":         {RetryMax: -2},
		"RetryWaitMin":     {RetryWaitMin: -time.Second},
		"RetryWaitMax":     {RetryWaitMax: -time.Second},
		"MaxResponseBytes": {MaxResponseBytes: -1},
	} {
		cfg.BaseURL = "http://h"
		var ve *ValidationError
		if _, err := NewClient(cfg); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	for _, cfg := range []Config{{RetryMax: NoRetries}, {Timeout: NoTimeout}, {RetryWaitMin: 5 * time.Second}, {RetryWaitMax: time.Millisecond}} {
		cfg.BaseURL = "http://h"
		if _, err := NewClient(cfg); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
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
		"http://u:s3cret@h:x": "http://u:xxxxx@h:x",
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
