package refserver

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// wsClient is a minimal kernel-channels client for the tests: it speaks
// both formats and decodes every frame into a generic message.
type wsClient struct {
	t       testing.TB
	ws      *websocket.Conn
	v1      bool
	session string
	url     string // the socket's address, naming the server in failures
	n       int
	in      chan wmsg     // messages read by the reader goroutine
	readErr error         // why in was closed
	done    chan struct{} // closed when the reader goroutine has exited
}

// read runs in its own goroutine: coder/websocket closes a connection
// whose Read is cancelled, so waits with timeouts select on c.in instead.
func (c *wsClient) read() {
	defer close(c.done)
	defer close(c.in)
	for {
		typ, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.readErr = err
			return
		}
		m, err := decodeFrame(typ == websocket.MessageBinary, data, c.v1)
		if err != nil {
			c.readErr = err
			return
		}
		c.in <- m
	}
}

// close closes the connection and waits for the reader goroutine.
func (c *wsClient) close() {
	_ = c.ws.CloseNow()
	for range c.in {
	}
	<-c.done
}

// wmsg is a received message.
type wmsg struct {
	Channel  string         `json:"channel"`
	Header   map[string]any `json:"header"`
	Parent   map[string]any `json:"parent_header"`
	Metadata map[string]any `json:"metadata"`
	Content  map[string]any `json:"content"`
	Buffers  [][]byte       `json:"-"`
	Raw      map[string]any `json:"-"` // the legacy JSON object as sent
	Binary   bool           `json:"-"`
}

func (m wmsg) Type() string       { s, _ := m.Header["msg_type"].(string); return s }
func (m wmsg) ParentType() string { s, _ := m.Parent["msg_type"].(string); return s }
func (m wmsg) ParentID() string   { s, _ := m.Parent["msg_id"].(string); return s }
func (m wmsg) State() string      { s, _ := m.Content["execution_state"].(string); return s }

func (m wmsg) String() string {
	c, _ := json.Marshal(m.Content)
	if len(c) > 120 {
		c = append(c[:117], "..."...)
	}
	return fmt.Sprintf("%s/%s(%s) %s", m.Channel, m.Type(), m.ParentType(), c)
}

// dialChannels connects to base (an http URL ending in "/") + the kernel's
// channels.
func dialChannels(t testing.TB, base, token, kernelID, session string, v1 bool) (*wsClient, *http.Response, error) {
	return dialChannelsVia(t, nil, base, token, kernelID, session, v1)
}

// dialChannelsVia is dialChannels through client (nil: the default one),
// which for an https base trusts its server's certificate: the
// WebSocket is then wss://.
func dialChannelsVia(t testing.TB, client *http.Client, base, token, kernelID, session string, v1 bool) (*wsClient, *http.Response, error) {
	u := strings.Replace(base, "http", "ws", 1) + "api/kernels/" + kernelID + "/channels"
	if session != "" {
		u += "?session_id=" + session
	}
	opts := &websocket.DialOptions{HTTPClient: client, HTTPHeader: http.Header{}}
	if token != "" {
		opts.HTTPHeader.Set("Authorization", "token "+token)
	}
	if v1 {
		opts.Subprotocols = []string{wsProtocolV1}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		return nil, resp, err
	}
	ws.SetReadLimit(64 << 20)
	c := &wsClient{t: t, ws: ws, v1: ws.Subprotocol() == wsProtocolV1, session: session, url: u,
		in: make(chan wmsg, 1024), done: make(chan struct{})}
	go c.read()
	return c, resp, nil
}

func mustDial(t testing.TB, base, token, kernelID, session string, v1 bool) *wsClient {
	t.Helper()
	return mustDialVia(t, nil, base, token, kernelID, session, v1)
}

// mustDialVia is mustDial through client (dialChannelsVia).
func mustDialVia(t testing.TB, client *http.Client, base, token, kernelID, session string, v1 bool) *wsClient {
	t.Helper()
	c, _, err := dialChannelsVia(t, client, base, token, kernelID, session, v1)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(c.close)
	return c
}

// send sends a request and returns its msg_id.
func (c *wsClient) send(channel, msgType string, content any) string {
	c.t.Helper()
	c.n++
	id := fmt.Sprintf("%s-req-%d", c.session, c.n)
	hdr := map[string]any{"msg_id": id, "msg_type": msgType, "username": "tester", "session": c.session,
		"date": time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), "version": "5.3"}
	c.sendRaw(channel, hdr, map[string]any{}, content)
	return id
}

func (c *wsClient) sendRaw(channel string, hdr, parent, content any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if c.v1 {
		parts := [][]byte{[]byte(channel), mustJSON(hdr), mustJSON(parent), []byte("{}"), mustJSON(content)}
		err = c.ws.Write(ctx, websocket.MessageBinary, v1Pack(parts))
	} else {
		m := map[string]any{"header": hdr, "parent_header": parent, "metadata": map[string]any{}, "content": content, "channel": channel}
		err = c.ws.Write(ctx, websocket.MessageText, mustJSON(m))
	}
	if err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func v1Pack(parts [][]byte) []byte {
	nOff := len(parts) + 1
	off := 8 * (nOff + 1)
	out := make([]byte, 8*(nOff+1))
	binary.LittleEndian.PutUint64(out, uint64(nOff))
	for i, p := range parts {
		binary.LittleEndian.PutUint64(out[8*(i+1):], uint64(off))
		off += len(p)
	}
	binary.LittleEndian.PutUint64(out[8*nOff:], uint64(off))
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// execute sends an execute_request with every field ipykernel reads.
func (c *wsClient) execute(code string, opts ...func(map[string]any)) string {
	c.t.Helper()
	content := map[string]any{"code": code, "silent": false, "store_history": true, "user_expressions": map[string]any{},
		"allow_stdin": true, "stop_on_error": true}
	for _, o := range opts {
		o(content)
	}
	return c.send("shell", "execute_request", content)
}

var errQuiet = fmt.Errorf("no message")

// recv returns the next message, errQuiet after d without one, or the
// error that ended the connection.
func (c *wsClient) recv(d time.Duration) (wmsg, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case m, ok := <-c.in:
		if !ok {
			<-c.done
			return wmsg{}, c.readErr
		}
		return m, nil
	case <-t.C:
		return wmsg{}, errQuiet
	}
}

func decodeFrame(bin bool, data []byte, v1 bool) (wmsg, error) {
	var m wmsg
	if v1 {
		n := binary.LittleEndian.Uint64(data)
		offs := make([]uint64, n)
		for i := range offs {
			offs[i] = binary.LittleEndian.Uint64(data[8*(i+1):])
		}
		var parts [][]byte
		for i := 0; i+1 < len(offs); i++ {
			parts = append(parts, data[offs[i]:offs[i+1]])
		}
		m.Channel = string(parts[0])
		for i, dst := range []*map[string]any{&m.Header, &m.Parent, &m.Metadata, &m.Content} {
			if err := json.Unmarshal(parts[i+1], dst); err != nil {
				return m, err
			}
		}
		m.Buffers = parts[5:]
		m.Binary = true
		return m, nil
	}
	body := data
	if bin {
		nb := binary.BigEndian.Uint32(data)
		offs := make([]int, nb+1)
		for i := 0; i < int(nb); i++ {
			offs[i] = int(binary.BigEndian.Uint32(data[4*(i+1):]))
		}
		offs[nb] = len(data)
		body = data[offs[0]:offs[1]]
		for i := 1; i < int(nb); i++ {
			m.Buffers = append(m.Buffers, data[offs[i]:offs[i+1]])
		}
		m.Binary = true
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, err
	}
	_ = json.Unmarshal(body, &m.Raw)
	return m, nil
}

// until collects messages until done returns true for one of them.
func (c *wsClient) until(d time.Duration, done func(wmsg) bool) []wmsg {
	c.t.Helper()
	var got []wmsg
	// d bounds a hang; it is never what a test asserts (until fails the
	// test when it passes), so it is at least a minute: on two loaded
	// cores under the race detector a few seconds were not enough (CI).
	deadline := time.Now().Add(max(d, time.Minute))
	for {
		m, err := c.recv(time.Until(deadline))
		if err != nil {
			c.t.Fatalf("waiting on %s: %v; got %v", c.url, err, got)
		}
		got = append(got, m)
		if done(m) {
			return got
		}
	}
}

// quiet collects what arrives until nothing has for d.
func (c *wsClient) quiet(d time.Duration) []wmsg {
	var got []wmsg
	for {
		m, err := c.recv(d)
		if err != nil {
			return got
		}
		got = append(got, m)
	}
}

// finished reports the end of a request: its reply and its idle status,
// in either order.
func finished(id, replyType string) func(wmsg) bool {
	reply, idle := false, false
	return func(m wmsg) bool {
		if m.ParentID() == id {
			reply = reply || m.Type() == replyType
			idle = idle || (m.Type() == "status" && m.State() == "idle")
		}
		return reply && idle
	}
}

// ctxT is a context for one write, cancelled when the test ends.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// take collects exactly n messages.
func (c *wsClient) take(n int) []wmsg {
	c.t.Helper()
	var got []wmsg
	for len(got) < n {
		m, err := c.recv(5 * time.Second)
		if err != nil {
			c.t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, m)
	}
	return got
}
