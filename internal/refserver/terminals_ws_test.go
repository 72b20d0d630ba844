package refserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The terminal WebSocket, as recorded in docs/wire/terminals.md TM1-TM9.

// termBound bounds every wait of these tests: far beyond the
// milliseconds each step takes, even on a loaded machine.
const termBound = 60 * time.Second

// termClient is a raw client of a terminal socket.
type termClient struct {
	t  *testing.T
	ws *websocket.Conn
}

// dialTerm opens name's socket on w's server; opts may set OnPingReceived.
func (w *wire) dialTerm(ctx context.Context, name string, opts *websocket.DialOptions) (*termClient, error) {
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.HTTPHeader = http.Header{"Authorization": {"token " + tok}}
	ws, _, err := websocket.Dial(ctx, strings.Replace(w.srv.URL, "http", "ws", 1)+"/terminals/websocket/"+name, opts)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(-1)
	w.t.Cleanup(func() { _ = ws.CloseNow() })
	return &termClient{t: w.t, ws: ws}, nil
}

// openTermSocks counts the server's open terminal sockets.
func (w *wire) openTermSocks() int {
	w.ref.mu.Lock()
	defer w.ref.mu.Unlock()
	return len(w.ref.tsocks.open)
}

func (c *termClient) send(ctx context.Context, frame string) {
	c.t.Helper()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatalf("send %s: %v", frame, err)
	}
}

// next reads one message as its JSON array.
func (c *termClient) next(ctx context.Context) ([]any, error) {
	typ, data, err := c.ws.Read(ctx)
	if err != nil {
		return nil, err
	}
	if typ != websocket.MessageText {
		c.t.Fatalf("a binary message: %q", data)
	}
	var msg []any
	if err := json.Unmarshal(data, &msg); err != nil {
		c.t.Fatalf("not a JSON array: %q", data)
	}
	return msg, nil
}

// until reads stdout (after a setup) until it contains want, and returns all of it.
func (c *termClient) until(ctx context.Context, want string) string {
	c.t.Helper()
	var out strings.Builder
	for !strings.Contains(out.String(), want) {
		msg, err := c.next(ctx)
		if err != nil {
			c.t.Fatalf("waiting for %q after %q: %v", want, out.String(), err)
		}
		if msg[0] == "setup" && out.Len() == 0 {
			continue
		}
		if msg[0] != "stdout" {
			c.t.Fatalf("waiting for %q: %v", want, msg)
		}
		out.WriteString(msg[1].(string))
	}
	return out.String()
}

// TestTerminalSocketProtocol: setup, then the terminal's recent output,
// echoed input and the scripted commands, the smallest size of the
// sockets that set one, output to every socket (TM1-TM3).
func TestTerminalSocketProtocol(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok})
	t.Cleanup(w.ref.Close)
	w.ok("POST", "/api/terminals", "")
	a, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := a.next(ctx); err != nil || len(msg) != 2 || msg[0] != "setup" || len(msg[1].(map[string]any)) != 0 {
		t.Fatalf("first message %v, %v", msg, err)
	}
	if out := a.until(ctx, "$ "); out != "$ " {
		t.Errorf("the replay of a fresh terminal: %q", out)
	}
	a.send(ctx, `["stdin", "echo 'a b'  \"c\"\r"]`)
	if out := a.until(ctx, "\r\n$ "); out != "echo 'a b'  \"c\"\r\na b c\r\n$ " {
		t.Errorf("echo: %q", out)
	}
	a.send(ctx, `["stdin", "stty size\r"]`)
	if out := a.until(ctx, "80\r\n$ "); !strings.HasSuffix(out, "\r\n24 80\r\n$ ") {
		t.Errorf("the size before any set_size: %q", out)
	}

	b, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := b.next(ctx); err != nil || msg[0] != "setup" {
		t.Fatalf("the second socket's first message %v, %v", msg, err)
	}
	// One message with all that the terminal printed.
	msg, err := b.next(ctx)
	if err != nil || msg[0] != "stdout" || msg[1] != "$ echo 'a b'  \"c\"\r\na b c\r\n$ stty size\r\n24 80\r\n$ " {
		t.Errorf("the replay: %q, %v", msg, err)
	}
	a.send(ctx, `["set_size", 40, 100, 500, 800]`)
	a.send(ctx, `["stdin", "stty size\r"]`)
	for _, c := range []*termClient{a, b} {
		if out := c.until(ctx, "100\r\n$ "); !strings.HasSuffix(out, "\r\n40 100\r\n$ ") {
			t.Errorf("the one size set: %q", out)
		}
	}
	b.send(ctx, `["set_size", 50, 90]`)
	b.send(ctx, `["stdin", "stty size\r"]`)
	for _, c := range []*termClient{a, b} {
		if out := c.until(ctx, "90\r\n$ "); !strings.HasSuffix(out, "\r\n40 90\r\n$ ") {
			t.Errorf("the smallest rows and cols: %q", out)
		}
	}
	// Traffic is activity, the terminal's and the server's (TM9).
	created := w.ok("POST", "/api/terminals", "").obj(t)["last_activity"].(string)
	c, err := w.dialTerm(ctx, "2", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.until(ctx, "$ ")
	// /api/status is not API activity; the GET after it is.
	status := w.ok("GET", "/api/status", "").obj(t)["last_activity"].(string)
	moved := w.ok("GET", "/api/terminals/2", "").obj(t)["last_activity"].(string)
	if !(moved > created) || !(status > created) { // isoformat's fixed width orders as time
		t.Errorf("last_activity: created %s, after traffic %s, the server's %s", created, moved, status)
	}
	a.send(ctx, `["stdin", "nope\r"]`)
	if out := b.until(ctx, "found\r\n"); !strings.Contains(out, "\r\nbash: nope: command not found\r\n") {
		t.Errorf("an unknown command: %q", out)
	}
}

// TestTerminalSocketEnds: exit and DELETE send "disconnect" and close
// with a close frame without a status, and remove the terminal; a client
// that closes leaves it running (TM4).
func TestTerminalSocketEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok})
	t.Cleanup(w.ref.Close)
	for _, how := range []string{"exit", "delete"} {
		w.ok("POST", "/api/terminals", "")
		c, err := w.dialTerm(ctx, "1", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.until(ctx, "$ ")
		if how == "exit" {
			c.send(ctx, `["stdin", "exit\r"]`)
			c.until(ctx, "logout\r\n")
		} else if a := w.ok("DELETE", "/api/terminals/1", ""); a.status != 204 {
			t.Fatalf("DELETE: %d", a.status)
		}
		if msg, err := c.next(ctx); err != nil || len(msg) != 2 || msg[0] != "disconnect" || msg[1] != 1.0 {
			t.Errorf("%s: %v, %v; want disconnect", how, msg, err)
		}
		if _, err := c.next(ctx); websocket.CloseStatus(err) != websocket.StatusNoStatusRcvd {
			t.Errorf("%s: the close: %v", how, err)
		}
		if a := w.ok("GET", "/api/terminals/1", ""); a.status != 404 {
			t.Errorf("%s: the terminal is still listed: %d", how, a.status)
		}
	}

	w.ok("POST", "/api/terminals", "")
	c, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.until(ctx, "$ ")
	_ = c.ws.Close(websocket.StatusNormalClosure, "")
	if a := w.ok("GET", "/api/terminals/1", ""); a.status != 200 {
		t.Errorf("a client's close ended the terminal: %d", a.status)
	}
}

// TestTerminalSocketBadMessages: a message terminado cannot handle keeps
// the socket on generation 1 and drops the connection on 2 (Tornado's
// _abort: no close frame); an unknown type is
// ignored on both (TM5).
func TestTerminalSocketBadMessages(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	for _, gen := range []int{1, 2} {
		w := newWire(t, Options{Token: tok, Generation: gen})
		t.Cleanup(w.ref.Close)
		w.ok("POST", "/api/terminals", "")
		for _, bad := range []string{`not json`, `[]`, `{"a":1}`, `["stdin", 5]`, `["set_size", "a", 1]`} {
			c, err := w.dialTerm(ctx, "1", nil)
			if err != nil {
				t.Fatal(err)
			}
			c.until(ctx, "$ ")
			c.send(ctx, `["bogus", 1]`)
			c.send(ctx, bad)
			c.send(ctx, `["stdin", "echo 'still''-open'\r"]`)
			if gen == 1 {
				c.until(ctx, "still-open\r\n")
			} else if msg, err := c.next(ctx); err == nil || ctx.Err() != nil || websocket.CloseStatus(err) != -1 {
				t.Errorf("generation 2, %s: %v, %v; want the connection dropped", bad, msg, err)
			}
			_ = c.ws.CloseNow()
		}
	}
}

// TestTerminalSocketHandshake: the token, an unknown terminal, terminals
// disabled (TM6, T8).
func TestTerminalSocketHandshake(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok})
	t.Cleanup(w.ref.Close)
	w.ok("POST", "/api/terminals", "")
	if _, err := w.dialTerm(ctx, "99", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("an unknown terminal: %v", err)
	}
	if a := w.call("GET", "/terminals/websocket/1", "", ""); a.status != 403 {
		t.Errorf("no token: %d", a.status)
	}
	if a := w.ok("GET", "/terminals/websocket/1", ""); a.status != 400 {
		t.Errorf("not an upgrade: %d %s", a.status, a.body)
	}
	if a := w.ok("POST", "/terminals/websocket/1", ""); a.status != 405 {
		t.Errorf("POST: %d", a.status)
	}
	off := newWire(t, Options{Token: tok, NoTerminals: true})
	if a := off.ok("GET", "/terminals/websocket/1", ""); a.status != 404 || !strings.Contains(a.body, "404 : Not Found") {
		t.Errorf("terminals disabled: %d %s", a.status, a.body)
	}
}

// TestTerminalSocketPing: a terminal socket is pinged as every other; a
// client that answers no ping is closed (TM7).
func TestTerminalSocketPing(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok, WebSocketPing: 50 * time.Millisecond})
	t.Cleanup(w.ref.Close)
	w.ok("POST", "/api/terminals", "")
	var pings atomic.Int64
	c, err := w.dialTerm(ctx, "1", &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		pings.Add(1)
		return false // no pong, as from a client gone silent
	}})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := c.next(ctx); err != nil {
			if ctx.Err() != nil || pings.Load() == 0 {
				t.Errorf("the silent socket: %v after %d pings", err, pings.Load())
			}
			break
		}
	}
}

// TestTerminalSocketSlowReaderIsBounded: a client that reads nothing
// while its terminal prints more than MaxQueued is dropped; the terminal
// and its other sockets go on.
func TestTerminalSocketSlowReaderIsBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok})
	t.Cleanup(w.ref.Close)
	w.ref.ch.maxQueued = 1 << 20 // MaxQueued at a scale the test fills quickly
	w.ok("POST", "/api/terminals", "")
	slow, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	fast, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	fast.until(ctx, "$ ")
	line := strings.Repeat("x", 128<<10) // echo and output: a quarter of the bound
	// 12 MiB of echo and output, read by the fast socket only: more than
	// the bound and what the sockets' buffers hold.
	for range 48 {
		fast.send(ctx, `["stdin", "echo `+line+`\r"]`)
		fast.until(ctx, "x\r\n$ ")
	}
	var err2 error
	for err2 == nil {
		_, err2 = slow.next(ctx)
	}
	if ctx.Err() != nil || websocket.CloseStatus(err2) != -1 {
		t.Errorf("the slow socket's end: %v (want a dropped connection)", err2)
	}
	waitFor(t, func() bool { return w.openTermSocks() == 1 })
	fast.send(ctx, `["stdin", "echo 'after'\r"]`)
	fast.until(ctx, "after\r\n$ ")
}

// TestTerminalSocketClose: Close drops every terminal socket and waits
// for their handlers.
func TestTerminalSocketClose(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok})
	w.ok("POST", "/api/terminals", "")
	c, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.until(ctx, "$ ")
	w.ref.Close()
	if n := w.openTermSocks(); n != 0 {
		t.Errorf("%d sockets open after Close", n)
	}
	var end error
	for end == nil {
		_, end = c.next(ctx)
	}
	if ctx.Err() != nil || errors.Is(end, context.DeadlineExceeded) {
		t.Errorf("the socket after Close: %v", end)
	}
	// The handshake may complete, but the socket is dropped at once.
	if late, err := w.dialTerm(ctx, "1", nil); err == nil {
		if msg, err := late.next(ctx); err == nil || ctx.Err() != nil {
			t.Errorf("a socket opened after Close: %v, %v", msg, err)
		}
	}
}

// TestJupyterLabTerminal runs JupyterLab's own terminal client
// (@jupyterlab/services 7.6.6's TerminalConnection) on the reference
// server: it connects, resizes, runs commands, reads their output and
// shuts the terminal down. It needs node and the package installed:
//
//	npm --prefix internal/refserver/testdata/jupyterlab ci
func TestJupyterLabTerminal(t *testing.T) {
	out := runJupyterLab(t, "terminal.mjs")
	var report struct {
		Statuses   []string `json:"statuses"`
		Types      []string `json:"types"`
		Output     string   `json:"output"`
		Connection string   `json:"connection"`
		Listed     []string `json:"listed"`
		Error      string   `json:"error"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if report.Error != "" || report.Connection != "connected" || len(report.Listed) != 0 ||
		!strings.Contains(report.Output, "\r\n33 101\r\n") || !strings.Contains(report.Output, "\r\nfrom-lab\r\n") {
		t.Errorf("JupyterLab's terminal client: %+v", report)
	}
}

// TestTerminalSocketManyLines sends one stdin message of 300,000 line
// ends: its output goes out as a pty's reads would, not as a message per
// line (which, made under the server's lock, queued more than the bound
// and dropped every socket on the terminal, and held the whole server for
// seconds at 10 MiB), and a socket opening later replays at most
// termReplayBytes of it.
func TestTerminalSocketManyLines(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), termBound)
	defer cancel()
	w := newWire(t, Options{Token: tok})
	t.Cleanup(w.ref.Close)
	w.ref.ch.maxQueued = 4 << 20 // the message's output is 2.1 MiB of JSON in about 1170 messages; a message a line made 8.6 MiB
	w.ok("POST", "/api/terminals", "")
	c, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	other, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.until(ctx, "$ ")
	other.until(ctx, "$ ")
	const lines = 300_000
	c.send(ctx, `["stdin", "`+strings.Repeat(`\r`, lines)+`"]`)
	for i, s := range []*termClient{c, other} {
		n := 0
		for n < 4*lines {
			msg, err := s.next(ctx)
			if err != nil {
				t.Fatalf("socket %d after %d bytes of output: %v", i, n, err)
			}
			n += len(msg[1].(string))
		}
	}
	c.send(ctx, `["stdin", "echo after\r"]`)
	c.until(ctx, "after\r\n$ ")
	late, err := w.dialTerm(ctx, "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if msg, err := late.next(ctx); err != nil || msg[0] != "setup" {
		t.Fatalf("setup: %v %v", msg, err)
	}
	msg, err := late.next(ctx)
	if err != nil || msg[0] != "stdout" || len(msg[1].(string)) > termReplayBytes || !strings.HasSuffix(msg[1].(string), "after\r\n$ ") {
		t.Errorf("replay: %v, %d bytes", err, len(msg[1].(string)))
	}
}
