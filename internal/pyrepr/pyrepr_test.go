package pyrepr

import (
	"math"
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
