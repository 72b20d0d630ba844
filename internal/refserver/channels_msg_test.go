package refserver

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
)

func TestPyDate(t *testing.T) {
	// What jupyter_client makes of a header's date on its way through the
	// kernel (docs/wire/kernel-channels.md KC11).
	for in, want := range map[string]string{
		"2024-01-02T03:04:05Z":         "2024-01-02T03:04:05Z",
		"2024-01-02T03:04:05.123Z":     "2024-01-02T03:04:05.123000Z",
		"2024-01-02T03:04:05.000000Z":  "2024-01-02T03:04:05Z",
		"2024-01-02T03:04:05.5+02:00":  "2024-01-02T03:04:05.500000+02:00",
		"2024-01-02T03:04:05":          "2024-01-02T03:04:05Z",
		"2024-01-02T03:04:05+0000":     "2024-01-02T03:04:05Z",
		"2024-01-02T03:04:05.1234567Z": "",
		"not a date":                   "",
		"2024-13-02T03:04:05Z":         "",
	} {
		got, ok := pyDate(in)
		if !ok {
			got = ""
		}
		if got != want {
			t.Errorf("%s: %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeHeaderKeepsOrder(t *testing.T) {
	out, id, typ, ok := normalizeHeader([]byte(`{"z": 1, "msg_type": "execute_request", "date": "2024-01-02T03:04:05.000Z", "msg_id": "m1", "a": {"b": [1]}}`))
	if !ok || id != "m1" || typ != "execute_request" {
		t.Fatalf("%v %q %q", ok, id, typ)
	}
	if string(out) != `{"z": 1, "msg_type": "execute_request", "date": "2024-01-02T03:04:05Z", "msg_id": "m1", "a": {"b": [1]}}` {
		t.Errorf("%s", out)
	}
	for _, bad := range []string{`null`, `[]`, `{"msg_id": "x"}`, `{"msg_type": "x"}`, `{"msg_id": "x", "msg_type": "y"`, `"s"`} {
		if _, _, _, ok := normalizeHeader([]byte(bad)); ok {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestFramesRoundTrip(t *testing.T) {
	m := &kmsg{channel: "iopub", msgType: "comm_msg", msgID: "k_1_2", header: []byte(`{"msg_id": "k_1_2"}`),
		parent: []byte(`{}`), metadata: []byte(`{}`), content: []byte(`{"a": 1}`), buffers: [][]byte{[]byte("xyz"), {}}}
	// v1: what a client sends has the same layout as what it receives.
	got, err := decodeV1(m.v1Frame())
	if err != nil || got.channel != "iopub" || string(got.content) != `{"a": 1}` || string(got.header) != `{"msg_id": "k_1_2"}` {
		t.Errorf("v1: %+v %v", got, err)
	}
	// Legacy binary: the JSON part has no "buffers" key; the buffers follow.
	bin, frame := m.legacyFrame()
	if !bin {
		t.Fatal("a message with buffers must be a binary frame")
	}
	parts, err := unpackOffsets(frame)
	if err != nil || len(parts) != 3 || string(parts[1]) != "xyz" || len(parts[2]) != 0 {
		t.Fatalf("%q %v", parts, err)
	}
	var obj map[string]any
	if err := json.Unmarshal(parts[0], &obj); err != nil || obj["buffers"] != nil || obj["channel"] != "iopub" || obj["msg_id"] != "k_1_2" {
		t.Errorf("json part %s", parts[0])
	}
	// Text legacy JSON keeps Jupyter's key order.
	m.buffers = nil
	if _, frame := m.legacyFrame(); !strings.HasPrefix(string(frame), `{"header": {"msg_id": "k_1_2"}, "msg_id": "k_1_2", "msg_type": "comm_msg", "parent_header": {}, "metadata": {}, "content": {"a": 1}, "buffers": [], "channel": "iopub"}`) {
		t.Errorf("legacy %s", frame)
	}
	m.fromServer = true
	if _, frame := m.legacyFrame(); !strings.Contains(string(frame), `"content": {"a": 1}, "metadata": {}, "channel"`) {
		t.Errorf("server message %s", frame)
	}
}

// FuzzClientMessage feeds arbitrary frames to the decoder and, when it
// accepts them, to the kernel: no panic, no lock left held.
func FuzzClientMessage(f *testing.F) {
	hdr := `{"msg_id": "1", "msg_type": "execute_request", "date": "2024-01-02T03:04:05Z"}`
	for _, seed := range []string{
		`{"header": ` + hdr + `, "parent_header": {}, "metadata": {}, "content": {"code": "1+1", "silent": false}, "channel": "shell"}`,
		`{"header": ` + hdr + `, "parent_header": {}, "metadata": {}, "content": {"code": 5, "silent": []}}`,
		`{"header": {"msg_id": "1", "msg_type": "complete_request"}, "parent_header": {}, "metadata": {}, "content": {"code": "x", "cursor_pos": "no"}}`,
		`{"header": {"msg_id": "1", "msg_type": "shutdown_request"}, "parent_header": {}, "metadata": {}, "content": {"restart": 1}, "channel": "control"}`,
		`{"header": {"msg_id": "1", "msg_type": "input_reply"}, "parent_header": {}, "metadata": {}, "content": {"value": {}}, "channel": "stdin"}`,
		`{"header": {"msg_id": "1", "msg_type": "interrupt_request"}, "parent_header": null, "metadata": 1, "content": [], "channel": "control"}`,
		"\x00\x00\x00\x02\x00\x00\x00\x0c\x00\x00\x00\x0e{}ab",
	} {
		f.Add(false, []byte(seed), false)
	}
	f.Add(true, (&kmsg{channel: "shell", header: []byte(hdr), parent: []byte("{}"), metadata: []byte("{}"),
		content: []byte(`{"code": "print(1)", "silent": false}`)}).v1Frame(), true)
	f.Fuzz(func(t *testing.T, binaryMsg bool, data []byte, v1 bool) {
		m, err := decodeClient(binaryMsg, data, v1)
		if err != nil {
			return
		}
		s := New(Options{Generation: 1})
		s.mu.Lock()
		k := s.startKernel("python3")
		rt := s.runtime(k)
		s.mu.Unlock()
		c := &conn{s: s, rt: rt, session: "f", wake: make(chan struct{}, 1), done: make(chan struct{})}
		s.mu.Lock()
		s.open(rt, c)
		s.mu.Unlock()
		s.dispatch(c, m)
		s.mu.Lock()
		for _, q := range c.out {
			if !json.Valid(q.content) || !json.Valid(q.header) || !json.Valid(q.parent) {
				t.Fatalf("invalid JSON sent: %s", q.content)
			}
		}
		delete(s.ch.conns, c) // it has no WebSocket for Close to close
		s.mu.Unlock()
		s.Close()
	})
}

// TestClientMessageMemoryBound measures what reading and decoding one
// client message of the maximum size allocates: the stated bound is 3.5
// times the message, so 35 MiB at MaxClientMessage, transient, per
// connection reading such a message.
func TestClientMessageMemoryBound(t *testing.T) {
	code := strings.Repeat("x", MaxClientMessage-200)
	msg := mustJSON(map[string]any{"header": map[string]any{"msg_id": "m", "msg_type": "execute_request"},
		"parent_header": map[string]any{}, "metadata": map[string]any{}, "channel": "shell",
		"content": map[string]any{"code": code, "silent": false}})
	if len(msg) > MaxClientMessage {
		t.Fatalf("test message %d bytes", len(msg))
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	data, tooBig, err := readMessage(bytes.NewReader(msg))
	if err != nil || tooBig {
		t.Fatal(err, tooBig)
	}
	m, err := decodeClient(false, data, false)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, ok := normalizeHeader(m.header)
	code2, _ := spans(m.content).str("code")
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte message: %d bytes allocated (%.2fx)", len(msg), allocated, float64(allocated)/float64(len(msg)))
	if !ok || code2 != code {
		t.Fatal("decoded wrong")
	}
	if allocated > 7*uint64(len(msg))/2 {
		t.Errorf("reading and decoding a %d-byte message allocated %d bytes, over 3.5x", len(msg), allocated)
	}
	// One byte over the bound is refused without reading it all.
	if _, tooBig, _ := readMessage(bytes.NewReader(append(msg, bytes.Repeat([]byte(" "), MaxClientMessage)...))); !tooBig {
		t.Error("an oversized message was accepted")
	}
}
