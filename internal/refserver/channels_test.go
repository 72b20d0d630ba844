package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

// These tests check the channels endpoint and the reference kernel
// against what docs/wire/kernel-channels.md KC8-KC18 records of Jupyter
// Server 1.23.3 and ipykernel 6.17; the differential test compares the
// two servers directly when a real one is available.

type chanFixture struct {
	t    *testing.T
	ref  *Server
	ts   *httptest.Server
	base string
}

func newChanFixture(t *testing.T) *chanFixture {
	t.Helper()
	ref := New(Options{Token: tok, Generation: 1})
	ts := httptest.NewServer(ref)
	f := &chanFixture{t: t, ref: ref, ts: ts, base: ts.URL + "/"}
	t.Cleanup(func() {
		ref.Close()
		ts.Close()
	})
	return f
}

func (f *chanFixture) kernel() string {
	f.ref.mu.Lock()
	defer f.ref.mu.Unlock()
	return f.ref.startKernel("python3").id
}

func (f *chanFixture) do(method, path string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.base+path, nil)
	req.Header.Set("Authorization", "token "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (f *chanFixture) model(id string) kernelModel {
	f.t.Helper()
	status, body := f.do("GET", "api/kernels/"+id)
	var m kernelModel
	if status != 200 || json.Unmarshal([]byte(body), &m) != nil {
		f.t.Fatalf("GET kernel: %d %s", status, body)
	}
	return m
}

func (f *chanFixture) dial(kernelID, session string) *wsClient {
	f.t.Helper()
	c := mustDial(f.t, f.base, tok, kernelID, session, false)
	c.quiet(50 * time.Millisecond) // the nudge's status messages
	return c
}

func types(msgs []wmsg) string {
	var out []string
	for _, m := range msgs {
		s := m.Channel + ":" + m.Type()
		if m.Type() == "status" {
			s += ":" + m.State()
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestChannelsConnectCountsAndWakesTheKernel(t *testing.T) {
	f := newChanFixture(t)
	id := f.kernel()
	if m := f.model(id); m.ExecutionState != "starting" || m.Connections != 0 {
		t.Fatalf("before: %+v", m)
	}
	c := mustDial(t, f.base, tok, id, "s1", false)
	// A new connection gets the nudge's statuses but the first.
	got := c.until(5*time.Second, func(m wmsg) bool { return m.State() == "idle" && m.Channel == "iopub" && len(m.Parent) > 0 })
	got = append(got, c.quiet(50*time.Millisecond)...)
	if types(got) != "iopub:status:busy iopub:status:idle iopub:status:idle" {
		t.Errorf("nudge: %s", types(got))
	}
	for _, m := range got {
		if m.ParentType() != "kernel_info_request" || m.Parent["session"] != "s1" {
			t.Errorf("nudge parent %v", m.Parent)
		}
	}
	if m := f.model(id); m.ExecutionState != "idle" || m.Connections != 1 {
		t.Errorf("after: %+v", m)
	}
	// Other connections see all four.
	d := mustDial(t, f.base, tok, id, "s2", false)
	d.take(3)
	if got := types(append(c.take(4), c.quiet(20*time.Millisecond)...)); got != "iopub:status:busy iopub:status:busy iopub:status:idle iopub:status:idle" {
		t.Errorf("existing connection saw %s", got)
	}
	status, body := f.do("GET", "api/status")
	if status != 200 || !strings.Contains(body, `"connections":2`) {
		t.Errorf("status: %s", body)
	}
	d.close()
	c.close()
	waitFor(t, func() bool { return f.model(id).Connections == 0 })
}

// waitFor polls cond: for state another goroutine changes soon.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 2000 {
			t.Fatal("condition never met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChannelsExecuteMessageShapes(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	id := c.execute(`1+1`)
	msgs := c.until(5*time.Second, finished(id, "execute_reply"))
	if got := types(msgs); got != "iopub:status:busy iopub:execute_input iopub:execute_result shell:execute_reply iopub:status:idle" {
		t.Fatalf("sequence %s", got)
	}
	for _, m := range msgs {
		if m.ParentID() != id || m.Parent["username"] != "tester" {
			t.Errorf("%s parent %v", m.Type(), m.Parent)
		}
		h := m.Header
		if h["username"] != "username" || h["version"] != "5.3" || !msgDateRE.MatchString(fmt.Sprint(h["date"])) {
			t.Errorf("header %v", h)
		}
		if !strings.HasPrefix(fmt.Sprint(h["msg_id"]), fmt.Sprint(h["session"])+"_") {
			t.Errorf("msg_id %v is not <session>_<pid>_<n>", h["msg_id"])
		}
		wantKeys := "buffers channel content header metadata msg_id msg_type parent_header"
		if got := strings.Join(sortedKeys(m.Raw), " "); got != wantKeys {
			t.Errorf("%s keys %s", m.Type(), got)
		}
	}
	reply := msgs[3]
	if reply.Content["execution_count"] != 1.0 || reply.Metadata["status"] != "ok" || reply.Metadata["dependencies_met"] != true {
		t.Errorf("reply %v %v", reply.Content, reply.Metadata)
	}
}

func TestChannelsKernelInfo(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	id := c.send("control", "kernel_info_request", map[string]any{})
	msgs := c.until(5*time.Second, finished(id, "kernel_info_reply"))
	var reply wmsg
	for _, m := range msgs {
		if m.Type() == "kernel_info_reply" {
			reply = m
		}
	}
	if reply.Channel != "control" || reply.Content["protocol_version"] != "5.3" || reply.Content["implementation"] != "ipython" {
		t.Fatalf("reply %v", reply)
	}
	li, _ := reply.Content["language_info"].(map[string]any)
	if li["name"] != "python" || li["version"] != "3.11.2" {
		t.Errorf("language_info %v", li)
	}
	if !strings.Contains(fmt.Sprint(reply.Content["banner"]), "reference kernel") {
		t.Error("the banner must say what this kernel is")
	}
}

func TestChannelsInterruptSleep(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	id := c.execute("import time; time.sleep(3600)")
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
	if status, body := f.do("POST", "api/kernels/"+kid+"/interrupt"); status != 204 || body != "" {
		t.Fatalf("interrupt: %d %q", status, body)
	}
	msgs := c.until(5*time.Second, finished(id, "execute_reply"))
	if got := types(msgs); got != "iopub:error shell:execute_reply iopub:status:idle" {
		t.Fatalf("after interrupt: %s", got)
	}
	if msgs[0].Content["ename"] != "KeyboardInterrupt" || msgs[1].Content["status"] != "error" {
		t.Errorf("error %v reply %v", msgs[0].Content, msgs[1].Content)
	}
	// An idle kernel ignores an interrupt.
	f.do("POST", "api/kernels/"+kid+"/interrupt")
	if got := c.quiet(100 * time.Millisecond); len(got) != 0 {
		t.Errorf("interrupting an idle kernel sent %s", types(got))
	}
	if status, _ := f.do("POST", "api/kernels/a-b-c-d-e/interrupt"); status != 404 {
		t.Errorf("unknown kernel: %d", status)
	}
	c.close()
}

func TestChannelsStdin(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	other := f.dial(kid, "o")
	id := c.execute(`input("name? ")`)
	msgs := c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "input_request" })
	req := msgs[len(msgs)-1]
	if req.Channel != "stdin" || req.Content["prompt"] != "name? " || req.Content["password"] != false {
		t.Fatalf("input_request %v", req)
	}
	// A stray reply from another connection is taken too, as ipykernel
	// reads its stdin socket from every client: send the real one first.
	c.sendRaw("stdin", map[string]any{"msg_id": "r1", "msg_type": "input_reply", "session": "s"}, req.Header, map[string]any{"value": "Ann"})
	msgs = c.until(5*time.Second, finished(id, "execute_reply"))
	var result string
	for _, m := range msgs {
		if m.Type() == "execute_result" {
			result = fmt.Sprint(m.Content["data"])
		}
	}
	if result != "map[text/plain:'Ann']" {
		t.Errorf("result %s", result)
	}
	// stdin and shell go to the asker only; iopub to everyone.
	for _, m := range other.quiet(100 * time.Millisecond) {
		if m.Channel != "iopub" {
			t.Errorf("other connection got %s", m)
		}
	}
	// Without allow_stdin: StdinNotImplementedError, with ipykernel's frame.
	id = c.execute(`input("p")`, set("allow_stdin", false))
	for _, m := range c.until(5*time.Second, finished(id, "execute_reply")) {
		if m.Type() == "error" {
			tb := fmt.Sprint(m.Content["traceback"])
			if m.Content["ename"] != "StdinNotImplementedError" || !strings.Contains(tb, "kernelbase.py:1174") {
				t.Errorf("error %v", m.Content["ename"])
			}
		}
	}
}

func TestChannelsAbortAfterError(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	// Queue three behind an input, so that all are waiting when the error comes.
	s := c.execute(`input("go")`)
	req := c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "input_request" })
	a := c.execute(`raise ValueError("q")`)
	b := c.execute(`1+1`)
	d := c.execute(`2+2`, set("stop_on_error", false))
	waitFor(t, func() bool {
		f.ref.mu.Lock()
		defer f.ref.mu.Unlock()
		return len(f.ref.kernels[kid].rt.queue) == 3
	})
	c.sendRaw("stdin", map[string]any{"msg_id": "r", "msg_type": "input_reply"}, req[len(req)-1].Header, map[string]any{"value": ""})
	msgs := c.until(5*time.Second, all(finished(s, "execute_reply"), finished(a, "execute_reply"), finished(b, "execute_reply"), finished(d, "execute_reply")))
	for _, m := range msgs {
		if m.Type() != "execute_reply" {
			continue
		}
		want := map[string]string{s: "ok", a: "error", b: "aborted", d: "aborted"}[m.ParentID()]
		if m.Content["status"] != want || m.Metadata["status"] != want {
			t.Errorf("reply to %s: %v %v, want %s", m.ParentID(), m.Content, m.Metadata, want)
		}
		if want == "aborted" && len(m.Content) != 1 {
			t.Errorf("aborted reply content %v", m.Content)
		}
	}
	// The abort covers only what was queued: the next one runs.
	id := c.execute(`3`)
	for _, m := range c.until(5*time.Second, finished(id, "execute_reply")) {
		if m.Type() == "execute_reply" && m.Content["status"] != "ok" {
			t.Errorf("after the abort: %v", m.Content)
		}
	}
}

func TestChannelsRestart(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	c.execute(`1`)
	a := c.execute("import time\ntime.sleep(3600)")
	b := c.execute(`print("queued")`)
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" && m.ParentID() == a })
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
	waitFor(t, func() bool { // b has reached the kernel's queue
		f.ref.mu.Lock()
		defer f.ref.mu.Unlock()
		return len(f.ref.kernels[kid].rt.queue) == 1
	})
	status, body := f.do("POST", "api/kernels/"+kid+"/restart")
	var model kernelModel
	if status != 200 || json.Unmarshal([]byte(body), &model) != nil || model.ID != kid || model.Connections != 1 || model.ExecutionState != "idle" {
		t.Fatalf("restart: %d %s", status, body)
	}
	msgs := c.until(5*time.Second, func(m wmsg) bool { return m.ParentType() == "kernel_info_request" && m.State() == "idle" })
	want := "iopub:status:busy iopub:shutdown_reply iopub:status:idle " + // the shutdown, announced
		"iopub:error shell:execute_reply iopub:status:idle " + // the running one: KeyboardInterrupt
		"iopub:status:busy shell:execute_reply iopub:status:idle " + // the queued one: aborted
		"iopub:status:starting iopub:status:busy iopub:status:idle" // the new process
	if got := types(msgs); got != want {
		t.Errorf("restart sequence:\n got %s\nwant %s", got, want)
	}
	if msgs[1].Content["restart"] != true || msgs[3].Content["ename"] != "KeyboardInterrupt" || msgs[7].Content["status"] != "aborted" || msgs[7].ParentID() != b {
		t.Errorf("contents: %v %v %v", msgs[1].Content, msgs[3].Content, msgs[7].Content)
	}
	// The new process counts from 1 again.
	id := c.execute(`1+1`)
	for _, m := range c.until(5*time.Second, finished(id, "execute_reply")) {
		if m.Type() == "execute_input" && m.Content["execution_count"] != 1.0 {
			t.Errorf("count after restart %v: %s", m.Content["execution_count"], m)
		}
	}
	status, body = f.do("POST", "api/kernels/a-b-c-d-e/restart")
	if status != 500 || !strings.Contains(body, "Exception restarting kernel") || strings.Contains(body, "reason") {
		t.Errorf("restart unknown: %d %s", status, body)
	}
}

func TestChannelsDeleteLeavesTheSocketOpenAndSilent(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	id := c.execute("import time\ntime.sleep(3600)")
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
	if status, _ := f.do("DELETE", "api/kernels/"+kid); status != 204 {
		t.Fatal(status)
	}
	msgs := c.until(5*time.Second, finished(id, "execute_reply"))
	if got := types(msgs); got != "iopub:status:busy iopub:shutdown_reply iopub:status:idle iopub:error shell:execute_reply iopub:status:idle" {
		t.Errorf("delete sequence %s", got)
	}
	if msgs[1].Content["restart"] != false {
		t.Errorf("shutdown_reply %v", msgs[1].Content)
	}
	// As in Jupyter, the socket stays open; what is sent is not answered.
	c.execute(`1+1`)
	if got := c.quiet(100 * time.Millisecond); len(got) != 0 {
		t.Errorf("deleted kernel answered: %s", types(got))
	}
	if _, resp, err := dialChannels(t, f.base, tok, kid, "s", false); err == nil || resp.StatusCode != 404 {
		t.Errorf("dialling a deleted kernel: %v", err)
	}
	c.close()
}

func TestChannelsCrash(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	c := f.dial(kid, "s")
	id := c.execute("import time\ntime.sleep(3600)")
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
	if err := f.ref.CrashKernel(kid, false); err != nil {
		t.Fatal(err)
	}
	msgs := c.until(5*time.Second, func(m wmsg) bool { return m.State() == "starting" })
	if got := types(msgs); got != "iopub:status:restarting iopub:status:starting" {
		t.Fatalf("crash: %s", got)
	}
	// Jupyter Server's own message: no "buffers", an empty parent, the
	// connection's session.
	if keys := strings.Join(sortedKeys(msgs[0].Raw), " "); keys != "channel content header metadata msg_id msg_type parent_header" ||
		len(msgs[0].Parent) != 0 || msgs[0].Header["session"] != "s" {
		t.Errorf("restarting message %v", msgs[0].Raw)
	}
	// The lost execution is never answered; the new process runs.
	id2 := c.execute(`1+1`)
	for _, m := range c.until(5*time.Second, finished(id2, "execute_reply")) {
		if m.ParentID() == id {
			t.Errorf("the crashed execution answered: %s", m)
		}
	}
	// Restarts that fail: "dead", and the kernel is gone.
	if err := f.ref.CrashKernel(kid, true); err != nil {
		t.Fatal(err)
	}
	if got := types(c.until(5*time.Second, func(m wmsg) bool { return m.State() == "dead" })); got != "iopub:status:restarting iopub:status:dead" {
		t.Errorf("dead: %s", got)
	}
	if status, _ := f.do("GET", "api/kernels/"+kid); status != 404 {
		t.Errorf("dead kernel still listed: %d", status)
	}
}

func TestChannelsReconnectReplays(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	f.ref.Script("work()", StreamStep("stdout", "started\n"), SleepStep(time.Hour))
	c := f.dial(kid, "s")
	id := c.execute("work()")
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "stream" })
	c.close()
	waitFor(t, func() bool { return f.model(kid).Connections == 0 })
	// While the client is away, the execution ends.
	f.do("POST", "api/kernels/"+kid+"/interrupt")
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "idle" })
	back := mustDial(t, f.base, tok, kid, "s", false)
	msgs := back.take(6)
	want := "iopub:error shell:execute_reply iopub:status:idle iopub:status:busy iopub:status:idle iopub:status:idle"
	if got := types(msgs); got != want || msgs[1].ParentID() != id {
		t.Errorf("replay:\n got %s\nwant %s", got, want)
	}
	// Away again: another session id does not get this session's messages.
	id = back.execute("work()")
	back.until(5*time.Second, func(m wmsg) bool { return m.Type() == "stream" })
	back.close()
	waitFor(t, func() bool { return f.model(kid).Connections == 0 })
	f.do("POST", "api/kernels/"+kid+"/interrupt")
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "idle" })
	other := mustDial(t, f.base, tok, kid, "t", false)
	for _, m := range other.quiet(100 * time.Millisecond) {
		if m.ParentID() == id {
			t.Errorf("another session got %s", m)
		}
	}
}

func TestChannelsOfflineBufferIsBounded(t *testing.T) {
	o := &offline{}
	big := &kmsg{content: bytes.Repeat([]byte("x"), 1<<20)}
	for i := 0; i < 100; i++ {
		o.add(big)
	}
	last := &kmsg{content: []byte(`{"execution_state":"idle"}`)}
	o.add(last)
	if o.bytes > maxOffline || o.msgs[len(o.msgs)-1] != last {
		t.Errorf("offline buffer holds %d bytes (bound %d); newest kept: %v", o.bytes, maxOffline, o.msgs[len(o.msgs)-1] == last)
	}
}

func TestChannelsStaleSessionReplaced(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	a := f.dial(kid, "same")
	b := f.dial(kid, "same")
	_, err := a.until2(5 * time.Second)
	if websocket.CloseStatus(err) != websocket.StatusNoStatusRcvd {
		t.Errorf("stale connection: %v, want a close frame without status", err)
	}
	if m := f.model(kid); m.Connections != 1 {
		t.Errorf("connections %d", m.Connections)
	}
	// The new connection is the session's: replies reach it.
	id := b.send("shell", "kernel_info_request", map[string]any{})
	b.until(5*time.Second, finished(id, "kernel_info_reply"))
}

func TestChannelsSubprotocolAndFrames(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	f.ref.Script("comm()", MessageStep("comm_msg", map[string]any{"comm_id": "c"}, nil, [][]byte{[]byte("ab"), {0}}))
	for _, v1 := range []bool{false, true} {
		c := mustDial(t, f.base, tok, kid, fmt.Sprint("v1-", v1), v1)
		if c.v1 != v1 {
			t.Fatalf("offered v1 %v, negotiated %q", v1, c.ws.Subprotocol())
		}
		c.quiet(50 * time.Millisecond)
		id := c.execute("comm()")
		for _, m := range c.until(5*time.Second, finished(id, "execute_reply")) {
			binaryFrame := m.Type() == "comm_msg" || v1
			if m.Binary != binaryFrame {
				t.Errorf("v1 %v: %s binary %v", v1, m.Type(), m.Binary)
			}
			if m.Type() == "comm_msg" && fmt.Sprintf("%q", m.Buffers) != `["ab" "\x00"]` {
				t.Errorf("buffers %q", m.Buffers)
			}
		}
		c.close()
	}
}

func TestChannelsBadClientMessages(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	for _, bad := range []struct {
		name   string
		v1     bool
		typ    websocket.MessageType
		data   []byte
		closed websocket.StatusCode // 0: still open; -1: dropped without a close frame
	}{
		{"invalid JSON", false, websocket.MessageText, []byte("{"), -1},
		{"no header", false, websocket.MessageText, []byte(`{"content": {}, "parent_header": {}, "metadata": {}}`), -1},
		{"array", false, websocket.MessageText, []byte(`[]`), -1},
		{"bad binary", false, websocket.MessageBinary, []byte{0, 0, 0, 9}, -1},
		{"v1 text", true, websocket.MessageText, []byte(`{}`), -1},
		{"v1 short", true, websocket.MessageBinary, []byte{1, 2}, -1},
		{"header null", false, websocket.MessageText, []byte(`{"header": null, "parent_header": {}, "metadata": {}, "content": {}}`), 0},
		{"unknown channel", false, websocket.MessageText, []byte(`{"header": {}, "parent_header": {}, "metadata": {}, "content": {}, "channel": "x"}`), 0},
		{"iopub", false, websocket.MessageText, []byte(`{"header": {"msg_id": "1", "msg_type": "kernel_info_request"}, "parent_header": {}, "metadata": {}, "content": {}, "channel": "iopub"}`), 0},
		{"too big", false, websocket.MessageText, bytes.Repeat([]byte(" "), MaxClientMessage+1), websocket.StatusMessageTooBig},
	} {
		t.Run(bad.name, func(t *testing.T) {
			c := mustDial(t, f.base, tok, kid, "bad", bad.v1)
			c.quiet(20 * time.Millisecond)
			_ = c.ws.Write(ctxT(t), bad.typ, bad.data)
			wait := 10 * time.Second // returns when the server closes
			if bad.closed == 0 {
				wait = 300 * time.Millisecond
			}
			_, err := c.until2(wait)
			switch {
			case bad.closed == 0 && !errors.Is(err, errQuiet):
				t.Errorf("closed: %v", err)
			case bad.closed != 0 && errors.Is(err, errQuiet):
				t.Errorf("still open")
			case bad.closed > 0 && websocket.CloseStatus(err) != bad.closed:
				t.Errorf("close %v, want %v", err, bad.closed)
			case bad.closed < 0 && websocket.CloseStatus(err) != -1:
				t.Errorf("close %v, want the connection dropped", err)
			}
		})
	}
	// A message of exactly the bound is read.
	c := mustDial(t, f.base, tok, kid, "big", false)
	c.quiet(20 * time.Millisecond)
	id := "at-the-bound"
	m := map[string]any{"header": map[string]any{"msg_id": id, "msg_type": "kernel_info_request"}, "parent_header": map[string]any{},
		"metadata": map[string]any{}, "channel": "shell", "content": map[string]any{}}
	raw := mustJSON(m)
	raw = append(raw[:len(raw)-1], append(bytes.Repeat([]byte(" "), MaxClientMessage-len(raw)), '}')...)
	if err := c.ws.Write(ctxT(t), websocket.MessageText, raw); err != nil {
		t.Fatal(err)
	}
	c.until(2*time.Minute, finished(id, "kernel_info_reply"))
}

func TestChannelsHandshake(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	for _, h := range []struct {
		name, method, path, auth string
		hdr                      map[string]string
		status                   int
		body                     string
	}{
		{"no token", "GET", "api/kernels/" + kid + "/channels", "", nil, 403, "403 : Forbidden"},
		{"POST", "POST", "api/kernels/" + kid + "/channels", "token " + tok, nil, 405, "405 : Method Not Allowed"},
		{"unknown kernel", "GET", "api/kernels/a-b-c-d-e/channels", "token " + tok, nil, 404, "404 : Not Found"},
		{"plain GET", "GET", "api/kernels/" + kid + "/channels", "token " + tok, nil, 400, `Can "Upgrade" only to "WebSocket".`},
		{"no Connection", "GET", "api/kernels/" + kid + "/channels", "token " + tok, map[string]string{"Upgrade": "websocket"}, 400, `"Connection" must be "Upgrade".`},
		{"GET restart", "GET", "api/kernels/" + kid + "/restart", "token " + tok, nil, 405, "Method Not Allowed"},
	} {
		req, _ := http.NewRequest(h.method, f.base+h.path, nil)
		if h.auth != "" {
			req.Header.Set("Authorization", h.auth)
		}
		for k, v := range h.hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != h.status || !strings.Contains(string(b), h.body) {
			t.Errorf("%s: %d %q", h.name, resp.StatusCode, b)
		}
	}
	// The plain GET still did what Jupyter does before its handshake: the
	// kernel's first kernel_info, which takes it out of "starting".
	if m := f.model(kid); m.ExecutionState != "idle" || m.Connections != 0 {
		t.Errorf("after refused handshakes: %+v", m)
	}
	// Without a token, Jupyter checks the origin.
	open := New(Options{Generation: 1})
	ts := httptest.NewServer(open)
	defer ts.Close()
	defer open.Close()
	open.mu.Lock()
	k := open.startKernel("python3")
	open.mu.Unlock()
	ctx := ctxT(t)
	_, resp, err := websocket.Dial(ctx, strings.Replace(ts.URL, "http", "ws", 1)+"/api/kernels/"+k.id+"/channels",
		&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"http://elsewhere.example"}}})
	if err == nil || resp.StatusCode != 403 {
		t.Errorf("cross-origin without a token: %v", err)
	}
}

// TestChannelsSlowReaderIsBounded: a client that stops reading while its
// kernel writes is disconnected past MaxQueued instead of growing the
// server.
func TestChannelsSlowReaderIsBounded(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	f.ref.mu.Lock()
	f.ref.ch.maxQueued = 4 << 20 // MaxQueued at a scale the test can fill quickly
	f.ref.mu.Unlock()
	chunk := strings.Repeat("x", 1<<20)
	var steps []Step
	for i := 0; i < 40; i++ {
		steps = append(steps, DisplayStep(map[string]any{"text/plain": chunk}, nil, ""))
	}
	f.ref.Script("flood()", steps...)
	ws, _, err := websocket.Dial(ctxT(t), strings.Replace(f.base, "http", "ws", 1)+"api/kernels/"+kid+"/channels?session_id=slow",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"token " + tok}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitFor(t, func() bool { return f.model(kid).Connections == 1 })
	msg := map[string]any{"header": map[string]any{"msg_id": "f", "msg_type": "execute_request"}, "parent_header": map[string]any{},
		"metadata": map[string]any{}, "channel": "shell", "content": map[string]any{"code": "flood()", "silent": false}}
	if err := ws.Write(ctxT(t), websocket.MessageText, mustJSON(msg)); err != nil {
		t.Fatal(err)
	}
	// Not reading: the server gives up on this client.
	waitFor(t, func() bool { return f.model(kid).Connections == 0 })
}

// TestChannelsConcurrentClients runs many clients at once on two kernels
// (for the race detector), then closes the server: no goroutine is left.
func TestChannelsConcurrentClients(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ref := New(Options{Token: tok, Generation: 1})
	ts := httptest.NewServer(ref)
	ref.mu.Lock()
	kernels := []string{ref.startKernel("python3").id, ref.startKernel("python3").id}
	ref.mu.Unlock()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, _, err := dialChannels(t, ts.URL+"/", tok, kernels[i%2], fmt.Sprint("c", i), i%3 == 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.close()
			for j := 0; j < 20; j++ {
				id := c.execute(fmt.Sprintf("print(%d)\n%d*%d", j, i, j))
				deadline := time.Now().Add(10 * time.Second)
				fin := finished(id, "execute_reply")
				for {
					m, err := c.recv(time.Until(deadline))
					if err != nil {
						t.Errorf("client %d: %v", i, err)
						return
					}
					if m.Type() == "execute_result" && m.ParentID() == id && fmt.Sprint(m.Content["data"]) != fmt.Sprintf("map[text/plain:%d]", i*j) {
						t.Errorf("client %d got %v", i, m.Content)
					}
					if fin(m) {
						break
					}
				}
			}
		}(i)
	}
	wg.Add(1)
	go func() { // REST traffic meanwhile
		defer wg.Done()
		for i := 0; i < 20; i++ {
			if resp, err := http.Get(ts.URL + "/api/kernels?token=" + tok); err == nil {
				resp.Body.Close()
			}
		}
	}()
	wg.Wait()
	// Leave one kernel mid-sleep with a connection open: Close ends both.
	c, _, err := dialChannels(t, ts.URL+"/", tok, kernels[0], "sleeper", false)
	if err != nil {
		t.Fatal(err)
	}
	c.execute("import time; time.sleep(3600)")
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	ref.Close()
	ts.Close()
	c.close()
	http.DefaultClient.CloseIdleConnections()
}

// TestChannelsNoGoroutineOutlives checks the two lifetimes the channels
// promise: a connection's goroutines end when it closes, and a kernel's
// worker ends when the kernel is deleted, even mid-execution with a
// client still connected.
func TestChannelsNoGoroutineOutlives(t *testing.T) {
	f := newChanFixture(t)
	kid := f.kernel()
	f.do("GET", "api/kernels") // the HTTP connection the checks below reuse
	base := goleak.IgnoreCurrent()

	c := mustDial(t, f.base, tok, kid, "s", false)
	c.execute("import time\ntime.sleep(3600)")
	c.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
	c.close()
	waitFor(t, func() bool { return f.model(kid).Connections == 0 })
	// The connection is gone; the kernel's worker (asleep) is all that is left.
	f.do("DELETE", "api/kernels/"+kid)
	if err := goleak.Find(base); err != nil {
		t.Errorf("after the connection closed and the kernel was deleted: %v", err)
	}

	// A kernel deleted while a client stays connected: the worker ends; the
	// connection's two goroutines stay until the client closes.
	kid = f.kernel()
	d := mustDial(t, f.base, tok, kid, "s", false)
	d.execute("import time\ntime.sleep(3600)")
	d.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_input" })
	waitFor(t, func() bool { return f.model(kid).ExecutionState == "busy" })
	f.do("DELETE", "api/kernels/"+kid)
	d.until(5*time.Second, func(m wmsg) bool { return m.Type() == "execute_reply" })
	f.ref.mu.Lock()
	worker := f.ref.ch.conns != nil && len(f.ref.ch.conns) == 1
	f.ref.mu.Unlock()
	if !worker {
		t.Error("the connection to the deleted kernel is not kept open")
	}
	d.close()
	if err := goleak.Find(base); err != nil {
		t.Errorf("after the last client left: %v", err)
	}
}
