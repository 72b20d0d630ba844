package kernel_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/coder/websocket"
	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/benchpair"
	"github.com/nbserv/go-nbserv/internal/transport"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// Benchmarks of the kernel channels: an execute round trip (send
// execute_request, wait for the reply and the idle status) through the SDK
// and through a hand-written WebSocket client, the floor, on the reference
// kernel and, with NBSERV_JUPYTER_URL and NBSERV_JUPYTER_TOKEN set
// (WITH_JUPYTER_BASES=/ scripts/with-jupyter.sh go test -run XXX -bench
// Execute ./kernel), on a real ipykernel behind Jupyter Server.
//
// The floor speaks the legacy JSON format with encoding/json into plain
// structs, one request at a time, and dials as the SDK does (TCP_QUICKACK),
// so the paired ratio is the SDK's own cost. "floor-plain" dials without
// it: what a hand-written client gets from a Jupyter Server that leaves
// Nagle on (docs/wire/kernel-channels.md KC7).

// floor is the hand-written client: one socket, one request at a time.
type floor struct {
	ws      *websocket.Conn
	session string
	n       int
}

func newFloor(b *testing.B, base, token, kernelID string, hc *http.Client) *floor {
	ctx := context.Background()
	f := &floor{session: rand.Text()}
	ws, _, err := websocket.Dial(ctx, base+"api/kernels/"+kernelID+"/channels?session_id="+f.session, &websocket.DialOptions{
		HTTPClient: hc, HTTPHeader: http.Header{"Authorization": {"token " + token}}})
	if err != nil {
		b.Fatal(err)
	}
	ws.SetReadLimit(64 << 20)
	f.ws = ws
	b.Cleanup(func() { ws.Close(websocket.StatusNormalClosure, "") })
	// Jupyter relays a socket's messages once its probe of the kernel is
	// done; a kernel_info reply says so.
	f.request(b, "kernel_info_request", `{}`, false)
	return f
}

type floorMsg struct {
	Header struct {
		MsgType string `json:"msg_type"`
	} `json:"header"`
	Parent struct {
		MsgID string `json:"msg_id"`
	} `json:"parent_header"`
	Content struct {
		ExecutionState string `json:"execution_state"`
		Status         string `json:"status"`
	} `json:"content"`
}

// request sends one request and reads until its reply (and, if idle, the
// idle status of its parent) arrived.
func (f *floor) request(b testing.TB, msgType, content string, idle bool) {
	ctx := context.Background()
	f.n++
	id := fmt.Sprintf("%s_%d", f.session, f.n)
	msg := fmt.Sprintf(`{"header":{"msg_id":%q,"session":%q,"username":"floor","date":%q,"msg_type":%q,"version":"5.3"},"parent_header":{},"metadata":{},"content":%s,"channel":"shell","buffers":[]}`,
		id, f.session, time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), msgType, content)
	if err := f.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		b.Fatal(err)
	}
	gotReply, gotIdle := false, !idle
	for !gotReply || !gotIdle {
		_, data, err := f.ws.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var m floorMsg
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
		if m.Parent.MsgID != id {
			continue
		}
		switch {
		case m.Header.MsgType == "status" && m.Content.ExecutionState == "idle":
			gotIdle = true
		case m.Header.MsgType == "execute_reply" || m.Header.MsgType == "kernel_info_reply":
			if m.Content.Status != "ok" {
				b.Fatalf("%s: %s", msgType, data)
			}
			gotReply = true
		}
	}
}

const benchCode = `{"code":"1+1","silent":false,"store_history":true,"user_expressions":{},"allow_stdin":false,"stop_on_error":true}`

func BenchmarkExecute(b *testing.B) {
	type server struct{ name, url, token string }
	ref, err := nbservtest.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ref.Close)
	servers := []server{{"refserver", ref.URL, ref.Token}}
	if u := os.Getenv("NBSERV_JUPYTER_URL"); u != "" {
		servers = append(servers, server{"jupyter", u, os.Getenv("NBSERV_JUPYTER_TOKEN")})
	}
	ctx := context.Background()
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			c, err := nbserv.NewClient(nbserv.Config{BaseURL: srv.url, Token: nbserv.NewSecret(srv.token)})
			if err != nil {
				b.Fatal(err)
			}
			k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Kernels.Delete(ctx, k.ID); c.CloseIdleConnections() })
			connect := func(p string) *kernel.Conn {
				conn, err := c.Kernels.Connect(ctx, k.ID, kernel.WithProtocol(p))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { conn.Close() })
				return conn
			}
			legacy, v1 := connect(kernel.ProtocolLegacy), connect(kernel.ProtocolV1)
			sdk := func(conn *kernel.Conn) func() {
				return func() {
					if _, err := conn.Execute(ctx, "1+1"); err != nil {
						b.Fatal(err)
					}
				}
			}
			fl := newFloor(b, srv.url, srv.token, k.ID, transport.QuickAckHTTPClient(http.DefaultClient))
			floorExec := func() { fl.request(b, "execute_request", benchCode, true) }
			b.Run("sdk", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sdk(legacy)()
				}
			})
			b.Run("sdk-v1", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sdk(v1)()
				}
			})
			b.Run("floor", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					floorExec()
				}
			})
			b.Run("floor-plain", func(b *testing.B) {
				plain := newFloor(b, srv.url, srv.token, k.ID, &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()})
				for b.Loop() {
					plain.request(b, "execute_request", benchCode, true)
				}
			})
			b.Run("paired", func(b *testing.B) { benchpair.Run(b, sdk(legacy), floorExec) })
			b.Run("paired-v1", func(b *testing.B) { benchpair.Run(b, sdk(v1), floorExec) })
		})
	}
}
