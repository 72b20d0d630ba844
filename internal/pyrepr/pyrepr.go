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
