package nbserv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// loseFirstAnswer serves every request with h, but replaces the answer to
// the first request of method with a 502, as a proxy that lost the
// server's answer would: the request took effect, the client cannot know.
func loseFirstAnswer(t *testing.T, h http.Handler, method string) *httptest.Server {
	var lost atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == method && lost.CompareAndSwap(false, true) {
			h.ServeHTTP(httptest.NewRecorder(), r) // served, answer dropped
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func retryingClient(t *testing.T, url, token string) *nbserv.Client {
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: url, Token: nbserv.Secret(token), RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// Create is retried because Jupyter's create is idempotent per path: the
// retry after a lost answer gets the session the first attempt made.
func TestCreateRetryAfterLostAnswerYieldsOneSession(t *testing.T) {
	ref := nbservtest.NewServer(t)
	proxy := loseFirstAnswer(t, ref.Handler(), "POST")
	c := retryingClient(t, proxy.URL, ref.Token)
	var r nbserv.Response
	s, err := c.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.TypeNotebook}, nbserv.WithResponse(&r))
	if err != nil || r.Attempts != 2 {
		t.Fatalf("Create: %v after %d attempts", err, r.Attempts)
	}
	list, err := ref.Client.Sessions.List(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != s.ID {
		t.Errorf("server has %v (%v), want just %s", list, err, s.ID)
	}
	if ks, _ := ref.Client.Kernels.List(context.Background()); len(ks) != 1 {
		t.Errorf("%d kernels, want 1", len(ks))
	}
}

// Delete's retry after a lost answer meets a 404, which is success.
func TestDeleteRetryAfterLostAnswerSucceeds(t *testing.T) {
	ref := nbservtest.NewServer(t)
	s, err := ref.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.TypeNotebook})
	if err != nil {
		t.Fatal(err)
	}
	proxy := loseFirstAnswer(t, ref.Handler(), "DELETE")
	c := retryingClient(t, proxy.URL, ref.Token)
	var r nbserv.Response
	if err := c.Sessions.Delete(context.Background(), s.ID, nbserv.WithResponse(&r)); err != nil || r.Attempts != 2 || r.StatusCode != 404 {
		t.Errorf("Delete: %v after %d attempts, last status %d", err, r.Attempts, r.StatusCode)
	}
	if list, _ := ref.Client.Sessions.List(context.Background()); len(list) != 0 {
		t.Errorf("session still there: %v", list)
	}
}
