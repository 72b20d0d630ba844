package refserver

// Kernel messages as the channels endpoint sends and receives them: the
// Jupyter messaging protocol 5.3 in Jupyter Server 1.23's two WebSocket
// formats. docs/wire/kernel-channels.md KC11 records what each format
// looks like on a real server.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// protocolVersion is the messaging protocol ipykernel speaks (6.17 and
// 7.4.0 alike, in kernel_info_reply), and the version in every message
// header behind Jupyter Server 1.23.3 (jupyter_client 7).
const protocolVersion = "5.3"

// headerVersion2 is the version in every message header behind Jupyter
// Server 2.21.1: jupyter_client 8.10's, though ipykernel 7.4.0 still says
// 5.3 in kernel_info_reply (docs/wire/kernel-channels.md KC50).
const headerVersion2 = "5.4"

// headerVersion is the version in the headers of the server's messages.
func (s *Server) headerVersion() string {
	if s.isGen2() {
		return headerVersion2
	}
	return protocolVersion
}

// kv and obj build JSON objects whose keys keep the order ipykernel and
// Jupyter write them in, so a trace reads like a real one.
type kv struct {
	k string
	v any
}

type obj []kv

func (o obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// mustJSON marshals values the server builds itself (objs, strings, maps
// decoded from JSON), which always marshal.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("refserver: marshalling its own message: %v", err))
	}
	return b
}

// kmsg is one message on its way to clients. Its parts are marshalled once
// and shared by every connection, which serialises them in its own format.
// Nothing changes a kmsg after it is sent.
type kmsg struct {
	channel, msgType, msgID string
	header, parent          []byte // JSON objects
	metadata, content       []byte
	buffers                 [][]byte
	// fromServer marks a message Jupyter Server writes itself (a kernel's
	// "restarting" or "dead" status): its legacy JSON has no "buffers" key
	// and puts "content" before "metadata", as Session.msg builds it.
	fromServer bool
}

// size is the memory a queued message holds, for the queue bounds.
func (m *kmsg) size() int {
	n := len(m.header) + len(m.parent) + len(m.metadata) + len(m.content) + 64
	for _, b := range m.buffers {
		n += len(b)
	}
	return n
}

// isoDate formats t as Python's datetime.isoformat() with Jupyter's "Z":
// microseconds, omitted when zero.
func isoDate(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

// header builds a message header as jupyter_client's Session does, user
// being its username (Options.User).
func header(msgID, msgType, user, session, version string, now time.Time) []byte {
	return mustJSON(obj{{"msg_id", msgID}, {"msg_type", msgType}, {"username", user},
		{"session", session}, {"date", isoDate(now)}, {"version", version}})
}

// legacyJSON is the message in Jupyter's default WebSocket format: one
// JSON object with a "channel" key, with or without the "buffers" key.
func (m *kmsg) legacyJSON(withBuffers bool) []byte {
	var b bytes.Buffer
	b.Grow(m.size() + len(m.msgID) + 32)
	b.WriteString(`{"header": `)
	b.Write(m.header)
	b.WriteString(`, "msg_id": `)
	b.Write(mustJSON(m.msgID))
	b.WriteString(`, "msg_type": `)
	b.Write(mustJSON(m.msgType))
	b.WriteString(`, "parent_header": `)
	b.Write(m.parent)
	if m.fromServer {
		b.WriteString(`, "content": `)
		b.Write(m.content)
		b.WriteString(`, "metadata": `)
		b.Write(m.metadata)
	} else {
		b.WriteString(`, "metadata": `)
		b.Write(m.metadata)
		b.WriteString(`, "content": `)
		b.Write(m.content)
		if withBuffers {
			b.WriteString(`, "buffers": []`)
		}
	}
	b.WriteString(`, "channel": `)
	b.Write(mustJSON(m.channel))
	b.WriteByte('}')
	return b.Bytes()
}

// legacyFrame is the message in Jupyter's default format: text JSON, or,
// when it carries buffers, Jupyter's binary framing: a big-endian uint32
// count of parts, their uint32 offsets, the JSON (without "buffers"), then
// each buffer.
func (m *kmsg) legacyFrame() (binaryFrame bool, frame []byte) {
	if len(m.buffers) == 0 {
		return false, m.legacyJSON(true)
	}
	parts := append([][]byte{m.legacyJSON(false)}, m.buffers...)
	return true, packOffsets(parts)
}

func packOffsets(parts [][]byte) []byte {
	n := len(parts)
	head := 4 * (n + 1)
	total := head
	for _, p := range parts {
		total += len(p)
	}
	out := make([]byte, head, total)
	binary.BigEndian.PutUint32(out, uint32(n))
	off := head
	for i, p := range parts {
		binary.BigEndian.PutUint32(out[4*(i+1):], uint32(off))
		off += len(p)
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// v1Frame is the message in the v1.kernel.websocket.jupyter.org format:
// a little-endian uint64 count of offsets, the offsets, the channel name,
// then header, parent header, metadata, content and buffers as the kernel
// wrote them.
func (m *kmsg) v1Frame() []byte {
	parts := append([][]byte{[]byte(m.channel), m.header, m.parent, m.metadata, m.content}, m.buffers...)
	nOff := len(parts) + 1
	off := 8 * (nOff + 1)
	total := off
	for _, p := range parts {
		total += len(p)
	}
	out := make([]byte, 8*(nOff+1), total)
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

// request is a message a client sent, as the kernel sees it.
type request struct {
	channel string
	msgType string
	msgID   string
	header  []byte    // the client's header, dates re-serialised: the replies' parent_header
	content rawObject // nil when the content is not an object
	origin  *route    // where replies go
	abort   bool      // queued when an error aborted the queue
	size    int       // bytes it keeps alive while queued (its WebSocket message)
}

// rawSpan is a JSON value as a slice of the client message it came from:
// decoding a message into spans copies none of it.
type rawSpan []byte

// UnmarshalJSON keeps b, a slice of the data json.Unmarshal was given,
// which is the message's own buffer and lives as long as the request.
func (r *rawSpan) UnmarshalJSON(b []byte) error { *r = b; return nil }

// MarshalJSON writes the value back as the client sent it.
func (r rawSpan) MarshalJSON() ([]byte, error) { return r, nil }

// rawObject is a JSON object's values, undecoded: the kernel decodes only
// the fields it reads.
type rawObject map[string]rawSpan

// spans decodes an object into spans, or nil when it is not an object.
func spans(raw []byte) rawObject {
	var o rawObject
	if json.Unmarshal(raw, &o) != nil {
		return nil
	}
	return o
}

func (o rawObject) has(k string) bool { _, ok := o[k]; return ok }

// str is the field as a string, when it is one.
func (o rawObject) str(k string) (string, bool) {
	v, ok := o[k]
	if !ok || len(v) == 0 || v[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}

// number is the field as a JSON number, when it is one.
func (o rawObject) number(k string) (json.Number, bool) {
	v, ok := o[k]
	if !ok || len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return "", false
	}
	return json.Number(v), true
}

// truthy is Python's truth value of the field (absent: false).
func (o rawObject) truthy(k string) bool {
	v, ok := o[k]
	if !ok || len(v) == 0 {
		return false
	}
	switch v[0] {
	case '"':
		return string(v) != `""`
	case '[':
		var a []rawSpan
		return json.Unmarshal(v, &a) == nil && len(a) > 0
	case '{':
		return len(spans(v)) > 0
	case 'n', 'f':
		return false
	case 't':
		return true
	}
	f, err := strconv.ParseFloat(string(v), 64)
	return err != nil || f != 0
}

// errAbort is a client message Jupyter Server cannot forward: Tornado logs
// the exception and drops the TCP connection without a close frame.
var errAbort = errors.New("message Jupyter Server cannot forward")

// clientMsg is a decoded client message before the kernel checks it:
// its parts are slices of the message read.
type clientMsg struct {
	channel                           string
	header, parent, metadata, content []byte
	size                              int // the WebSocket message's length, which the parts keep alive
}

// decodeClient decodes one WebSocket message from a client in the
// connection's format. A message Jupyter Server would crash on (bad JSON,
// a missing part, bad framing) is errAbort.
func decodeClient(binaryMsg bool, data []byte, v1 bool) (clientMsg, error) {
	if v1 {
		if !binaryMsg {
			return clientMsg{}, errAbort // Jupyter reads offsets from a str: TypeError
		}
		return decodeV1(data)
	}
	var parts map[string]rawSpan
	body := data
	if binaryMsg {
		p, err := unpackOffsets(data)
		if err != nil {
			return clientMsg{}, err
		}
		body = p[0] // buffers from clients are dropped, as Jupyter's session.send does
	}
	if err := json.Unmarshal(body, &parts); err != nil || parts == nil {
		return clientMsg{}, errAbort
	}
	m := clientMsg{channel: "shell"}
	if raw, ok := parts["channel"]; ok {
		if err := json.Unmarshal(raw, &m.channel); err != nil {
			m.channel = "\x00" // not a channel name: dropped like an unknown one
		}
	}
	var ok [4]bool
	var sp [4]rawSpan
	for i, k := range []string{"header", "parent_header", "metadata", "content"} {
		sp[i], ok[i] = parts[k]
	}
	m.header, m.parent, m.metadata, m.content = sp[0], sp[1], sp[2], sp[3]
	if !ok[0] || !ok[1] || !ok[2] || !ok[3] {
		return clientMsg{}, errAbort // Session.serialize: KeyError
	}
	return m, nil
}

func unpackOffsets(data []byte) ([][]byte, error) {
	if len(data) < 4 {
		return nil, errAbort
	}
	n := int(binary.BigEndian.Uint32(data))
	if n < 1 || n > len(data)/4 || 4*(n+1) > len(data) {
		return nil, errAbort
	}
	offs := make([]int, n+1)
	for i := 0; i < n; i++ {
		offs[i] = int(binary.BigEndian.Uint32(data[4*(i+1):]))
	}
	offs[n] = len(data)
	parts := make([][]byte, n)
	for i := 0; i < n; i++ {
		if offs[i] < 4*(n+1) || offs[i] > offs[i+1] || offs[i+1] > len(data) {
			return nil, errAbort
		}
		parts[i] = data[offs[i]:offs[i+1]]
	}
	return parts, nil
}

func decodeV1(data []byte) (clientMsg, error) {
	if len(data) < 8 {
		return clientMsg{}, errAbort
	}
	n := binary.LittleEndian.Uint64(data)
	if n < 2 || n > uint64(len(data)/8) || 8*(n+1) > uint64(len(data)) {
		return clientMsg{}, errAbort
	}
	offs := make([]int, n)
	for i := range offs {
		o := binary.LittleEndian.Uint64(data[8*(i+1):])
		if o > uint64(len(data)) || (i > 0 && int(o) < offs[i-1]) {
			return clientMsg{}, errAbort
		}
		offs[i] = int(o)
	}
	parts := make([][]byte, 0, n-1)
	for i := 0; i+1 < len(offs); i++ {
		parts = append(parts, data[offs[i]:offs[i+1]])
	}
	if len(parts) < 5 {
		return clientMsg{}, errAbort // Jupyter's get_part indexes header..content
	}
	return clientMsg{channel: string(parts[0]), header: parts[1], parent: parts[2], metadata: parts[3], content: parts[4]}, nil
}

// isoDatePat is jupyter_client's ISO8601 pattern: strings in a header that
// match it are parsed into datetimes and written back by isoformat.
var isoDatePat = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,6})?(Z|([+-]\d{2}):?(\d{2}))?$`)

// pyDate rewrites an ISO 8601 string as jupyter_client round-trips it:
// microseconds written only when not zero, UTC (and naive dates, which it
// takes as local time on a server in UTC) as "Z", other offsets as +hh:mm.
func pyDate(s string) (string, bool) {
	m := isoDatePat.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	if _, err := time.Parse("2006-01-02T15:04:05", m[1]); err != nil {
		return "", false
	}
	out := m[1]
	if frac := strings.TrimPrefix(m[2], "."); frac != "" {
		us, _ := strconv.Atoi((frac + "000000")[:6])
		if us != 0 {
			out += fmt.Sprintf(".%06d", us)
		}
	}
	switch {
	case m[3] == "" || m[3] == "Z" || (m[4][1:] == "00" && m[5] == "00"):
		out += "Z"
	default:
		out += m[4] + ":" + m[5]
	}
	return out, true
}

// normalizeHeader rewrites a client's header as the kernel echoes it in
// parent_header: the same keys in the same order, date strings
// re-serialised. It also reports msg_id and msg_type, which the kernel
// needs; ok is false when the header is not an object with both.
func normalizeHeader(raw []byte) (out []byte, msgID, msgType string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, "", "", false
	}
	var b bytes.Buffer
	b.WriteByte('{')
	hasID, hasType := false, false
	for i := 0; dec.More(); i++ {
		t, err := dec.Token()
		if err != nil {
			return nil, "", "", false
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, "", "", false
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			if d, isDate := pyDate(s); isDate {
				v = mustJSON(d)
			}
		}
		switch key {
		case "msg_id":
			hasID = true
			msgID = s
			if msgID == "" {
				msgID = string(v)
			}
		case "msg_type":
			hasType = true
			msgType = s
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.Write(mustJSON(key))
		b.WriteString(": ")
		b.Write(v)
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, "", "", false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, "", "", false // trailing data: not one JSON object
	}
	b.WriteByte('}')
	return b.Bytes(), msgID, msgType, hasID && hasType
}
