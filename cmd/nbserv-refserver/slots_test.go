package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// slotBound bounds each wait for a connection slot in these tests: far
// beyond the few ping intervals or the one eviction a slot takes, far
// below the idle timeout (2 min) or "for ever" they guard against.
const slotBound = 60 * time.Second

// startKernel starts a kernel on the server at url on a connection of its
// own, closed after, and returns its id.
func startKernel(t *testing.T, url string) string {
	t.Helper()
	c := dial(t, url)
	fmt := "POST /api/kernels HTTP/1.1\r\nHost: x\r\nAuthorization: token t\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
	if _, err := c.Write([]byte(fmt)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != 201 {
		t.Fatalf("start kernel: %d %v", resp.StatusCode, err)
	}
	c.Close()
	return k.ID
}

// dialChannels opens a WebSocket on the kernel's channels whose client
// answers pings only if answer, and reads it until it closes; the channel
// it returns is closed then.
func dialChannels(ctx context.Context, t *testing.T, url, kid string, answer bool) (*websocket.Conn, <-chan struct{}) {
	t.Helper()
	u := strings.Replace(url, "http", "ws", 1) + "api/kernels/" + kid + "/channels"
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{
		HTTPHeader:     http.Header{"Authorization": {"token t"}},
		OnPingReceived: func(context.Context, []byte) bool { return answer },
	})
	if err != nil {
		return nil, nil
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for {
			if _, _, err := ws.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = ws.CloseNow()
		<-ended
	})
	return ws, ended
}

// answered sends GET /api on a new connection and reports whether an
// answer came within slotBound.
func answered(t *testing.T, url string) bool {
	t.Helper()
	c := dial(t, url)
	fmt := "GET /api HTTP/1.1\r\nHost: x\r\n\r\n"
	c.Write([]byte(fmt))
	c.SetReadDeadline(time.Now().Add(slotBound))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Logf("GET /api: %v", err)
		return false
	}
	resp.Body.Close()
	c.Close()
	return resp.StatusCode == 200
}

// Silent WebSockets (their clients answer no ping) are closed after the
// ping timeout, giving their slots back: with every slot held by one, a
// REST client is still answered.
func TestSilentWebSocketsFreeTheirSlots(t *testing.T) {
	url := start(t, "-max-conns", "2", "-ws-ping", "50ms", "-token", "t")
	kid := startKernel(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), slotBound)
	defer cancel()
	var ends []<-chan struct{}
	for range 2 {
		ws, ended := dialChannels(ctx, t, url, kid, false)
		if ws == nil {
			t.Fatal("dial failed")
		}
		ends = append(ends, ended)
	}
	if !answered(t, url) {
		t.Fatal("no answer while two silent WebSockets held both slots")
	}
	for _, ended := range ends {
		select {
		case <-ended:
		case <-ctx.Done():
			t.Fatal("a silent WebSocket is still open")
		}
	}
}

// Many concurrent kernel connections, each a WebSocket holding a slot for
// as long as it lives, fit under the default -max-conns (500 once hung
// at the 129th handshake).
func TestManyKernelConnections(t *testing.T) {
	url := start(t, "-token", "t")
	kid := startKernel(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*slotBound)
	defer cancel()
	const n = 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ws, _ := dialChannels(ctx, t, url, kid, true); ws == nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		t.Fatalf("%d of %d kernel connections failed (the bound: %v)", failed, n, 2*slotBound)
	}
	if !answered(t, url) {
		t.Fatalf("no REST answer beside %d kernel connections", n)
	}
}
