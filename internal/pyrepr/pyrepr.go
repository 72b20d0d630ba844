// Package pyrepr writes a float as CPython's repr() does, for the places
// that must match Python's text: nbexec's parameter cells and the
// reference server's JSON and its kernel's output.
package pyrepr

import (
	"strconv"
	"strings"
)

// Float is repr() of a finite float: the shortest digits that read back
// as f, positional for decimal exponents -4 to 15 (with ".0" when
// integral), else scientific with a signed exponent of two or more digits
// (Go's form is Python's: "1e+16", "1.5e-07"). Python writes the
// infinities and NaN differently in each of those places ("inf",
// "Infinity", float('inf')), so the callers write them.
func Float(f float64) string {
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// WriteEscape writes r as Python writes a character its string repr and
// unicode_escape codec cannot show: \xhh below U+0100, \uhhhh below
// U+10000, else \Uhhhhhhhh, with lowercase hex digits. Each quoter decides
// which characters need it; this is the part they share.
func WriteEscape(b *strings.Builder, r rune) {
	const hex = "0123456789abcdef"
	var n int
	switch {
	case r < 0x100:
		b.WriteString(`\x`)
		n = 2
	case r < 0x10000:
		b.WriteString(`\u`)
		n = 4
	default:
		b.WriteString(`\U`)
		n = 8
	}
	for i := n - 1; i >= 0; i-- {
		b.WriteByte(hex[(uint32(r)>>(4*uint(i)))&0xf])
	}
}
