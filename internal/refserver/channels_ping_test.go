package refserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// pingBound bounds every wait in TestWebSocketPing: far beyond the few
// 50 ms ping intervals each step needs, even on a loaded machine.
const pingBound = 60 * time.Second

// TestWebSocketPing: the server pings every kernel-channels socket; one
// whose client answers no ping is closed and stops counting as a
// connection, while one that answers stays open through many intervals
// and still works.
func TestWebSocketPing(t *testing.T) {
	ref := New(Options{Token: tok, Generation: 2, WebSocketPing: 50 * time.Millisecond})
	ts := httptest.NewServer(ref)
	t.Cleanup(func() { ref.Close(); ts.Close() })
	ref.mu.Lock()
	kid := ref.startKernel("python3").id
	ref.mu.Unlock()
	connections := func() int {
		ref.mu.Lock()
		defer ref.mu.Unlock()
		return len(ref.kernels[kid].rt.conns)
	}
	ctx, cancel := context.WithTimeout(t.Context(), pingBound)
	defer cancel()

	dial := func(answer bool, pings *atomic.Int64) *websocket.Conn {
		t.Helper()
		u := strings.Replace(ts.URL, "http", "ws", 1) + "/api/kernels/" + kid + "/channels?session_id=s" + map[bool]string{true: "1", false: "2"}[answer]
		ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"token " + tok}},
			OnPingReceived: func(context.Context, []byte) bool {
				pings.Add(1)
				return answer // false: no pong, as from a client gone silent
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.CloseNow() })
		return ws
	}
	var livePings, silentPings atomic.Int64
	live := dial(true, &livePings)
	silent := dial(false, &silentPings)
	// Both read, so both see pings; only the live one answers them.
	liveErr, silentErr := make(chan error, 1), make(chan error, 1)
	go func() {
		for {
			if _, _, err := live.Read(context.Background()); err != nil {
				liveErr <- err
				return
			}
		}
	}()
	go func() {
		for {
			if _, _, err := silent.Read(context.Background()); err != nil {
				silentErr <- err
				return
			}
		}
	}()
	select {
	case err := <-silentErr:
		if silentPings.Load() == 0 {
			t.Errorf("the silent socket ended without a ping: %v", err)
		}
	case <-ctx.Done():
		t.Fatalf("the silent socket is still open after %d pings", silentPings.Load())
	}
	// The live one has answered many pings, more than three intervals'.
	for livePings.Load() < 8 {
		select {
		case err := <-liveErr:
			t.Fatalf("the live socket closed after %d pings: %v", livePings.Load(), err)
		case <-ctx.Done():
			t.Fatalf("the live socket got %d pings", livePings.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	for connections() != 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("connections: %d, want the live one only", connections())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := live.Ping(ctx); err != nil {
		t.Errorf("the live socket after %d pings: %v", livePings.Load(), err)
	}
}
