package nbexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// dropRelay stands between a client and a server: HTTP passes through,
// and each kernel channels WebSocket is relayed frame by frame (in the
// legacy JSON framing, which it can read), until the first stream
// message whose text is drop: that one is not relayed, and the socket is
// cut at both ends, as a network failure loses what was in flight.
type dropRelay struct {
	target *url.URL
	drop   string
	proxy  *httputil.ReverseProxy

	mu  sync.Mutex
	cut bool
}

func newDropRelay(t *testing.T, serverURL, drop string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatal(err)
	}
	target := &url.URL{Scheme: u.Scheme, Host: u.Host}
	r := &dropRelay{target: target, drop: drop, proxy: httputil.NewSingleHostReverseProxy(target)}
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts
}

func (r *dropRelay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") {
		r.proxy.ServeHTTP(w, req)
		return
	}
	ctx := req.Context()
	dst := *r.target
	dst.Scheme = "ws"
	dst.Path, dst.RawQuery = req.URL.Path, req.URL.RawQuery
	hdr := http.Header{}
	if a := req.Header.Get("Authorization"); a != "" {
		hdr.Set("Authorization", a)
	}
	server, resp, err := websocket.Dial(ctx, dst.String(), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		status := http.StatusBadGateway
		if resp != nil {
			status = resp.StatusCode
		}
		http.Error(w, err.Error(), status)
		return
	}
	defer server.CloseNow()
	client, err := websocket.Accept(w, req, nil) // no subprotocol: legacy JSON
	if err != nil {
		return
	}
	defer client.CloseNow()
	server.SetReadLimit(-1)
	client.SetReadLimit(-1)
	go func() {
		defer server.CloseNow()
		for {
			typ, data, err := client.Read(ctx)
			if err != nil || server.Write(ctx, typ, data) != nil {
				return
			}
		}
	}()
	for {
		typ, data, err := server.Read(ctx)
		if err != nil {
			return
		}
		if r.dropping(data) {
			return // the deferred CloseNows cut both ends
		}
		if client.Write(ctx, typ, data) != nil {
			return
		}
	}
}

// dropping reports whether data is the message to drop, the first time.
func (r *dropRelay) dropping(data []byte) bool {
	var m struct {
		Header struct {
			MsgType string `json:"msg_type"`
		} `json:"header"`
		Content struct{ Text string } `json:"content"`
	}
	if json.Unmarshal(data, &m) != nil || m.Header.MsgType != "stream" || m.Content.Text != r.drop {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	first := !r.cut
	r.cut = true
	return first
}

// A cell whose socket dropped, losing one of its outputs, ends with
// kernel.ErrOutputMayBeLost; when the cell also raised, and its error is
// allowed, the run must still fail rather than go on as if the cell's
// outputs were all recorded: an allowed exception allows the exception,
// not a notebook with an output missing.
func TestRunFailsOnALostOutputEvenWhenTheCellsErrorIsAllowed(t *testing.T) {
	for name, allowed := range map[string]bool{"allowed": true, "not allowed": false} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := nbservtest.NewServer(t)
			// The sleep leaves the cell running while the relay cuts the
			// socket (within moments of the lost output: seconds are a
			// generous margin on a loaded machine), so that its error,
			// reply and idle status come on the restored socket; the Conn
			// waits for the busy kernel however long the restore takes.
			srv.Script("cell", nbservtest.Stdout("before\n"), nbservtest.Stderr("lost\n"),
				nbservtest.Sleep(3*time.Second), nbservtest.Error("ValueError", "boom"))
			relay := newDropRelay(t, srv.URL, "lost\n")
			prefix, err := url.Parse(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			c, err := nbserv.NewClient(nbserv.Config{BaseURL: relay.URL + prefix.Path, Token: nbserv.NewSecret(srv.Token)})
			if err != nil {
				t.Fatal(err)
			}
			_, conn := startKernel(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			nb := nbformat.New(staleCell("cell"))
			err = nbexec.Run(ctx, conn, nb, nbexec.Options{AllowErrors: allowed})
			var ce *nbexec.CellError
			var ke *kernel.Error
			if !errors.Is(err, kernel.ErrOutputMayBeLost) || !errors.As(err, &ce) || ce.Index != 0 || !errors.As(err, &ke) || ke.Ename != "ValueError" {
				t.Fatalf("Run of a cell that lost an output and raised: %v; want a *CellError matching ErrOutputMayBeLost and the *kernel.Error", err)
			}
		})
	}
}
