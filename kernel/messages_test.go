package kernel

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
	"github.com/nbserv/go-nbserv/nbformat"
)

// frames reads testdata/kernel-channels/name.jsonl: every frame a real
// Jupyter Server 1.23.3 sent the probe after one request
// (docs/wire/kernel-channels.md KC1 says how they were captured).
func frames(t *testing.T, name string) []*Message {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "kernel-channels", name+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*Message
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Protocol string `json:"protocol"`
			Binary   bool   `json:"binary"`
			Frame    string `json:"frame"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(line.Frame)
		if err != nil {
			t.Fatal(err)
		}
		var fr framing = legacyFraming{}
		if line.Protocol == "v1" {
			fr = v1Framing{}
		}
		typ := websocket.MessageText
		if line.Binary {
			typ = websocket.MessageBinary
		}
		m := fr.decode(typ, b)
		if m.Err != nil {
			t.Fatalf("%s: %v in %q", name, m.Err, b)
		}
		out = append(out, m)
	}
	return out
}

// only returns the one message of msgType.
func only(t *testing.T, ms []*Message, msgType string) *Message {
	t.Helper()
	var found *Message
	for _, m := range ms {
		if m.Header.MsgType == msgType {
			if found != nil {
				t.Fatalf("two %s messages", msgType)
			}
			found = m
		}
	}
	if found == nil {
		t.Fatalf("no %s message", msgType)
	}
	return found
}

func decoded[T Content](t *testing.T, m *Message) T {
	t.Helper()
	c, err := m.Decode()
	if err != nil {
		t.Fatal(err)
	}
	v, ok := c.(T)
	if !ok {
		t.Fatalf("%s decoded as %T", m.Header.MsgType, c)
	}
	return v
}

func TestGoldenExecute(t *testing.T) {
	for _, name := range []string{"legacy-execute", "v1-execute"} {
		t.Run(name, func(t *testing.T) {
			ms := frames(t, name)
			var types []string
			for _, m := range ms {
				types = append(types, string(m.Channel)+"/"+m.Header.MsgType)
				if m.Header.Version != "5.3" || m.Header.MsgID == "" || m.Header.Session == "" {
					t.Errorf("header %+v", m.Header)
				}
				if _, ok := m.Header.Time(); !ok {
					t.Errorf("date %q", m.Header.Date)
				}
			}
			// After Jupyter's own kernel_info probe (three statuses), the
			// execution; v1 delivered the reply before the result.
			if !strings.Contains(strings.Join(types, " "), "iopub/execute_input") || len(types) != 9 {
				t.Errorf("types %v", types)
			}
			in := decoded[*ExecuteInput](t, only(t, ms, MsgExecuteInput))
			if in.Code != "print(\"hi\")\n1+1" || in.ExecutionCount == 0 {
				t.Errorf("%+v", in)
			}
			if s := decoded[*Stream](t, only(t, ms, MsgStream)); *s != (Stream{Stdout, "hi\n"}) {
				t.Errorf("%+v", s)
			}
			r := decoded[*ExecuteResult](t, only(t, ms, MsgExecuteResult))
			if txt, ok := r.Data.Text("text/plain"); !ok || txt != "2" || r.ExecutionCount != in.ExecutionCount {
				t.Errorf("%+v", r)
			}
			reply := only(t, ms, MsgExecuteReply)
			rc := decoded[*ExecuteReply](t, reply)
			if reply.Channel != ChannelShell || rc.Status != StatusOK || rc.ExecutionCount != in.ExecutionCount ||
				reply.ParentHeader.MsgType != MsgExecuteRequest || reply.ParentHeader.Username != "probe" {
				t.Errorf("%+v %+v", reply, rc)
			}
			// ipykernel's reply metadata, kept raw.
			var md map[string]any
			if json.Unmarshal(reply.Metadata, &md) != nil || md["status"] != "ok" {
				t.Errorf("metadata %s", reply.Metadata)
			}
		})
	}
}

func TestGoldenBuffers(t *testing.T) {
	for _, name := range []string{"legacy-comm-buffers", "v1-comm-buffers"} {
		t.Run(name, func(t *testing.T) {
			m := only(t, frames(t, name), MsgCommOpen)
			if diff := cmp.Diff([][]byte{{0, 1, 2}, []byte("xyz")}, m.Buffers); diff != "" {
				t.Errorf("buffers (-want +got):\n%s", diff)
			}
			raw := decoded[*RawContent](t, m)
			var c struct {
				CommID     string         `json:"comm_id"`
				TargetName string         `json:"target_name"`
				Data       map[string]int `json:"data"`
			}
			if err := json.Unmarshal(raw.JSON, &c); err != nil || c.TargetName != "probe" || c.Data["a"] != 1 || c.CommID == "" {
				t.Errorf("%s: %v", raw.JSON, err)
			}
		})
	}
}

func TestGoldenError(t *testing.T) {
	ms := frames(t, "legacy-error")
	ke := decoded[*Error](t, only(t, ms, MsgError))
	if ke.Ename != "ValueError" || ke.Evalue != "boom" || len(ke.Traceback) != 4 {
		t.Fatalf("%+v", ke)
	}
	plain := ke.PlainTraceback()
	if strings.Contains(plain, "\x1b") || !strings.HasSuffix(plain, "ValueError: boom") || !strings.Contains(plain, `----> 1 raise ValueError("boom")`) {
		t.Errorf("plain traceback %q", plain)
	}
	r := decoded[*ExecuteReply](t, only(t, ms, MsgExecuteReply))
	if r.Status != StatusError || r.Ename != "ValueError" || len(r.Traceback) != 4 {
		t.Errorf("%+v", r)
	}
	if err := replyErr(r); err.Error() != "nbserv: kernel error: ValueError: boom" {
		t.Errorf("%v", err)
	}
}

func TestGoldenKernelInfo(t *testing.T) {
	info := decoded[*KernelInfoReply](t, only(t, frames(t, "legacy-kernel-info"), MsgKernelInfoReply))
	if info.ProtocolVersion != "5.3" || info.Implementation != "ipython" || info.LanguageInfo.Name != "python" ||
		info.LanguageInfo.FileExtension != ".py" || info.LanguageInfo.PygmentsLexer != "ipython3" ||
		string(info.LanguageInfo.CodemirrorMode) != `{"name": "ipython", "version": 3}` ||
		len(info.HelpLinks) == 0 || info.HelpLinks[0].Text != "Python Reference" || !strings.HasPrefix(info.Banner, "Python 3") {
		t.Errorf("%+v", info)
	}
}

func TestGoldenDisplay(t *testing.T) {
	ms := frames(t, "legacy-display")
	d := decoded[*DisplayData](t, only(t, ms, MsgDisplayData))
	u := decoded[*UpdateDisplayData](t, only(t, ms, MsgUpdateDisplayData))
	c := decoded[*ClearOutput](t, only(t, ms, MsgClearOutput))
	if d.DisplayID() != "d1" || u.DisplayID() != "d1" || !c.Wait {
		t.Errorf("%+v %+v %+v", d, u, c)
	}
	// In the order they came, as an Execution holds them.
	var ex Execution
	for _, m := range ms {
		if m.Channel == ChannelIOPub && isOutput(m.Header.MsgType) {
			out, err := m.Decode()
			if err != nil {
				t.Fatal(err)
			}
			ex.Outputs = append(ex.Outputs, out)
		}
	}
	if ex.Stdout() != "x\n" || ex.Stderr() != "e\n" || len(ex.Outputs) != 5 {
		t.Errorf("%+v", ex.Outputs)
	}
	// clear_output(wait=True) cleared the display when "x" came.
	shown := ex.Displayed()
	if len(shown) != 2 || shown[0].(*Stream).Text != "x\n" || shown[1].(*Stream).Name != Stderr {
		t.Errorf("displayed %#v", shown)
	}
}

func TestGoldenStdinCompleteInspect(t *testing.T) {
	ir := decoded[*InputRequest](t, only(t, frames(t, "legacy-stdin"), MsgInputRequest))
	if *ir != (InputRequest{Prompt: "name? ", Password: false}) {
		t.Errorf("%+v", ir)
	}
	cr := decoded[*CompleteReply](t, only(t, frames(t, "legacy-complete"), MsgCompleteReply))
	if cr.Status != StatusOK || cr.CursorStart != 7 || cr.CursorEnd != 8 || !strings.Contains(strings.Join(cr.Matches, " "), "os") {
		t.Errorf("%+v", cr)
	}
	in := decoded[*InspectReply](t, only(t, frames(t, "legacy-inspect"), MsgInspectReply))
	if txt, _ := in.Data.Text("text/plain"); !in.Found || !strings.Contains(txt, "Return the number of items in a container.") {
		t.Errorf("%+v", in)
	}
}

// jupyterLegacyBinary parses a legacy binary frame as jupyter_server's
// deserialize_binary_message does: a big-endian count, that many
// big-endian offsets from the frame's start, the JSON, the buffers.
func jupyterLegacyBinary(b []byte) (js []byte, bufs [][]byte) {
	n := int(binary.BigEndian.Uint32(b))
	offs := make([]int, n+1)
	for i := range n {
		offs[i] = int(binary.BigEndian.Uint32(b[4*(i+1):]))
	}
	offs[n] = len(b)
	for i := range n {
		part := b[offs[i]:offs[i+1]]
		if i == 0 {
			js = part
		} else {
			bufs = append(bufs, part)
		}
	}
	return js, bufs
}

// jupyterV1 parses a v1 frame as jupyter_server's
// deserialize_msg_from_ws_v1 does: a little-endian count of offsets, the
// offsets, the channel, the parts.
func jupyterV1(b []byte) (channel string, parts [][]byte) {
	n := int(binary.LittleEndian.Uint64(b))
	offs := make([]int, n)
	for i := range n {
		offs[i] = int(binary.LittleEndian.Uint64(b[8*(i+1):]))
	}
	channel = string(b[offs[0]:offs[1]])
	for i := 1; i < n-1; i++ {
		parts = append(parts, b[offs[i]:offs[i+1]])
	}
	return channel, parts
}

func TestEncodeAsJupyterDecodes(t *testing.T) {
	p := outParts{header: []byte(`{"msg_id":"m1","msg_type":"comm_msg"}`), parent: []byte(`{}`), metadata: []byte(`{}`),
		content: []byte(`{"comm_id":"c","data":{}}`)}
	t.Run("legacy text", func(t *testing.T) {
		typ, b := legacyFraming{}.encode(ChannelShell, &p)
		var m map[string]json.RawMessage
		if typ != websocket.MessageText || json.Unmarshal(b, &m) != nil || string(m["channel"]) != `"shell"` ||
			string(m["header"]) != string(p.header) || string(m["buffers"]) != `[]` {
			t.Errorf("%d %s", typ, b)
		}
	})
	withBufs := p
	withBufs.buffers = [][]byte{{9, 8}, {}, []byte("last")}
	t.Run("legacy binary", func(t *testing.T) {
		typ, b := legacyFraming{}.encode(ChannelShell, &withBufs)
		js, bufs := jupyterLegacyBinary(b)
		var m map[string]json.RawMessage
		if typ != websocket.MessageBinary || json.Unmarshal(js, &m) != nil || string(m["channel"]) != `"shell"` {
			t.Errorf("%d %q", typ, b)
		}
		if diff := cmp.Diff([][]byte{{9, 8}, {}, []byte("last")}, bufs); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("v1", func(t *testing.T) {
		typ, b := v1Framing{}.encode(ChannelStdin, &withBufs)
		ch, parts := jupyterV1(b)
		want := [][]byte{p.header, p.parent, p.metadata, p.content, {9, 8}, {}, []byte("last")}
		if typ != websocket.MessageBinary || ch != "stdin" {
			t.Errorf("%d %q", typ, ch)
		}
		if diff := cmp.Diff(want, parts); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	// And each framing reads back what it wrote.
	for _, fr := range []framing{legacyFraming{}, v1Framing{}} {
		for _, q := range []outParts{p, withBufs} {
			typ, b := fr.encode(ChannelIOPub, &q)
			m := fr.decode(typ, b)
			if m.Err != nil || m.Channel != ChannelIOPub || m.Header.MsgID != "m1" || string(m.Content) != string(q.content) || len(m.Buffers) != len(q.buffers) {
				t.Errorf("%T round trip: %+v", fr, m)
			}
		}
	}
}

func TestRoute(t *testing.T) {
	p := outParts{header: []byte(`{"msg_id": "x", "msg_type": "stream"}`), parent: []byte(`{"msg_id": "req-1"}`), metadata: []byte(`{}`),
		content: []byte(`{"name": "stdout", "text": "` + strings.Repeat("z", 1000) + `"}`), buffers: [][]byte{{1}}}
	for _, fr := range []framing{legacyFraming{}, v1Framing{}} {
		for _, q := range []outParts{p, {header: p.header, parent: p.parent, metadata: p.metadata, content: p.content}} {
			typ, b := fr.encode(ChannelIOPub, &q)
			// Only the first 300 bytes: the content is cut off.
			parent, msgType, _ := fr.route(typ, b[:300])
			if parent != "req-1" || msgType != "stream" {
				t.Errorf("%T: route %q %q", fr, parent, msgType)
			}
		}
	}
	// A prefix that names nothing.
	for _, prefix := range [][]byte{nil, []byte("{"), []byte(`{"content": "`), {0, 0, 0, 1}} {
		if parent, _, _ := (legacyFraming{}).route(websocket.MessageText, prefix); parent != "" {
			t.Errorf("%q: %q", prefix, parent)
		}
	}
}

func TestDecodeContent(t *testing.T) {
	for _, tc := range []struct {
		msgType, content string
		want             Content
		err              bool
	}{
		{MsgStatus, `{"execution_state": "busy"}`, &Status{StateBusy}, false},
		{MsgShutdownReply, `{"status": "ok", "restart": true}`, &ShutdownReply{StatusOK, true}, false},
		{MsgInterruptReply, `{"status": "ok"}`, &InterruptReply{StatusOK}, false},
		{MsgInputReply, `{"value": "v"}`, &InputReply{"v"}, false},
		{"debug_event", `{"x": 1}`, &RawContent{"debug_event", json.RawMessage(`{"x": 1}`)}, false},
		{MsgStream, `{"name": 5}`, nil, true},
		{MsgStream, ``, nil, true},
		{MsgExecuteReply, `[]`, nil, true},
	} {
		got, err := decodeContent(tc.msgType, json.RawMessage(tc.content))
		if (err != nil) != tc.err || !tc.err && !cmp.Equal(tc.want, got) {
			t.Errorf("%s %s: %#v, %v", tc.msgType, tc.content, got, err)
		}
	}
	// Every typed content names its own type.
	for _, c := range []Content{&ExecuteRequest{}, &ExecuteReply{}, &ExecuteInput{}, &ExecuteResult{}, &Stream{}, &DisplayData{},
		&UpdateDisplayData{}, &ClearOutput{}, &Error{}, &Status{}, &KernelInfoRequest{}, &KernelInfoReply{}, &CompleteRequest{},
		&CompleteReply{}, &InspectRequest{}, &InspectReply{}, &InputRequest{}, &InputReply{}, &InterruptRequest{}, &InterruptReply{},
		&ShutdownRequest{}, &ShutdownReply{}} {
		got, err := decodeContent(c.MsgType(), json.RawMessage(`{}`))
		if err != nil || got.MsgType() != c.MsgType() {
			t.Errorf("%T: %T, %v", c, got, err)
		}
	}
	// A malformed message decodes to its error.
	m := &Message{Err: errMalformed, Raw: []byte("x")}
	if _, err := m.Decode(); !errors.Is(err, errMalformed) {
		t.Errorf("%v", err)
	}
}

func TestHeaderTime(t *testing.T) {
	for date, want := range map[string]string{
		"2026-11-27T21:46:02.018545Z":      "2026-11-27T21:46:02.018545Z",
		"2026-11-27T21:46:02.018545+01:00": "2026-11-27T20:46:02.018545Z",
		"2026-11-27T21:46:02.018545":       "2026-11-27T21:46:02.018545Z", // naive: UTC
	} {
		got, ok := Header{Date: date}.Time()
		if !ok || got.UTC().Format(time.RFC3339Nano) != want {
			t.Errorf("%q: %v %v", date, got, ok)
		}
	}
	if _, ok := (Header{Date: "yesterday"}).Time(); ok {
		t.Error("parsed yesterday")
	}
}

func TestKernelErrorText(t *testing.T) {
	e := &Error{Ename: "KeyboardInterrupt"}
	if e.Error() != "nbserv: kernel error: KeyboardInterrupt" {
		t.Errorf("%q", e.Error())
	}
	e = &Error{Ename: "ValueError", Evalue: "two\nlines \x1b[31m" + strings.Repeat("x", 400)}
	if s := e.Error(); strings.ContainsAny(s, "\n\x1b") || len(s) > 400 {
		t.Errorf("not one line: %q", s)
	}
}

func TestDisplayed(t *testing.T) {
	disp := func(id, text string) *DisplayData {
		return &DisplayData{Data: nbformat.MIMEBundle{"text/plain": json.RawMessage(`"` + text + `"`)},
			Transient: map[string]json.RawMessage{"display_id": json.RawMessage(`"` + id + `"`)}}
	}
	ex := &Execution{Outputs: []Content{
		&Stream{Stdout, "a"}, &Stream{Stdout, "b"}, &ClearOutput{}, // cleared at once
		disp("d", "1"), &Stream{Stdout, "c"}, &Stream{Stderr, "e"}, &Stream{Stdout, "f"},
		&UpdateDisplayData{Data: nbformat.MIMEBundle{"text/plain": json.RawMessage(`"2"`)}, Transient: map[string]json.RawMessage{"display_id": json.RawMessage(`"d"`)}},
		&ClearOutput{Wait: true}, &ClearOutput{Wait: true}, // cleared when the next output comes
		&Stream{Stdout, "g"}, &Stream{Stdout, "h"}, disp("other", "3"),
	}}
	var got []string
	for _, o := range ex.Displayed() {
		switch v := o.(type) {
		case *Stream:
			got = append(got, v.Name+":"+v.Text)
		case *DisplayData:
			txt, _ := v.Data.Text("text/plain")
			got = append(got, "display "+v.DisplayID()+":"+txt)
		}
	}
	if diff := cmp.Diff([]string{"stdout:gh", "display other:3"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Before the last clear: the update replaced the display in place.
	ex.Outputs = ex.Outputs[:8]
	got = nil
	for _, o := range ex.Displayed() {
		if d, ok := o.(*DisplayData); ok {
			txt, _ := d.Data.Text("text/plain")
			got = append(got, txt)
		}
	}
	if diff := cmp.Diff([]string{"2"}, got); diff != "" || len(ex.Displayed()) != 4 {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Outputs is left alone.
	if s := ex.Outputs[0].(*Stream); s.Text != "a" {
		t.Errorf("%q", s.Text)
	}
}

func TestDisplayedUpdatesByDisplayIDAcrossTypes(t *testing.T) {
	tr := func(id string) map[string]json.RawMessage {
		return map[string]json.RawMessage{"display_id": json.RawMessage(`"` + id + `"`)}
	}
	text := func(s string) nbformat.MIMEBundle {
		return nbformat.MIMEBundle{"text/plain": json.RawMessage(`"` + s + `"`)}
	}
	ex := &Execution{Outputs: []Content{
		&DisplayData{Data: text("d1"), Transient: tr("d")},
		&ExecuteResult{ExecutionCount: 3, Data: text("r1"), Transient: tr("r")},
		&DisplayData{Data: text("d2"), Transient: tr("d")}, // a second display of "d" updates the first, as nbclient does
		&UpdateDisplayData{Data: text("r2"), Transient: tr("r")},
		&DisplayData{Data: text("plain")},
		&UpdateDisplayData{Data: text("none")}, // no id: updates nothing
	}}
	var got []string
	for _, o := range ex.NotebookOutputs() {
		txt, _ := o.Data.Text("text/plain")
		got = append(got, o.OutputType+":"+txt)
	}
	want := []string{"display_data:d2", "execute_result:r2", "display_data:d2", "display_data:plain"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if n := ex.NotebookOutputs()[1].ExecutionCount; n == nil || *n != 3 {
		t.Errorf("execution count of the updated result: %v", n)
	}
	if txt, _ := ex.Outputs[0].(*DisplayData).Data.Text("text/plain"); txt != "d1" {
		t.Errorf("Outputs changed: %q", txt)
	}
}

func TestNotebookOutputs(t *testing.T) {
	ex := &Execution{Outputs: []Content{
		&Stream{Stdout, "10%\r"}, &Stream{Stdout, "100%\r\n"}, &Stream{Stderr, "w\n"},
		&ExecuteResult{ExecutionCount: 2, Data: nbformat.MIMEBundle{"text/plain": json.RawMessage(`"2"`)}, Metadata: map[string]json.RawMessage{"k": json.RawMessage(`1`)}},
		&Error{Ename: "ValueError", Evalue: "boom", Traceback: []string{"tb"}},
		&RawContent{Type: MsgStream, JSON: json.RawMessage(`{"name":"stdout","text":7}`)},
		&RawContent{Type: MsgCommOpen, JSON: json.RawMessage(`{}`)},
		&ClearOutput{Wait: true}, // pending: no output follows, so nothing is cleared
	}}
	var got []string
	for _, o := range ex.NotebookOutputs() {
		b, err := o.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	want := []string{
		`{"output_type":"stream","name":"stdout","text":"10%\r100%\r\n"}`,
		`{"output_type":"stream","name":"stderr","text":"w\n"}`,
		`{"output_type":"execute_result","data":{"text/plain":"2"},"metadata":{"k":1},"execution_count":2}`,
		`{"output_type":"error","ename":"ValueError","evalue":"boom","traceback":["tb"]}`,
		`{"output_type":"stream","name":"stdout","text":7}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
