package nbserv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

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

func TestPathSafety(t *testing.T) {
	var hits atomic.Int32
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	ctx := context.Background()
	for _, id := range []string{
		"../kernels", "..", "a/b-c-d-e-f", "a-b-c-d-e/../../kernels", "a-b-c-d-e?x=1", "a-b-c-d-e#x",
		"a-b-c-d-%65", "a-b-c-d-e ", " a-b-c-d-e", "a-b-c-d-e\n", "a-b-c-d", "a-b-c-d-e-f", "é-b-c-d-e",
	} {
		_, err := c.Sessions.Get(ctx, id)
		err2 := c.Sessions.Delete(ctx, id)
		_, err3 := c.Sessions.Rename(ctx, id, "x", "")
		_, err4 := c.Kernels.Get(ctx, id)
		for _, e := range []error{err, err2, err3, err4} {
			var ve *ValidationError
			if !errors.As(e, &ve) || ve.Field != "id" {
				t.Errorf("id %q: err = %v, want an id *ValidationError", id, e)
			}
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d requests reached the server", n)
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
		cfg.Token = testToken
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
