package pyrepr

import (
	"math"
	"strings"
	"testing"
)

// TestFloat: CPython 3's repr() of each value (python3 -c 'print(repr(x))').
func TestFloat(t *testing.T) {
	tenth, fifth := 0.1, 0.2 // variables: Go folds constant arithmetic exactly
	for _, c := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"}, {math.Copysign(0, -1), "-0.0"}, {1, "1.0"}, {-2.5, "-2.5"}, {0.1, "0.1"},
		{10 * tenth, "1.0"}, {tenth + fifth, "0.30000000000000004"}, {1e15, "1000000000000000.0"},
		{1e16, "1e+16"}, {-1.5e16, "-1.5e+16"}, {0.0001, "0.0001"}, {0.00001, "1e-05"},
		{1.5e-7, "1.5e-07"}, {123456789.125, "123456789.125"}, {1e300, "1e+300"},
		{5e-324, "5e-324"}, {math.MaxFloat64, "1.7976931348623157e+308"}, {9999999999999998, "9999999999999998.0"},
	} {
		if got := Float(c.f); got != c.want {
			t.Errorf("Float(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

// TestWriteEscape: the escapes CPython 3 writes (python3 -c
// 'print(ascii("\x07\x7f\xe9\u20ac\U0001f600"))').
func TestWriteEscape(t *testing.T) {
	var b strings.Builder
	for _, r := range []rune{0, 7, 0x7f, 0xe9, 0x20ac, 0xffff, 0x1f600, 0x10ffff} {
		WriteEscape(&b, r)
	}
	if got, want := b.String(), `\x00\x07\x7f\xe9\u20ac\uffff\U0001f600\U0010ffff`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
