package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	for attempt := range 40 {
		d := backoff(10*time.Millisecond, time.Second, attempt)
		want := min(10*time.Millisecond<<min(attempt, 20), time.Second)
		if d < want/2 || d > want {
			t.Errorf("attempt %d: %v outside [%v, %v]", attempt, d, want/2, want)
		}
	}
	for _, c := range []struct{ min, max time.Duration }{{time.Hour, 2 * time.Hour}, {1, 1<<63 - 1}, {time.Second, time.Second}} {
		for attempt := range 100 {
			if d := backoff(c.min, c.max, attempt); d < c.min/2 || d > c.max {
				t.Fatalf("backoff(%v, %v, %d) = %v", c.min, c.max, attempt, d)
			}
		}
	}
}

// The one place that decides a wait: Retry-After when sent, the backoff
// otherwise; no retry when Retry-After passes RetryWaitMax or the wait
// passes the deadline.
func TestRetryWait(t *testing.T) {
	c, err := New(Settings{Config: Config{BaseURL: "http://h", RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ra := func(v string) *http.Response { return &http.Response{Header: http.Header{"Retry-After": {v}}} }
	for _, tc := range []struct {
		name     string
		resp     *http.Response
		deadline time.Time
		want     time.Duration // -1: no retry; 0: any backoff
	}{
		{"Retry-After 2", ra("2"), time.Time{}, 2 * time.Second},
		{"Retry-After past RetryWaitMax", ra("6"), time.Time{}, -1},
		{"Retry-After past the deadline", ra("3"), time.Now().Add(time.Second), -1},
		{"backoff within the deadline", nil, time.Now().Add(time.Second), 0},
		{"backoff past the deadline", nil, time.Now().Add(-time.Second), -1},
	} {
		d, ok := c.RetryWait(0, tc.resp, tc.deadline)
		switch {
		case tc.want < 0 && ok, tc.want >= 0 && !ok:
			t.Errorf("%s: retry = %v", tc.name, ok)
		case tc.want > 0 && d != tc.want, tc.want == 0 && ok && d > time.Millisecond:
			t.Errorf("%s: wait %v, want %v", tc.name, d, tc.want)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"0": 0, "3": 3 * time.Second, "Fri, 27 Nov 2026 00:00:10 GMT": 10 * time.Second,
		"Thu, 26 Nov 2026 00:00:10 GMT": 0, "99999999999999999999": -1, "-1": -1, "soon": -1, "": -1,
		"9223372036854775807": 1 << 32 * time.Second,
	} {
		d, ok := retryAfter(v, now)
		if want < 0 && ok || want >= 0 && (!ok || d != want) {
			t.Errorf("retryAfter(%q) = %v, %v; want %v", v, d, ok, want)
		}
	}
}

func TestDefaultsApply(t *testing.T) {
	c, err := New(Settings{Config: Config{BaseURL: "http://h"}})
	if err != nil {
		t.Fatal(err)
	}
	want := settings{timeout: DefaultTimeout, retryMax: DefaultRetryMax, waitMin: DefaultRetryWaitMin,
		waitMax: DefaultRetryWaitMax, maxBody: DefaultMaxResponseBytes}
	if c.settings != want {
		t.Errorf("defaults: %+v, want %+v", c.settings, want)
	}
}

// A Call with Once sends one attempt whatever the retry settings, and
// Temporary says whether a retry might have got past its failure.
func TestOnceSendsOneAttempt(t *testing.T) {
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()
	c, err := New(Settings{Name: "test", Config: Config{BaseURL: srv.URL, RetryMax: 5, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for st, temporary := range map[int]bool{503: true, 502: true, 429: true, 500: false, 404: false, 200: false} {
		status.Store(int32(st))
		r, err := c.Do(context.Background(), Call{Method: "GET", Path: "x", Once: true}, nil)
		if r.Attempts != 1 || Temporary(r, err) != temporary {
			t.Errorf("%d: %d attempts, Temporary %v, want 1 and %v", st, r.Attempts, Temporary(r, err), temporary)
		}
		if r, _ := c.Do(context.Background(), Call{Method: "GET", Path: "x"}, nil); temporary && r.Attempts != 6 {
			t.Errorf("%d without Once: %d attempts", st, r.Attempts)
		}
	}
	srv.Close()
	r, err := c.Do(context.Background(), Call{Method: "GET", Path: "x", Once: true}, nil)
	if r.Attempts != 1 || !Temporary(r, err) {
		t.Errorf("connection refused: %d attempts, Temporary %v", r.Attempts, Temporary(r, err))
	}
}
