package kernel

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/coder/websocket"
)

// FuzzKernelFrame feeds any bytes to both framings, as text or binary
// frames, and to the routing of oversized frames: a hostile server's frame
// must give a Message (with Err when it is not one), never a panic, and a
// frame read as a message must decode its content without panicking and
// survive being written and read again.
func FuzzKernelFrame(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "kernel-channels", "*.jsonl"))
	for _, name := range seeds {
		file, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Protocol string `json:"protocol"`
				Binary   bool   `json:"binary"`
				Frame    string `json:"frame"`
			}
			_ = json.Unmarshal(sc.Bytes(), &line)
			b, _ := base64.StdEncoding.DecodeString(line.Frame)
			f.Add(b, line.Binary, line.Protocol == "v1")
		}
		file.Close()
	}
	f.Add([]byte{0, 0, 0, 2, 0, 0, 0, 12, 0, 0, 0, 0}, true, false)
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255}, true, true)
	f.Fuzz(func(t *testing.T, frame []byte, binary, v1 bool) {
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		var fr framing = legacyFraming{}
		if v1 {
			fr = v1Framing{}
		}
		fr.route(typ, frame)
		m := fr.decode(typ, frame)
		if m == nil {
			t.Fatal("nil message")
		}
		if m.Err != nil {
			if string(m.Raw) != string(frame) {
				t.Fatalf("raw %q, frame %q", m.Raw, frame)
			}
			return
		}
		if c, err := m.Decode(); err == nil && c == nil {
			t.Fatal("no content and no error")
		}
		parent := []byte(`{}`)
		if m.ParentHeader.MsgID != "" {
			parent, _ = json.Marshal(m.ParentHeader)
		}
		content := []byte(m.Content)
		if len(content) == 0 || string(content) == "null" {
			content = []byte(`{}`)
		}
		metadata := []byte(m.Metadata)
		if len(metadata) == 0 || string(metadata) == "null" {
			metadata = []byte(`{}`)
		}
		p := outParts{header: m.rawHeader, parent: parent, metadata: metadata, content: content, buffers: m.Buffers}
		again := fr.decode(fr.encode(m.Channel, &p))
		if again.Err != nil || again.Header != m.Header || again.ParentHeader.MsgID != m.ParentHeader.MsgID || again.Channel != m.Channel ||
			len(again.Buffers) != len(m.Buffers) {
			t.Fatalf("round trip: %+v\nthen %+v", m, again)
		}
	})
}
