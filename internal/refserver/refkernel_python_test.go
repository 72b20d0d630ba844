package refserver

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// Golden values from Debian bookworm's Python 3.11 (repr) and from
// tracebacks ipykernel 6.17 sent (docs/wire/kernel-channels.md KC12).

func TestPyReprFloat(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1.5, "1.5"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"}, {0.0001, "0.0001"}, {0.00001, "1e-05"},
		{10 * 0.1, "1.0"}, {0.30000000000000004, "0.30000000000000004"}, {math.Copysign(0, -1), "-0.0"},
		{math.Inf(1), "inf"}, {math.Inf(-1), "-inf"}, {math.NaN(), "nan"}, {123456789.123, "123456789.123"},
		{2.5e-7, "2.5e-07"}, {math.MaxFloat64, "1.7976931348623157e+308"}, {5e-324, "5e-324"}, {1e22, "1e+22"},
		{12345678901234567.0, "1.2345678901234568e+16"}, {-1e-5, "-1e-05"}, {100, "100.0"}, {3.0e-4, "0.0003"},
	} {
		if got := pyReprFloat(c.f); got != c.want {
			t.Errorf("repr(%v) = %s, want %s", c.f, got, c.want)
		}
	}
}

func TestPyReprStr(t *testing.T) {
	for in, want := range map[string]string{
		"x": `'x'`, "it's": `"it's"`, `a"b`: `'a"b'`, `both ' and "`: `'both \' and "'`, "tab\there": `'tab\there'`,
		"nl\n": `'nl\n'`, "\x00\x7f\u0080é\u200b😀": `'\x00\x7f\x80é\u200b😀'`, `back\slash`: `'back\\slash'`, "\u0085\u00a0": `'\x85\xa0'`,
	} {
		if got := pyReprStr(in); got != want {
			t.Errorf("repr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestCellLinesDropsLeadingBlankLines(t *testing.T) {
	if got := cellLines("\n  \n# a\n\nb\n"); strings.Join(got, "|") != "# a||b|" {
		t.Errorf("lines %q", got)
	}
}

// TestHighlightMatchesIPython compares rendered lines with lines of real
// IPython tracebacks.
func TestHighlightMatchesIPython(t *testing.T) {
	for _, c := range []struct {
		line string
		hl   span
		want string
	}{
		{`raise ValueError("boom")`, span{}, "\x1b[38;5;28;01mraise\x1b[39;00m \x1b[38;5;167;01mValueError\x1b[39;00m(\x1b[38;5;124m\"\x1b[39m\x1b[38;5;124mboom\x1b[39m\x1b[38;5;124m\"\x1b[39m)"},
		{`import time; time.sleep(30)`, span{}, "\x1b[38;5;28;01mimport\x1b[39;00m \x1b[38;5;21;01mtime\x1b[39;00m; time\x1b[38;5;241m.\x1b[39msleep(\x1b[38;5;241m30\x1b[39m)"},
		{`time.sleep(1)`, span{0, 4}, "\x1b[43mtime\x1b[49m\x1b[38;5;241m.\x1b[39msleep(\x1b[38;5;241m1\x1b[39m)"},
		{`time.sleep(5)`, span{0, 13}, "\x1b[43mtime\x1b[49m\x1b[38;5;241;43m.\x1b[39;49m\x1b[43msleep\x1b[49m\x1b[43m(\x1b[49m\x1b[38;5;241;43m5\x1b[39;49m\x1b[43m)\x1b[49m"},
		{`input("p")`, span{0, 10}, "\x1b[38;5;28;43minput\x1b[39;49m\x1b[43m(\x1b[49m\x1b[38;5;124;43m\"\x1b[39;49m\x1b[38;5;124;43mp\x1b[39;49m\x1b[38;5;124;43m\"\x1b[39;49m\x1b[43m)\x1b[49m"},
		{`raise ValueError('it\'s')`, span{}, "\x1b[38;5;28;01mraise\x1b[39;00m \x1b[38;5;167;01mValueError\x1b[39;00m(\x1b[38;5;124m'\x1b[39m\x1b[38;5;124mit\x1b[39m\x1b[38;5;130;01m\\'\x1b[39;00m\x1b[38;5;124ms\x1b[39m\x1b[38;5;124m'\x1b[39m)"},
		{`print("a")  # trailing`, span{}, "\x1b[38;5;28mprint\x1b[39m(\x1b[38;5;124m\"\x1b[39m\x1b[38;5;124ma\x1b[39m\x1b[38;5;124m\"\x1b[39m)  \x1b[38;5;66;03m# trailing\x1b[39;00m"},
		{`1+1`, span{}, "\x1b[38;5;241m1\x1b[39m\x1b[38;5;241m+\x1b[39m\x1b[38;5;241m1\x1b[39m"},
		{`True`, span{}, "\x1b[38;5;28;01mTrue\x1b[39;00m"},
		// Pygments' Name.Function and Name.Class (python3 -c 'import pygments, ...; pygments.highlight(line,
		// PythonLexer(), Terminal256Formatter(style="default"))').
		{`def f(x): pass`, span{}, "\x1b[38;5;28;01mdef\x1b[39;00m \x1b[38;5;21mf\x1b[39m(x): \x1b[38;5;28;01mpass\x1b[39;00m"},
		{`class A(Exception): pass`, span{}, "\x1b[38;5;28;01mclass\x1b[39;00m \x1b[38;5;21;01mA\x1b[39;00m(\x1b[38;5;167;01mException\x1b[39;00m): \x1b[38;5;28;01mpass\x1b[39;00m"},
		{`if not self._allow_stdin:`, span{}, "\x1b[38;5;28;01mif\x1b[39;00m \x1b[38;5;129;01mnot\x1b[39;00m \x1b[38;5;28mself\x1b[39m\x1b[38;5;241m.\x1b[39m_allow_stdin:"},
	} {
		if got := highlight(c.line, c.hl); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.line, got, c.want)
		}
	}
}

// TestCellTracebackLayout checks the context window (two non-blank lines
// each side) and the line-number gutter against a real traceback.
func TestCellTracebackLayout(t *testing.T) {
	var lines []string
	for i := 1; i <= 11; i++ {
		lines = append(lines, "print("+strings.Repeat("1", 1)+")")
	}
	lines = append(lines, `raise RuntimeError("r")`, "1")
	tb := cellTraceback(ipython8, "RuntimeError", "r", 5, lines, 12, span{})
	want := []string{
		"\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
		"\x1b[0;31mRuntimeError\x1b[0m                              Traceback (most recent call last)",
		"Cell \x1b[0;32mIn [5], line 12\x1b[0m\n" +
			"\x1b[1;32m     10\x1b[0m \x1b[38;5;28mprint\x1b[39m(\x1b[38;5;241m1\x1b[39m)\n" +
			"\x1b[1;32m     11\x1b[0m \x1b[38;5;28mprint\x1b[39m(\x1b[38;5;241m1\x1b[39m)\n" +
			"\x1b[0;32m---> 12\x1b[0m \x1b[38;5;28;01mraise\x1b[39;00m \x1b[38;5;167;01mRuntimeError\x1b[39;00m(\x1b[38;5;124m\"\x1b[39m\x1b[38;5;124mr\x1b[39m\x1b[38;5;124m\"\x1b[39m)\n" +
			"\x1b[1;32m     13\x1b[0m \x1b[38;5;241m1\x1b[39m\n",
		"\x1b[0;31mRuntimeError\x1b[0m: r",
	}
	if strings.Join(tb, "§") != strings.Join(want, "§") {
		t.Errorf("traceback:\n got %q\nwant %q", tb, want)
	}
	// Blank lines are skipped, not counted.
	if got := contextLines([]string{"# c", "", "print(1)", "", "raise X", "", ""}, 5, scope{}); len(got) != 3 || got[0] != 1 || got[1] != 3 {
		t.Errorf("context %v", got)
	}
}

func TestIsComplete(t *testing.T) {
	for code, want := range map[string]string{
		"1+1": `{"status":"complete"}`, `print("a"`: `{"status":"incomplete","indent":""}`,
		"for x in y:": `{"status":"incomplete","indent":"    "}`, "1+": `{"status":"invalid"}`, ")": `{"status":"invalid"}`,
		`"abc`: `{"status":"invalid"}`,
	} {
		if got := string(mustJSON(isComplete(code))); got != want {
			t.Errorf("%q: %s, want %s", code, got, want)
		}
	}
}

// FuzzCell runs arbitrary cells in the kernel's interpreter with the
// execution already interrupted: never a panic, always an outcome that
// serialises, and the run ends (every loop ticks, so none runs on).
func FuzzCell(f *testing.F) {
	for _, seed := range []string{`print("a", 'b', sep="-")`, "1+1\nraise ValueError('x')", `"x" * 3 + 'y'`,
		"import time\ntime.sleep(1)", `input("p")`, `-(-3)*2.5`, `foo()`, `9` + strings.Repeat("9", 5000),
		"while True: pass", "def f(): f()\nf()", "int.x = 1", "import os", "\t1", `'\777'`, "x = [i for i in range(10**9)]"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		s := New(Options{Generation: 1})
		defer s.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		k := s.startKernel("python3")
		rt := s.runtime(k)
		x := &execution{req: &request{header: []byte("{}")}, count: 1, code: code, intr: make(chan struct{}), allowStdin: true}
		close(x.intr) // waits end at once
		x.interrupted = true
		fail, _ := s.runPython(rt, x)
		if fail != nil {
			if _, err := json.Marshal(fail.traceback); err != nil {
				t.Fatal(err)
			}
		}
	})
}
