package kernel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/coder/websocket"
)

// How messages travel in WebSocket frames. Jupyter Server has two
// formats (docs/wire/kernel-channels.md KC3):
//
//   - the legacy one, which every server speaks: a message is a JSON text
//     frame with a "channel" key beside header, parent_header, metadata and
//     content; a message with buffers is a binary frame holding a table of
//     offsets, the JSON, then the buffers;
//   - v1.kernel.websocket.jupyter.org, chosen by the server when the
//     client offers that subprotocol (Jupyter Server 1.23 already does):
//     every message is a binary frame holding a table of offsets, the
//     channel name, then header, parent_header, metadata, content and the
//     buffers as separate JSON parts, which the server passes to and from
//     the kernel without decoding them.
//
// A framing turns an outgoing message into one frame and one frame back
// into a Message; Conn picks one per connection from what the handshake
// negotiated.
type framing interface {
	// encode makes the frame of a message whose parts are already JSON.
	encode(ch Channel, parts *outParts) (websocket.MessageType, []byte)
	// decode reads one frame. It never fails: a frame that is not a
	// message comes back with Err set and Raw holding a copy. What it
	// keeps does not alias frame, which the caller reuses.
	decode(typ websocket.MessageType, frame []byte) *Message
	// route reads what it can of a frame's first bytes, for a message too
	// large to keep: the parent's msg_id, the message's type and channel.
	route(typ websocket.MessageType, prefix []byte) (parentID, msgType string, ch Channel)
}

// Subprotocols a Conn can speak (see WithProtocol).
const (
	// ProtocolV1 is Jupyter Server's "v1.kernel.websocket.jupyter.org"
	// subprotocol.
	ProtocolV1 = "v1.kernel.websocket.jupyter.org"
	// ProtocolLegacy is the JSON format every Jupyter Server speaks when no
	// subprotocol is negotiated.
	ProtocolLegacy = "legacy"
)

// framingFor returns the framing of a negotiated subprotocol ("" for none).
func framingFor(subprotocol string) (framing, error) {
	switch subprotocol {
	case "":
		return legacyFraming{}, nil
	case ProtocolV1:
		return v1Framing{}, nil
	}
	return nil, fmt.Errorf("nbserv: the server chose subprotocol %q, which was not offered", subprotocol)
}

// outParts is an outgoing message as its four JSON parts and its buffers.
type outParts struct {
	header, parent, metadata, content []byte
	buffers                           [][]byte
}

// errMalformed marks a frame that is not a message.
var errMalformed = errors.New("nbserv: malformed kernel message")

func malformed(frame []byte, format string, args ...any) *Message {
	return &Message{Raw: bytes.Clone(frame), Err: fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)}
}

// legacyFraming is the JSON format with a "channel" key.
type legacyFraming struct{}

func (legacyFraming) encode(ch Channel, p *outParts) (websocket.MessageType, []byte) {
	var b bytes.Buffer
	b.Grow(64 + len(p.header) + len(p.parent) + len(p.metadata) + len(p.content))
	b.WriteString(`{"header":`)
	b.Write(p.header)
	b.WriteString(`,"parent_header":`)
	b.Write(p.parent)
	b.WriteString(`,"metadata":`)
	b.Write(p.metadata)
	b.WriteString(`,"content":`)
	b.Write(p.content)
	b.WriteString(`,"channel":`)
	chJSON, _ := json.Marshal(string(ch))
	b.Write(chJSON)
	if len(p.buffers) == 0 {
		b.WriteString(`,"buffers":[]}`)
		return websocket.MessageText, b.Bytes()
	}
	b.WriteString(`}`)
	// Binary: a big-endian count of parts (the JSON and each buffer), the
	// offset of each part from the frame's start, then the parts.
	n := 1 + len(p.buffers)
	head := 4 * (n + 1)
	size := head + b.Len()
	for _, buf := range p.buffers {
		size += len(buf)
	}
	out := make([]byte, head, size)
	binary.BigEndian.PutUint32(out, uint32(n))
	off := head
	binary.BigEndian.PutUint32(out[4:], uint32(off))
	off += b.Len()
	for i, buf := range p.buffers {
		binary.BigEndian.PutUint32(out[4*(i+2):], uint32(off))
		off += len(buf)
	}
	out = append(out, b.Bytes()...)
	for _, buf := range p.buffers {
		out = append(out, buf...)
	}
	return websocket.MessageBinary, out
}

// legacyWire is a legacy message's JSON; other keys (buffers, and the
// msg_id and msg_type Jupyter copies to the top level) are ignored.
type legacyWire struct {
	Header       json.RawMessage `json:"header"`
	ParentHeader json.RawMessage `json:"parent_header"`
	Metadata     json.RawMessage `json:"metadata"`
	Content      json.RawMessage `json:"content"`
	Channel      *string         `json:"channel"`
}

func (legacyFraming) decode(typ websocket.MessageType, frame []byte) *Message {
	js := frame
	var buffers [][]byte
	if typ == websocket.MessageBinary {
		parts, err := legacyBinaryParts(frame)
		if err != nil {
			return malformed(frame, "%v", err)
		}
		js = parts[0]
		for _, p := range parts[1:] {
			buffers = append(buffers, bytes.Clone(p))
		}
	}
	var w legacyWire
	if err := json.Unmarshal(js, &w); err != nil {
		return malformed(frame, "%v", err)
	}
	if w.Channel == nil {
		return malformed(frame, "no channel")
	}
	m, err := assemble(Channel(*w.Channel), w.Header, w.ParentHeader, w.Metadata, w.Content, true)
	if err != nil {
		return malformed(frame, "%v", err)
	}
	m.Buffers = buffers
	return m
}

// legacyBinaryParts splits a legacy binary frame into its parts.
func legacyBinaryParts(frame []byte) ([][]byte, error) {
	if len(frame) < 8 {
		return nil, fmt.Errorf("binary frame of %d bytes", len(frame))
	}
	n := int64(binary.BigEndian.Uint32(frame))
	if n < 1 || 4*(n+1) > int64(len(frame)) {
		return nil, fmt.Errorf("binary frame of %d bytes announces %d parts", len(frame), n)
	}
	parts := make([][]byte, n)
	for i := range parts {
		start := int64(binary.BigEndian.Uint32(frame[4*(i+1):]))
		end := int64(len(frame))
		if int64(i+1) < n {
			end = int64(binary.BigEndian.Uint32(frame[4*(i+2):]))
		}
		if start < 4*(n+1) || start > end || end > int64(len(frame)) {
			return nil, fmt.Errorf("binary frame part %d at [%d:%d] of %d bytes", i, start, end, len(frame))
		}
		parts[i] = frame[start:end]
	}
	return parts, nil
}

func (legacyFraming) route(typ websocket.MessageType, prefix []byte) (string, string, Channel) {
	if typ == websocket.MessageBinary {
		if len(prefix) < 8 {
			return "", "", ""
		}
		start := int64(binary.BigEndian.Uint32(prefix[4:]))
		if start < 8 || start > int64(len(prefix)) {
			return "", "", ""
		}
		prefix = prefix[start:]
	}
	// Jupyter writes header and parent_header first and the content
	// after them, so the start of a message names its parent.
	var parent, msgType string
	var ch Channel
	dec := json.NewDecoder(bytes.NewReader(prefix))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", ""
	}
	for dec.More() {
		t, err := dec.Token()
		key, ok := t.(string)
		if err != nil || !ok {
			break
		}
		var h Header
		switch key {
		case "header":
			if dec.Decode(&h) != nil {
				return parent, msgType, ch
			}
			msgType = h.MsgType
		case "parent_header":
			if dec.Decode(&h) != nil {
				return parent, msgType, ch
			}
			parent = h.MsgID
		case "channel":
			var s string
			if dec.Decode(&s) != nil {
				return parent, msgType, ch
			}
			ch = Channel(s)
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return parent, msgType, ch
			}
		}
	}
	return parent, msgType, ch
}

// v1Framing is the v1.kernel.websocket.jupyter.org subprotocol.
type v1Framing struct{}

func (v1Framing) encode(ch Channel, p *outParts) (websocket.MessageType, []byte) {
	parts := [][]byte{[]byte(ch), p.header, p.parent, p.metadata, p.content}
	parts = append(parts, p.buffers...)
	// A little-endian count of offsets, the offsets (the channel's start,
	// then each part's end), then the channel and the parts.
	nOff := len(parts) + 1
	head := 8 * (nOff + 1)
	size := head
	for _, q := range parts {
		size += len(q)
	}
	out := make([]byte, head, size)
	binary.LittleEndian.PutUint64(out, uint64(nOff))
	off := head
	binary.LittleEndian.PutUint64(out[8:], uint64(off))
	for i, q := range parts {
		off += len(q)
		binary.LittleEndian.PutUint64(out[8*(i+2):], uint64(off))
	}
	for _, q := range parts {
		out = append(out, q...)
	}
	return websocket.MessageBinary, out
}

// v1Parts splits a v1 frame into its channel and parts; it needs only as
// many parts as the frame holds, so it also reads a prefix.
func v1Parts(frame []byte, prefixOnly bool) (ch []byte, parts [][]byte, err error) {
	if len(frame) < 16 {
		return nil, nil, fmt.Errorf("v1 frame of %d bytes", len(frame))
	}
	n := binary.LittleEndian.Uint64(frame)
	if n < 2 || n > math.MaxInt32 || int64(8*(n+1)) > int64(len(frame)) {
		return nil, nil, fmt.Errorf("v1 frame of %d bytes announces %d offsets", len(frame), n)
	}
	offs := make([]int64, n)
	for i := range offs {
		o := binary.LittleEndian.Uint64(frame[8*(i+1):])
		if o > math.MaxInt64 {
			return nil, nil, fmt.Errorf("v1 frame offset %d out of range", i)
		}
		offs[i] = int64(o)
		if offs[i] < int64(8*(n+1)) || i > 0 && offs[i] < offs[i-1] {
			return nil, nil, fmt.Errorf("v1 frame offset %d is %d", i, offs[i])
		}
	}
	size := int64(len(frame))
	if offs[1] > size {
		return nil, nil, fmt.Errorf("v1 frame channel ends at %d of %d bytes", offs[1], size)
	}
	ch = frame[offs[0]:offs[1]]
	for i := 1; i+1 < len(offs); i++ {
		if offs[i+1] > size {
			if prefixOnly {
				break
			}
			return nil, nil, fmt.Errorf("v1 frame part %d ends at %d of %d bytes", i-1, offs[i+1], size)
		}
		parts = append(parts, frame[offs[i]:offs[i+1]])
	}
	return ch, parts, nil
}

func (v1Framing) decode(typ websocket.MessageType, frame []byte) *Message {
	if typ != websocket.MessageBinary {
		return malformed(frame, "text frame on the v1 subprotocol")
	}
	ch, parts, err := v1Parts(frame, false)
	if err != nil {
		return malformed(frame, "%v", err)
	}
	if len(parts) < 4 {
		return malformed(frame, "v1 frame with %d parts, want at least 4", len(parts))
	}
	m, err := assemble(Channel(ch), parts[0], parts[1], parts[2], parts[3], false)
	if err != nil {
		return malformed(frame, "%v", err)
	}
	m.Metadata = bytes.Clone(m.Metadata)
	m.Content = bytes.Clone(m.Content)
	m.rawHeader = bytes.Clone(m.rawHeader)
	for _, b := range parts[4:] {
		m.Buffers = append(m.Buffers, bytes.Clone(b))
	}
	return m
}

func (v1Framing) route(typ websocket.MessageType, prefix []byte) (string, string, Channel) {
	ch, parts, err := v1Parts(prefix, true)
	if err != nil {
		return "", "", ""
	}
	var h, p Header
	if len(parts) > 0 {
		_ = json.Unmarshal(parts[0], &h)
	}
	if len(parts) > 1 {
		_ = json.Unmarshal(parts[1], &p)
	}
	return p.MsgID, h.MsgType, Channel(ch)
}

// assemble checks a message's parts and decodes its headers. Metadata
// and content are kept as they are; each must be a JSON object, null or
// absent. valid says the parts are known to be valid JSON already.
func assemble(ch Channel, header, parent, metadata, content json.RawMessage, valid bool) (*Message, error) {
	m := &Message{Channel: ch, Metadata: metadata, Content: content, rawHeader: header}
	if !objectOrNull(header, true) || isNull(header) || len(header) == 0 {
		return nil, errors.New("header is not an object")
	}
	if err := json.Unmarshal(header, &m.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if !objectOrNull(parent, true) {
		return nil, errors.New("parent_header is not an object")
	}
	if len(parent) > 0 && !isNull(parent) {
		if err := json.Unmarshal(parent, &m.ParentHeader); err != nil {
			return nil, fmt.Errorf("parent_header: %w", err)
		}
	}
	if !objectOrNull(metadata, valid) {
		return nil, errors.New("metadata is not an object")
	}
	if !objectOrNull(content, valid) {
		return nil, errors.New("content is not an object")
	}
	return m, nil
}

// objectOrNull reports whether b is absent, null or a JSON object; when
// valid is false it also checks that b is valid JSON.
func objectOrNull(b []byte, valid bool) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || isNull(b) {
		return true
	}
	return b[0] == '{' && (valid || json.Valid(b))
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }
