// Package jsonscan is the strict, single-pass JSON reader that the
// notebook and contents decoders share: typed values are pulled from it,
// everything else is kept as raw JSON. It imports only the standard
// library.
package jsonscan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Reader reads one JSON document from a byte slice, strictly: it
// accepts exactly the documents encoding/json accepts (FuzzReader checks
// this against json.Valid) and decodes strings as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD). The notebook and
// contents decoders pull typed values from it and copy everything else as
// raw JSON, in a single pass over the body, where encoding/json would scan
// it twice (once to validate, once to decode) and could not keep unknown
// keys. The first error sticks: every method is a no-op after it.
//
// The fields are exported so that a decoder can save Pos and Depth before
// trying a shape and restore them to keep the value raw instead.
type Reader struct {
	// Data is the document.
	Data []byte
	// Pos is the offset of the next byte to read.
	Pos int
	// Depth counts the objects and arrays open at Pos.
	Depth int
	// Err is the first error; once set, Pos is len(Data).
	Err error
}

// MaxDepth bounds nesting as encoding/json does, so that a hostile
// body cannot exhaust the stack.
const MaxDepth = 10000

// syntaxError is a syntax error at a byte offset of the document.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.offset, e.msg)
}

func (r *Reader) fail(msg string) {
	if r.Err == nil {
		r.Err = &syntaxError{msg: msg, offset: r.Pos}
	}
	r.Pos = len(r.Data) // stops every loop
}

func (r *Reader) ws() {
	for r.Pos < len(r.Data) {
		switch r.Data[r.Pos] {
		case ' ', '\t', '\n', '\r':
			r.Pos++
		default:
			return
		}
	}
}

// Peek returns the next non-space byte without consuming it; 0 at the end.
func (r *Reader) Peek() byte {
	r.ws()
	if r.Pos >= len(r.Data) {
		return 0
	}
	return r.Data[r.Pos]
}

func (r *Reader) expect(c byte) bool {
	if r.Peek() != c {
		if r.Pos >= len(r.Data) {
			r.fail("unexpected end of input")
		} else {
			r.fail("expected " + strconv.QuoteRune(rune(c)))
		}
		return false
	}
	r.Pos++
	return true
}

// End checks that only whitespace follows the document.
func (r *Reader) End() {
	if r.ws(); r.Err == nil && r.Pos < len(r.Data) {
		r.fail("data after the JSON value")
	}
}

// Skip validates the value at the reader and returns its bytes, which
// alias the document.
func (r *Reader) Skip() []byte {
	r.ws()
	start := r.Pos
	r.skipValue()
	if r.Err != nil {
		return nil
	}
	return r.Data[start:r.Pos]
}

func (r *Reader) skipValue() {
	if r.Err != nil {
		return
	}
	if r.Pos >= len(r.Data) {
		r.fail("unexpected end of input")
		return
	}
	switch c := r.Data[r.Pos]; {
	case c == '"':
		r.skipString()
	case c == '{':
		var n int
		if !r.OpenObject() {
			return
		}
		for r.Member(&n) != nil {
			r.skipValue()
		}
	case c == '[':
		var n int
		if !r.OpenArray() {
			return
		}
		for r.Element(&n) {
			r.skipValue()
		}
	case c == 't':
		r.Literal("true")
	case c == 'f':
		r.Literal("false")
	case c == 'n':
		r.Literal("null")
	case c == '-' || '0' <= c && c <= '9':
		r.skipNumber()
	default:
		r.fail("invalid character " + strconv.QuoteRune(rune(c)))
	}
}

// Literal consumes word (true, false or null), failing on anything else.
func (r *Reader) Literal(word string) {
	if len(r.Data)-r.Pos < len(word) || string(r.Data[r.Pos:r.Pos+len(word)]) != word {
		r.fail("invalid literal")
		return
	}
	r.Pos += len(word)
}

// skipNumber consumes a number of JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (r *Reader) skipNumber() {
	d := r.Data
	i := r.Pos
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
		r.Pos = i
		r.fail("invalid number")
		return
	}
	if i < len(d) && d[i] == '.' {
		i++
		if digits() == 0 {
			r.Pos = i
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
			r.Pos = i
			r.fail("invalid number")
			return
		}
	}
	r.Pos = i
}

// OpenObject consumes '{'. Then: for key := r.Member(&n); key != nil;
// key = r.Member(&n) { consume the value }.
func (r *Reader) OpenObject() bool {
	if !r.expect('{') {
		return false
	}
	if r.Depth++; r.Depth > MaxDepth {
		r.fail("nested too deeply")
		return false
	}
	return true
}

// Member reads the next member's key and the colon after it, returning
// nil at the closing brace (which it consumes) or on an error; n counts
// the members so far.
func (r *Reader) Member(n *int) []byte {
	if r.Err != nil {
		return nil
	}
	c := r.Peek()
	if c == '}' { // "{}" or after a member; "{,}" and a trailing comma fail below
		r.Pos++
		r.Depth--
		return nil
	}
	if *n > 0 {
		if c != ',' {
			r.fail("expected ',' or '}' after object member")
			return nil
		}
		r.Pos++
		c = r.Peek()
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

// OpenArray consumes '['. Then: for r.Element(&n) { consume the value }.
func (r *Reader) OpenArray() bool {
	if !r.expect('[') {
		return false
	}
	if r.Depth++; r.Depth > MaxDepth {
		r.fail("nested too deeply")
		return false
	}
	return true
}

// Element reports whether another element follows, consuming the comma
// before it, or the closing bracket.
func (r *Reader) Element(n *int) bool {
	if r.Err != nil {
		return false
	}
	c := r.Peek()
	if c == ']' {
		r.Pos++
		r.Depth--
		return false
	}
	if *n > 0 {
		if c != ',' {
			r.fail("expected ',' or ']' after array element")
			return false
		}
		r.Pos++
		r.ws()
	}
	*n++
	return true
}

// scanString finds the end of the string starting at r.Pos (a quote). It
// returns the index of the closing quote and whether the string holds
// escapes or non-ASCII bytes, without moving r.
func (r *Reader) scanString() (end int, escaped, nonASCII bool) {
	d := r.Data
	for i := r.Pos + 1; i < len(d); i++ {
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
					r.Pos = i
					return -2, escaped, nonASCII
				}
				i += 4
			default:
				r.Pos = i
				return -2, escaped, nonASCII
			}
		case c < 0x20:
			r.Pos = i
			return -3, escaped, nonASCII
		case c >= utf8.RuneSelf:
			nonASCII = true
		}
	}
	return -1, escaped, nonASCII
}

func (r *Reader) stringEnd() (int, bool, bool) {
	if r.Peek() != '"' {
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

func (r *Reader) skipString() {
	if end, _, _ := r.stringEnd(); r.Err == nil {
		r.Pos = end + 1
	}
}

// ReadString reads a string value.
func (r *Reader) ReadString() string {
	end, esc, high := r.stringEnd()
	if r.Err != nil {
		return ""
	}
	raw := r.Data[r.Pos+1 : end]
	r.Pos = end + 1
	if !esc && (!high || utf8.Valid(raw)) {
		return string(raw)
	}
	return string(appendUnquoted(make([]byte, 0, len(raw)), raw))
}

// AppendString appends the decoded string value at the reader to dst.
func (r *Reader) AppendString(dst []byte) []byte {
	end, esc, high := r.stringEnd()
	if r.Err != nil {
		return dst
	}
	raw := r.Data[r.Pos+1 : end]
	r.Pos = end + 1
	if !esc && (!high || utf8.Valid(raw)) {
		return append(dst, raw...)
	}
	return appendUnquoted(dst, raw)
}

// keyBytes reads an object key. Keys without escapes alias the document,
// so matching known keys allocates nothing.
func (r *Reader) keyBytes() []byte {
	end, esc, high := r.stringEnd()
	if r.Err != nil {
		return nil
	}
	raw := r.Data[r.Pos+1 : end]
	r.Pos = end + 1
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

// ReadInt64 reads an integer; ok is false (and nothing consumed) when the
// value is not a JSON number that fits an int64 without a fraction or
// exponent.
func (r *Reader) ReadInt64() (int64, bool) {
	c := r.Peek()
	if c != '-' && (c < '0' || c > '9') {
		return 0, false
	}
	start := r.Pos
	r.skipNumber()
	if r.Err != nil {
		return 0, false
	}
	v, err := strconv.ParseInt(string(r.Data[start:r.Pos]), 10, 64)
	if err != nil {
		r.Pos = start
		return 0, false
	}
	return v, true
}

// Valid reports whether b is exactly one JSON value, as json.Valid does;
// the notebook writer uses it on raw values a user may have set.
func Valid(b []byte) bool { return Check(b) == nil }

// Check returns the error that makes b other than one JSON value, nil
// for one JSON value.
func Check(b []byte) error {
	r := Reader{Data: b}
	r.ws()
	r.skipValue()
	r.End()
	return r.Err
}

// AppendQuoted appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped as encoding/json does. HTML characters are left alone.
func AppendQuoted(dst []byte, s string) []byte {
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

// Decoders built on Reader follow one rule for every typed field: if the
// value fits the Go type, it is decoded there (and any earlier raw value of
// the same key dropped); otherwise the field is left zero and the raw value
// kept in a map of raw values (a model's Extra or Malformed). With
// duplicate keys the last one wins, as in Python's json.

// Keep stores the raw value at the reader under key in *extra, creating
// the map if needed.
func (r *Reader) Keep(extra *map[string]json.RawMessage, key []byte) {
	raw := r.Skip()
	if r.Err != nil {
		return
	}
	if *extra == nil {
		*extra = make(map[string]json.RawMessage)
	}
	(*extra)[string(key)] = slices.Clone(raw)
}

// Fits drops an earlier raw value of key once a typed value was decoded.
func Fits(extra map[string]json.RawMessage, key []byte) {
	if len(extra) > 0 {
		delete(extra, string(key))
	}
}

// Str reads a string into *dst, or keeps a value of any other type raw
// in *extra (and sets *dst to "").
func (r *Reader) Str(dst *string, extra *map[string]json.RawMessage, key []byte) {
	if r.Peek() == '"' {
		*dst = r.ReadString()
		Fits(*extra, key)
		return
	}
	*dst = ""
	r.Keep(extra, key)
}
