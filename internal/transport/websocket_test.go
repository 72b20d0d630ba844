package transport

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A client that never dials a WebSocket (the hub's, one that only makes
// REST calls) never builds the dialer's transport, a second connection
// pool; the first dial builds it once, with quick acknowledgements, and
// concurrent dials and CloseIdleConnections share it.
func TestWebSocketDialerIsBuiltOnFirstDial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{}`))
			return
		}
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}))
	defer srv.Close()
	c, err := New(Settings{Name: "test", Config: Config{BaseURL: srv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound for a hung test only
	defer cancel()
	if _, err := c.Do(ctx, Call{Method: "GET", Path: "api"}, nil); err != nil {
		t.Fatal(err)
	}
	c.CloseIdleConnections()
	if c.ws != nil {
		t.Fatal("a client that dialled no WebSocket built the dialer")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			ws, err := c.DialWebSocket(ctx, "ws", nil, nil)
			if err != nil {
				t.Error(err)
				return
			}
			_ = ws.CloseNow()
		}()
		go func() { defer wg.Done(); c.CloseIdleConnections() }()
	}
	wg.Wait()
	ws := c.ws
	if tr, ok := ws.Transport.(*http.Transport); !ok || tr == c.http.Transport || tr.DialContext == nil || !c.wsOwn {
		t.Errorf("dialer transport %T %v, own %v", ws.Transport, ws.Transport == c.http.Transport, c.wsOwn)
	}
}
