package nbserv

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryPolicy(t *testing.T) {
	ctx := context.Background()
	one := "http://jupyter.test/api/sessions/" + testSessionID
	cases := []struct {
		name      string
		method    string
		statuses  []int
		wantCalls int
		wantErr   error
	}{
		{"GET 503 then 200", "GET", []int{503, 200}, 2, nil},
		{"GET 429, 502, 504 then 200", "GET", []int{429, 502, 504, 200}, 4, nil},
		{"GET gives up after RetryMax", "GET", []int{503}, 4, ErrServer},
		{"GET 500 is final", "GET", []int{500, 200}, 1, ErrServer},
		{"GET 501 is final", "GET", []int{501, 200}, 1, ErrKernelUnavailable},
		{"GET 404 is final", "GET", []int{404, 200}, 1, ErrNotFound},
		{"GET 400 is final", "GET", []int{400, 200}, 1, ErrBadRequest},
		{"GET 403 is final", "GET", []int{403, 200}, 1, ErrUnauthorized},
		{"POST create is retried after a refusal", "POST", []int{503, 429, 201}, 3, nil},
		{"POST create is not re-sent after a 502", "POST", []int{502, 201}, 1, ErrOutcomeUnknown},
		{"PATCH is retried after a refusal", "PATCH", []int{503, 200}, 2, nil},
		{"PATCH is not re-sent after a 504", "PATCH", []int{504, 200}, 1, ErrOutcomeUnknown},
		{"DELETE is retried", "DELETE", []int{503, 502, 204}, 3, nil},
		{"DELETE 404 after a 502 is success", "DELETE", []int{502, 404}, 2, nil},
		{"DELETE 404 after a 504 is success", "DELETE", []int{504, 404}, 2, nil},
		{"DELETE 404 after only refusals is not found", "DELETE", []int{503, 429, 404}, 3, ErrNotFound},
		{"DELETE 410 is final", "DELETE", []int{410, 204}, 1, ErrKernelGone},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, m := newMock(t, "http://jupyter.test", func(cfg *Config) { cfg.RetryMax = 3 })
			url := one
			if tc.method == "POST" {
				url = "http://jupyter.test/api/sessions"
			}
			sequence(m, tc.method, url, tc.statuses)
			var r Response
			var err error
			switch tc.method {
			case "GET":
				_, err = c.Sessions.Get(ctx, testSessionID, WithResponse(&r))
			case "POST":
				_, err = c.Sessions.Create(ctx, CreateSessionRequest{Path: "p", Type: "file"}, WithResponse(&r))
			case "PATCH":
				_, err = c.Sessions.Rename(ctx, testSessionID, "n", "", WithResponse(&r))
			case "DELETE":
				err = c.Sessions.Delete(ctx, testSessionID, WithResponse(&r))
			}
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			reqs := m.requests()
			if len(reqs) != tc.wantCalls || r.Attempts != tc.wantCalls {
				t.Errorf("%d requests, Attempts %d, want %d", len(reqs), r.Attempts, tc.wantCalls)
			}
			for _, q := range reqs[1:] {
				if q.Body != reqs[0].Body {
					t.Errorf("retried body %q differs from %q", q.Body, reqs[0].Body)
				}
			}
		})
	}
}

func TestDelete404WithoutRetryIsNotFound(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	sequence(m, "DELETE", "http://jupyter.test/api/sessions/"+testSessionID, []int{404})
	if err := c.Sessions.Delete(context.Background(), testSessionID); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestNoRetriesDisables(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) { cfg.RetryMax = NoRetries })
	sequence(m, "GET", "http://jupyter.test/api/sessions", []int{503, 200})
	if _, err := c.Sessions.List(context.Background()); !errors.Is(err, ErrServer) || len(m.requests()) != 1 {
		t.Errorf("err = %v after %d requests", err, len(m.requests()))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) {
		cfg.RetryWaitMin, cfg.RetryWaitMax = time.Millisecond, 3*time.Second
	})
	sequence(m, "GET", "http://jupyter.test/api/sessions/"+testSessionID, []int{429, 200}, "Retry-After", "1")
	start := time.Now()
	if _, err := c.Sessions.Get(context.Background(), testSessionID); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, before Retry-After's 1s", waited)
	}
}

func TestRetryAfterBeyondMaxStopsRetrying(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	sequence(m, "GET", "http://jupyter.test/api/sessions", []int{503, 200}, "Retry-After", "120")
	var r Response
	_, err := c.Sessions.List(context.Background(), WithResponse(&r))
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Header.Get("Retry-After") != "120" || len(m.requests()) != 1 {
		t.Errorf("err = %v after %d requests", err, len(m.requests()))
	}
}

// A 429 or 503 whose wait cannot fit in what is left of the
// call's deadline is returned at once, with its status and Retry-After,
// rather than a context error after the deadline.
func TestRetryAfterBeyondDeadlineReturnsTheAnswer(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) {
		cfg.RetryWaitMax, cfg.Timeout = 10*time.Second, time.Second
	})
	sequence(m, "GET", "http://jupyter.test/api/sessions", []int{503, 200}, "Retry-After", "3")
	start := time.Now()
	_, err := c.Sessions.List(context.Background())
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 503 || e.Header.Get("Retry-After") != "3" || len(m.requests()) != 1 {
		t.Errorf("err = %v after %d requests, want the 503 at once", err, len(m.requests()))
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("returned after %v: it waited for the deadline", d)
	}
}

func TestCancelStopsBackoffAtOnce(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) {
		cfg.RetryWaitMin, cfg.RetryWaitMax, cfg.Timeout = time.Hour, time.Hour, NoTimeout
	})
	sequence(m, "GET", "http://jupyter.test/api/sessions", []int{503})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, err := c.Sessions.List(ctx); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("List still waiting 10s after its context ended")
	}
}

func TestConnectionErrorsAreRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 { // drop the first connection without answering
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.Write([]byte("[]"))
	}))
	defer srv.Close()
	c, err := NewClient(Config{BaseURL: srv.URL, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Sessions.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 2 {
		t.Errorf("%d requests, want 2", n.Load())
	}
}

func TestTransportErrorKeepsCauseAndHidesToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens any more
	c, err := NewClient(Config{BaseURL: url, Token: NewSecret(testToken), RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Sessions.List(context.Background())
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Fatalf("err = %v", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a transport error is not an *Error")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Sessions.List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled call: err = %v, want context.Canceled", err)
	}
}
