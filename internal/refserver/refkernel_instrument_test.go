package refserver

import (
	"fmt"
	"testing"

	"github.com/go-python/gpython/py"
)

// TestInstrument checks the calls the instrumentation adds and its map
// back to the user's lines.
func TestInstrument(t *testing.T) {
	for _, c := range []struct{ src, want, lines string }{
		{"while True: pass", "while True: __nbserv_tick__(); pass", "[1]"},
		{"for i in x:\n    y = i\nz", "for i in x:\n    __nbserv_tick__()\n    y = i\nz", "[1 2 2 3]"},
		{"def f(a):\n    '''doc'''\n    return a", "def f(a):\n    '''doc'''\n    __nbserv_enter__()\n    return a", "[1 2 3 3]"},
		{"g = lambda: g()", "g = lambda: __nbserv_enter__() or g()", "[1]"},
		{"[f(i) for i in r]", "[__nbserv_tick__() or f(i) for i in r]", "[1]"},
		{"int.x, a[0].b = 1, 2", "__nbserv_guard__(int, 'x').x, __nbserv_guard__(a[0], 'b').b = 1, 2", "[1]"},
		{"a * (b + c) ** 2", "a * __nbserv_size__ ** (b + c) ** __nbserv_size__ ** 2", "[1]"},
		{"x <<= n + 1\ny = (a *\n  # c\n  (b))", "x <<= __nbserv_size__ ** n + 1\ny = (a *\n  # c\n  __nbserv_size__ ** (b))", "[1 2 3 4]"},
		{"x *= a or b\n1 << (a if c else b)", "x *= a or b\n1 << (a if c else b)", "[1 2]"},
		{"o.v += 1\ndel o.v", "__nbserv_guard__(o, 'v').v += 1\ndel __nbserv_guard__(o, 'v').v", "[1 2]"},
	} {
		in, _, err := instrument(c.src, py.ExecMode)
		if err != nil {
			t.Errorf("%q: %v", c.src, err)
			continue
		}
		if in.src != c.want || fmt.Sprint(in.lines) != c.lines {
			t.Errorf("%q:\n got %q %v\nwant %q %s", c.src, in.src, in.lines, c.want, c.lines)
		}
	}
}
