//go:build linux

package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A wss:// WebSocket, dialled with a caller's HTTPClient that carries its
// own TLS configuration, still acknowledges at once: TLS runs over the
// quick-ack connection, and the caller's TLS settings (here, the only
// root that trusts the server) are kept.
func TestWebSocketOverTLSQuickAcks(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		typ, msg, err := ws.Read(ctx)
		if err == nil {
			_ = ws.Write(ctx, typ, msg)
		}
		_, _, _ = ws.Read(ctx) // until the client closes
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	c, err := New(Settings{Config: Config{BaseURL: srv.URL, Token: NewSecret("t0ken"), HTTPClient: &http.Client{Transport: tr}}, Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()

	// Record the connections the WebSocket transport's dialler returns:
	// what TLS then runs over.
	wsc := c.wsClient() // built on the first dial; built here to record its dials
	wsTr, ok := wsc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("the WebSocket transport is a %T, not a clone of the caller's *http.Transport", wsc.Transport)
	}
	if wsTr.DialTLSContext != nil || wsTr.TLSClientConfig == nil || wsTr.TLSClientConfig.RootCAs != pool {
		t.Fatalf("the caller's TLS settings were not kept: %+v", wsTr.TLSClientConfig)
	}
	var mu sync.Mutex
	var dialled []net.Conn
	dial := wsTr.DialContext
	wsTr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err == nil {
			mu.Lock()
			dialled = append(dialled, conn)
			mu.Unlock()
		}
		return conn, err
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws, err := c.DialWebSocket(ctx, "echo", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Write(ctx, websocket.MessageText, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "ping" {
		t.Fatalf("echo over wss: %q, %v", msg, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")
	mu.Lock()
	defer mu.Unlock()
	if len(dialled) != 1 {
		t.Fatalf("%d connections dialled for one wss:// WebSocket", len(dialled))
	}
	if _, ok := dialled[0].(*quickAckConn); !ok {
		t.Errorf("TLS runs over a %T, not a quick-ack connection", dialled[0])
	}
}
