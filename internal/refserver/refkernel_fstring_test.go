package refserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-python/gpython/parser"
	"github.com/go-python/gpython/py"
)

// The cases and CPython 3.11.7's answers (python3 -c 'print(repr(...))',
// with the names fstringSetup sets).

const fstringSetup = "x = 3; w = 7; name = 'héllo'; pi = 3.14159265; big = 1234567; neg = -42; d = {'k': [1, 2]}"

var fstringCases = []struct{ code, want string }{
	{"f'a\\\n{x}'", "a3"},
	{"(f'{x}'  # c\n 'b' f'{w}')", "3b7"},
	{"f'{x:{\"<\"}{w}}|'", "3      |"},
	{"f'''{x!r}'''", "3"},
	{"f'{x}' f'{name}'", "3héllo"},
	{"rf'\\{x}'", "\\3"},
	{"f'\\t{x}\\x41'", "\t3A"},
	{"f'{\"}\"}'", "}"},
	{"f'{3.0:.0f}{2.5:.0f}{-1:5}'", "32   -1"},
	{"f'{x}'", "3"},
	{"F'{x!r}'", "3"},
	{"f\"{name!r}\"", "'héllo'"},
	{"f'{name!a}'", "'h\\xe9llo'"},
	{"f'{name!s:>8}'", "   héllo"},
	{"f'{pi:.2f}'", "3.14"},
	{"f'{pi:{w}.{x}}'", "   3.14"},
	{"f'{{x}} {{{x}}}'", "{x} {3}"},
	{"f'{x=}'", "x=3"},
	{"f'{x = }'", "x = 3"},
	{"f'{name=}'", "name='héllo'"},
	{"f'{pi=:.1f}'", "pi=3.1"},
	{"f'{name=!s}'", "name=héllo"},
	{"rf'\\d{x}'", "\\d3"},
	{"fr'{x}\\n'", "3\\n"},
	{"Rf'a\\{x}'", "a\\3"},
	{"f'{\"a\" + \"b\"}'", "ab"},
	{"f\"{'q'}\"", "q"},
	{"f'{(lambda y: y * 2)(x)}'", "6"},
	{"f'{d[\"k\"]}'", "[1, 2]"},
	{"f'{ {\"a\": 1}[\"a\"] }'", "1"},
	{"f'{f\"{x}\"}'", "3"},
	{"f'a' 'b' f'{x}'", "ab3"},
	{"f'''{x}\n{w}'''", "3\n7"},
	{"f'''a'{x}'''", "a'3"},
	{"f'# not a comment {x}'", "# not a comment 3"},
	{"f'{x:>{w}}|'", "      3|"},
	{"f'{x:*^9}'", "****3****"},
	{"f'{big:,}'", "1,234,567"},
	{"f'{big:_}'", "1_234_567"},
	{"f'{neg:+05d}'", "-0042"},
	{"f'{x:#x} {x:#o} {x:#b} {255:X}'", "0x3 0o3 0b11 FF"},
	{"f'{pi:e}'", "3.141593e+00"},
	{"f'{pi:%}'", "314.159265%"},
	{"f'{pi:.3}'", "3.14"},
	{"f'{1234.5:.3}'", "1.23e+03"},
	{"f'{1.0:.3}'", "1.0"},
	{"f'{0.5:g}'", "0.5"},
	{"f'{True}'", "True"},
	{"f'{True:d}'", "1"},
	{"f'{None}'", "None"},
	{"f'{[1, \"a\"]!r}'", "[1, 'a']"},
	{"f'{(1,)}'", "(1,)"},
	{"f'{1e16}'", "1e+16"},
	{"f'{pi:10.3f}|'", "     3.142|"},
	{"f'{neg:x}'", "-2a"},
	{"f'{65:c}'", "A"},
	{"f'{x!r:>4}'", "   3"},
	{"f'{x}{w}'", "37"},
	{"f''", ""},
	{"f'{x:}'", "3"},
	{"f'{name:.2}'", "hé"},
	{"f'{name:^9}'", "  héllo  "},
	{"f'€{x}😀'", "€3😀"},
	{"f'{x:0=5}'", "00003"},
	{"f'{1234567.891:,.2f}'", "1,234,567.89"},
	{"f'{x if x else w}'", "3"},
	{"f'{x!=w}'", "True"},
	{"f'{x<w}'", "True"},
	{"f'{-0.0}'", "-0.0"},
	{"f'{float(\"inf\"):f}'", "inf"},
}

var fstringSyntaxErrors = []struct{ code, want string }{
	{"f\"{\"", "f-string: expecting '}'"},
	{"f'}'", "f-string: single '}' is not allowed"},
	{"f'{}'", "f-string: empty expression not allowed"},
	{"f'{x!z}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'"},
	{"f'{x#}'", "f-string expression part cannot include '#'"},
	{"f'{x:{w:{x}}}'", "f-string: expressions nested too deeply"},
	{"f'{\\'a\\'}'", "f-string expression part cannot include a backslash"},
	{"f'{x'", "f-string: expecting '}'"},
	{"f'{x!}'", "f-string: invalid conversion character: expected 's', 'r', or 'a'"},
}

var fstringFormatErrors = []struct{ code, want string }{
	{"f'{x:q}'", "ValueError: Unknown format code 'q' for object of type 'int'"},
	{"f'{name:d}'", "ValueError: Unknown format code 'd' for object of type 'str'"},
	{"f'{x:.2d}'", "ValueError: Precision not allowed in integer format specifier"},
	{"f'{name:+}'", "ValueError: Sign not allowed in string format specifier"},
	{"f'{None:>3}'", "TypeError: unsupported format string passed to NoneType.__format__"},
}

// evalCell runs setup then code in a fresh interpreter, without a server,
// and returns str() of code's value or the error.
func evalCell(t *testing.T, setup, code string) (string, error) {
	t.Helper()
	ip, err := newInterp()
	if err != nil {
		t.Fatal(err)
	}
	ip.run = &pyRun{x: &execution{intr: make(chan struct{})}}
	for i, src := range []string{setup, lastExprName + " = " + code} {
		c, err := ip.compileCell(src, i+1, py.ExecMode)
		if err != nil {
			return "", err
		}
		if _, err := ip.ctx.RunCode(c.body, ip.main.Globals, ip.main.Globals, nil); err != nil {
			return "", err
		}
	}
	return objStr(ip.main.Globals[lastExprName])
}

func TestRefKernelFstrings(t *testing.T) {
	for _, c := range fstringCases {
		got, err := evalCell(t, fstringSetup, c.code)
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.code, got, err, c.want)
		}
	}
	for _, c := range fstringSyntaxErrors {
		_, err := evalCell(t, fstringSetup, c.code)
		if e, ok := err.(*py.Exception); !ok || e.Base != py.SyntaxError || !strings.Contains(e.Error(), c.want) {
			t.Errorf("%s: got %v, want SyntaxError: %s", c.code, err, c.want)
		}
	}
	for _, c := range fstringFormatErrors {
		_, err := evalCell(t, fstringSetup, c.code)
		got := fmt.Sprint(err)
		if ei, ok := err.(py.ExceptionInfo); ok {
			msg, _ := excStr(ei.Value)
			got = ei.Type.Name + ": " + msg
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.code, got, c.want)
		}
	}
}

// FuzzFstrings: the transform never panics or hangs; it rejects a cell
// only with a SyntaxError; it keeps every line; a cell without an f in it
// is left as it is; and what gpython parsed before it parses after.
func FuzzFstrings(f *testing.F) {
	for _, c := range fstringCases {
		f.Add(c.code)
	}
	for _, c := range fstringSyntaxErrors {
		f.Add(c.code)
	}
	for _, s := range []string{"x = f'''\n{1 +\n 2}\n''' # f'{'\n", "(f'a'\n # c\n 'b')", "'#' + f\"{'#'}\"", "f'{x' f'}'", "rf'\\' f'{1}'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := transformFstrings(src)
		if err != nil {
			if e, ok := err.(*py.Exception); !ok || e.Base != py.SyntaxError {
				t.Fatalf("%q: %v, not a SyntaxError", src, err)
			}
			return
		}
		if strings.Count(out, "\n") != strings.Count(src, "\n") {
			t.Fatalf("%q became %q: lines not kept", src, out)
		}
		if !strings.ContainsAny(src, "fF") && out != src {
			t.Fatalf("%q became %q", src, out)
		}
		if _, err := parser.ParseString(src, py.ExecMode); err == nil {
			if _, err := parser.ParseString(out, py.ExecMode); err != nil {
				t.Fatalf("%q parsed, %q does not: %v", src, out, err)
			}
		}
	})
}

// TestRefKernelFstringCells runs f-strings through the kernel: a '#' and
// quotes of the other kind in strings around them, an expression over
// lines (the error after it is on the user's line), and a malformed one
// rendered as Python's SyntaxError.
func TestRefKernelFstringCells(t *testing.T) {
	f := newChanFixture(t)
	c := f.dial(f.kernel(), "s")
	out, r, e := outcome(run(t, c, "s = '# f\"{x}\"'  # f'{'\nprint(s, f\"{1+1}\", F'{s!r}')\nf'''a\n{1 +\n 1:>3}'''"))
	if out != "# f\"{x}\" 2 '# f\"{x}\"'\n" || r != "'a\\n  2'" || e != "" {
		t.Errorf("got stdout %q result %q error %q", out, r, e)
	}
	msgs := run(t, c, "v = f'''\n{1 +\n 1}'''\nprint(v)\nundefined_name")
	out, _, e = outcome(msgs)
	if out != "\n2\n" || e != "NameError: name 'undefined_name' is not defined" {
		t.Errorf("got stdout %q error %q", out, e)
	}
	if tb := traceback(msgs); !strings.Contains(tb, "line 5") || !strings.Contains(tb, "undefined_name") {
		t.Errorf("the NameError is not on the user's line 5: %q", tb)
	}
	msgs = run(t, c, "print('never')\nf\"{\"")
	out, _, e = outcome(msgs)
	if out != "" || e != "SyntaxError: f-string: expecting '}'" {
		t.Errorf("got stdout %q error %q", out, e)
	}
	// CPython 3.11 points just after the literal: line 2, offset 5.
	if tb := traceback(msgs); !strings.Contains(tb, "In [3], line 2") || !strings.Contains(tb, "f\"{\"\x1b[0m\n\x1b[0m        ^") {
		t.Errorf("traceback %q", tb)
	}
}

func traceback(msgs []wmsg) string {
	for _, m := range msgs {
		if m.Type() == "error" {
			return fmt.Sprint(m.Content["traceback"])
		}
	}
	return ""
}
