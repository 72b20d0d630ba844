package nbserv

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonReader reads one JSON document from a byte slice, strictly: it
// accepts exactly the documents encoding/json accepts (FuzzJSONReader
// checks this against json.Valid) and decodes strings as encoding/json
// does (invalid UTF-8 and lone surrogates become U+FFFD). The notebook and
// contents decoders pull typed values from it and copy everything else as
// raw JSON, in a single pass over the body, where encoding/json would scan
// it twice (once to validate, once to decode) and could not keep unknown
// keys. The first error sticks: every method is a no-op after it.
type jsonReader struct {
	data  []byte
	pos   int
	depth int
	err   error
}

// maxJSONDepth bounds nesting as encoding/json does, so that a hostile
// body cannot exhaust the stack.
const maxJSONDepth = 10000

// jsonError is a syntax error at a byte offset of the document.
type jsonError struct {
	msg    string
	offset int
}

func (e *jsonError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.offset, e.msg)
}

func (r *jsonReader) fail(msg string) {
	if r.err == nil {
		r.err = &jsonError{msg: msg, offset: r.pos}
	}
	r.pos = len(r.data) // stops every loop
}

func (r *jsonReader) ws() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it; 0 at the end.
func (r *jsonReader) peek() byte {
	r.ws()
	if r.pos >= len(r.data) {
		return 0
	}
	return r.data[r.pos]
}

func (r *jsonReader) expect(c byte) bool {
	if r.peek() != c {
		if r.pos >= len(r.data) {
			r.fail("unexpected end of input")
		} else {
			r.fail("expected " + strconv.QuoteRune(rune(c)))
		}
		return false
	}
	r.pos++
	return true
}

// end checks that only whitespace follows the document.
func (r *jsonReader) end() {
	if r.ws(); r.err == nil && r.pos < len(r.data) {
		r.fail("data after the JSON value")
	}
}

// skip validates the value at the reader and returns its bytes, which
// alias the document.
func (r *jsonReader) skip() []byte {
	r.ws()
	start := r.pos
	r.skipValue()
	if r.err != nil {
		return nil
	}
	return r.data[start:r.pos]
}

func (r *jsonReader) skipValue() {
	if r.err != nil {
		return
	}
	if r.pos >= len(r.data) {
		r.fail("unexpected end of input")
		return
	}
	switch c := r.data[r.pos]; {
	case c == '"':
		r.skipString()
	case c == '{':
		var n int
		if !r.openObject() {
			return
		}
		for r.member(&n) != nil {
			r.skipValue()
		}
	case c == '[':
		var n int
		if !r.openArray() {
			return
		}
		for r.element(&n) {
			r.skipValue()
		}
	case c == 't':
		r.literal("true")
	case c == 'f':
		r.literal("false")
	case c == 'n':
		r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		r.skipNumber()
	default:
		r.fail("invalid character " + strconv.QuoteRune(rune(c)))
	}
}

func (r *jsonReader) literal(word string) {
	if len(r.data)-r.pos < len(word) || string(r.data[r.pos:r.pos+len(word)]) != word {
		r.fail("invalid literal")
		return
	}
	r.pos += len(word)
}

// skipNumber consumes a number of JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *jsonReader) skipNumber() {
	d := r.data
	i := r.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case digits() == 0:
		r.pos = i
		r.fail("invalid number")
		return
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			r.pos = i
			r.fail("invalid number")
			return
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if digits() == 0 {
			r.pos = i
			r.fail("invalid number")
			return
		}
	}
	r.pos = i
}

// openObject consumes '{'. Then: for key := r.member(&n); key != nil;
// key = r.member(&n) { consume the value }.
func (r *jsonReader) openObject() bool {
	if !r.expect('{') {
		return false
	}
	if r.depth++; r.depth > maxJSONDepth {
		r.fail("nested too deeply")
		return false
	}
	return true
}

// member reads the next member's key and the colon after it, returning
// nil at the closing brace (which it consumes) or on an error; n counts
// the members so far.
func (r *jsonReader) member(n *int) []byte {
	if r.err != nil {
		return nil
	}
	c := r.peek()
	if c == '}' { // "{}" or after a member; "{,}" and a trailing comma fail below
		r.pos++
		r.depth--
		return nil
	}
	if *n > 0 {
		if c != ',' {
			r.fail("expected ',' or '}' after object member")
			return nil
		}
		r.pos++
		c = r.peek()
	}
	if c != '"' {
		r.fail("expected a string key")
		return nil
	}
	*n++
	key := r.keyBytes()
	if !r.expect(':') {
		return nil
	}
	r.ws()
	if key == nil { // the empty key
		key = []byte{}
	}
	return key
}

// openArray consumes '['. Then: for r.element(&n) { consume the value }.
func (r *jsonReader) openArray() bool {
	if !r.expect('[') {
		return false
	}
	if r.depth++; r.depth > maxJSONDepth {
		r.fail("nested too deeply")
		return false
	}
	return true
}

// element reports whether another element follows, consuming the comma
// before it, or the closing bracket.
func (r *jsonReader) element(n *int) bool {
	if r.err != nil {
		return false
	}
	c := r.peek()
	if c == ']' {
		r.pos++
		r.depth--
		return false
	}
	if *n > 0 {
		if c != ',' {
			r.fail("expected ',' or ']' after array element")
			return false
		}
		r.pos++
		r.ws()
	}
	*n++
	return true
}

// scanString finds the end of the string starting at r.pos (a quote). It
// returns the index of the closing quote and whether the string holds
// escapes or non-ASCII bytes, without moving r.
func (r *jsonReader) scanString() (end int, escaped, nonASCII bool) {
	d := r.data
	for i := r.pos + 1; i < len(d); i++ {
		switch c := d[i]; {
		case c == '"':
			return i, escaped, nonASCII
		case c == '\\':
			escaped = true
			i++
			if i >= len(d) {
				return -1, escaped, nonASCII
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) || !isHex4(d[i+1:i+5]) {
					r.pos = i
					return -2, escaped, nonASCII
				}
				i += 4
			default:
				r.pos = i
				return -2, escaped, nonASCII
			}
		case c < 0x20:
			r.pos = i
			return -3, escaped, nonASCII
		case c >= utf8.RuneSelf:
			nonASCII = true
		}
	}
	return -1, escaped, nonASCII
}

func (r *jsonReader) stringEnd() (int, bool, bool) {
	if r.peek() != '"' {
		r.fail("expected a string")
		return 0, false, false
	}
	end, esc, high := r.scanString()
	switch end {
	case -1:
		r.fail("unexpected end of input in a string")
	case -2:
		r.fail("invalid escape in a string")
	case -3:
		r.fail("control character in a string")
	}
	return end, esc, high
}

func (r *jsonReader) skipString() {
	if end, _, _ := r.stringEnd(); r.err == nil {
		r.pos = end + 1
	}
}

// readString reads a string value.
func (r *jsonReader) readString() string {
	end, esc, high := r.stringEnd()
	if r.err != nil {
		return ""
	}
	raw := r.data[r.pos+1 : end]
	r.pos = end + 1
	if !esc && (!high || utf8.Valid(raw)) {
		return string(raw)
	}
	return string(appendUnquoted(make([]byte, 0, len(raw)), raw))
}

// appendString appends the decoded string value at the reader to dst.
func (r *jsonReader) appendString(dst []byte) []byte {
	end, esc, high := r.stringEnd()
	if r.err != nil {
		return dst
	}
	raw := r.data[r.pos+1 : end]
	r.pos = end + 1
	if !esc && (!high || utf8.Valid(raw)) {
		return append(dst, raw...)
	}
	return appendUnquoted(dst, raw)
}

// keyBytes reads an object key. Keys without escapes alias the document,
// so matching known keys allocates nothing.
func (r *jsonReader) keyBytes() []byte {
	end, esc, high := r.stringEnd()
	if r.err != nil {
		return nil
	}
	raw := r.data[r.pos+1 : end]
	r.pos = end + 1
	if !esc && (!high || utf8.Valid(raw)) {
		return raw
	}
	return appendUnquoted(nil, raw)
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' || !isHex4(b[2:]) {
		return -1
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// appendUnquoted decodes the body of a JSON string already validated by
// scanString, exactly as encoding/json does: invalid UTF-8 bytes and
// unpaired surrogates become U+FFFD.
func appendUnquoted(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				rr := hex4(s[i:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, hex4(s[i:])); dec != unicode.ReplacementChar {
						i += 6
						dst = utf8.AppendRune(dst, dec)
						continue
					}
					rr = unicode.ReplacementChar
				}
				dst = utf8.AppendRune(dst, rr)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			dst = utf8.AppendRune(dst, rr)
			i += size
		}
	}
	return dst
}

// readInt64 reads an integer; ok is false (and nothing consumed) when the
// value is not a JSON number that fits an int64 without a fraction or
// exponent.
func (r *jsonReader) readInt64() (int64, bool) {
	c := r.peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	start := r.pos
	r.skipNumber()
	if r.err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(string(r.data[start:r.pos]), 10, 64)
	if err != nil {
		r.pos = start
		return 0, false
	}
	return v, true
}

// validJSON reports whether b is exactly one JSON value, as json.Valid
// does; the writers use it on raw values a user may have set.
func validJSON(b []byte) bool { return syntaxError(b) == nil }

// syntaxError returns the error that makes b other than one JSON value.
func syntaxError(b []byte) error {
	r := jsonReader{data: b}
	r.ws()
	r.skipValue()
	r.end()
	return r.err
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped as encoding/json does. HTML characters are left alone.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		rr, size := utf8.DecodeRuneInString(s[i:])
		if rr == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if rr == '\u2028' || rr == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[rr&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
