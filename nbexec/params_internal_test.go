package nbexec

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nbserv/go-nbserv/nbformat"
)

// python runs a Python 3 program and returns its standard output. CI and
// the development image install python3; the tests that use it check what
// Python itself makes of the code the package writes.
func python(t *testing.T, program string) string {
	t.Helper()
	// Bounded: these programs take milliseconds; a minute is for a loaded
	// machine.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "python3", "-") // the program on stdin: no limit on its size
	cmd.Stdin = strings.NewReader(program)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s\nprogram:\n%s", err, stderr.String(), program)
	}
	return string(out)
}

// typingInputs are -p values whose typing papermill's CLI decides with
// Python's int() and float().
var typingInputs = []string{
	"True", "False", "None", "true", "none", "True ", " True",
	"0", "42", "-7", "+5", "007", " 12 ", "\t3\n", "1_000", "1__0", "_1", "1_", "-0",
	"123456789012345678901234567890", "-9223372036854775808", "9223372036854775808",
	"١٢٣", "٣.٥", "٩٨٧", "𝟙𝟚", "𝟗𝟿", "0x10", "0o7", "0b1", "1j",
	"1.5", "1.", ".5", ".", "-.5", "1e3", "1E3", "1e+3", "1e-3", "1e+-3", "1e", "e3", "1.5e300", "1e400", "-1e400", "1e-400",
	"1_0.5", "1._5", "1.5_", "1e1_0", "0.1", "1e16", "1e15", "0.0001", "0.00001",
	"nan", "NaN", "-nan", "+inf", "-Infinity", "inf", "INF", "infinity", "infinit", "--1", "+-1", "++1",
	strings.Repeat("7", 4300), strings.Repeat("7", 4301), "-" + strings.Repeat("0", 4301), strings.Repeat("1_2", 2151),
	"", " ", "hello", "hello world", "'quoted'", "\"dq\"", "a\\b", "line1\nline2", "héllo", "1,000", "1 000",
}

// TestParseValueTypesAsPapermill compares ParseValue with what Python makes
// of each value under papermill's -p rule: exactly True, False or None,
// else int(), else float(), else the string.
func TestParseValueTypesAsPapermill(t *testing.T) {
	in, _ := json.Marshal(typingInputs)
	out := python(t, `
import json
def typed(v):
    if v == "True": return True
    if v == "False": return False
    if v == "None": return None
    try: return int(v)
    except ValueError: pass
    try: return float(v)
    except ValueError: pass
    return v
for v in json.loads(`+strconv.Quote(string(in))+`):
    x = typed(v)
    print(json.dumps([type(x).__name__, x if isinstance(x, str) else repr(x)]))
`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(typingInputs) {
		t.Fatalf("%d lines for %d inputs:\n%s", len(lines), len(typingInputs), out)
	}
	for i, line := range lines {
		var want [2]string
		if err := json.Unmarshal([]byte(line), &want); err != nil {
			t.Fatal(err)
		}
		v := ParseValue(typingInputs[i])
		got := [2]string{pythonType(v), ""}
		switch v := v.(type) {
		case string:
			got[1] = v
		case float64:
			got[1] = pythonRepr(v)
		default:
			got[1], _ = pythonLiteral(v)
		}
		if got != want {
			t.Errorf("ParseValue(%q) = %T %q, Python's typing gives %s %q", typingInputs[i], v, got[1], want[0], want[1])
		}
	}
}

// pythonType names the Python type a Go value becomes.
func pythonType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case float64, float32:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	}
	if _, ok := integer(v); ok {
		return "int"
	}
	return fmt.Sprintf("%T", v)
}

// pythonRepr is repr() of a float: the literal, but nan, inf and -inf
// bare.
func pythonRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return pythonFloatLiteral(f)
}

// roundTripValues are values whose Python literal must read back as the
// same value.
var roundTripValues = []any{
	nil, true, false,
	0, -1, 42, int8(-128), uint8(255), int64(math.MinInt64), uint64(math.MaxUint64),
	new(big.Int).Exp(big.NewInt(10), big.NewInt(40), nil),
	0.0, math.Copysign(0, -1), 1.0, 0.1, 1.5, -2.25, 1e15, 1e16, 123456789012345678.0, 1e-4, 1e-5, 1.5e-7,
	5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64, float32(0.1), math.NaN(), math.Inf(1), math.Inf(-1),
	"", "plain", `"double"`, "'single'", `'"both"'`, `back\slash`, `\"`, `\\`, `\n not a newline`, "trailing\\",
	"new\nline", "cr\r\nlf", "tab\there", "nul\x00byte", "bell\a", "esc\x1b[0m", "del\x7f", "latin\u00a0\u00ff",
	"héllo wörld", "中文", "emoji 😀", "line\u2028sep", "bom\ufeff", "invalid \xff utf-8", "{braces} %s {0}", "#not a comment",
	strings.Repeat("long ", 2000),
	[]any{1, "two", 3.0, nil, []any{true}},
	map[string]any{"b": 1, "a": "x\"y", "c": map[string]any{"d": []any{}}},
}

// TestStringQuotingIsPapermills compares the quoting of every string of
// roundTripValues with papermill's (Python's unicode_escape codec, then
// double quotes escaped), byte for byte.
func TestStringQuotingIsPapermills(t *testing.T) {
	var strs []string
	for _, v := range roundTripValues {
		if s, ok := v.(string); ok {
			strs = append(strs, strings.ToValidUTF8(s, "\uFFFD"))
		}
	}
	in, _ := json.Marshal(strs)
	out := python(t, `
import json
for s in json.loads(`+strconv.Quote(string(in))+`):
    print(json.dumps('"' + s.encode('unicode_escape').decode('utf-8').replace('"', r'\"') + '"'))
`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(strs) {
		t.Fatalf("%d lines for %d strings", len(lines), len(strs))
	}
	for i, line := range lines {
		var want string
		_ = json.Unmarshal([]byte(line), &want)
		if got := pythonString(strs[i]); got != want {
			t.Errorf("%q quoted as %s, papermill writes %s", strs[i], got, want)
		}
	}
}

// TestPythonLiteralsRoundTrip injects every value and runs the injected
// cell with python3: each variable must hold the value, of the Python type
// papermill gives it, and metadata.papermill.parameters must decode (with
// Python's json) to the same values.
func TestPythonLiteralsRoundTrip(t *testing.T) {
	var params []Parameter
	for i, v := range roundTripValues {
		params = append(params, Parameter{Name: fmt.Sprintf("v%d", i), Value: v})
	}
	nb := pythonNotebook()
	if _, err := InjectParameters(nb, "", params...); err != nil {
		t.Fatal(err)
	}
	var papermill struct {
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(nb.Metadata.Extra["papermill"], &papermill); err != nil {
		t.Fatal(err)
	}
	src := nb.Cells[0].Source
	if !strings.HasPrefix(src, "# Parameters\nv0 = None\nv1 = True\n") {
		t.Errorf("cell source starts %q", src[:min(len(src), 60)])
	}
	out := python(t, src+`
import json, math
_rec = json.loads(`+strconv.Quote(string(papermill.Parameters))+`)
for _i in range(`+strconv.Itoa(len(params))+`):
    _v = globals()["v%d" % _i]
    _r = _rec["v%d" % _i]
    if isinstance(_v, float) and not math.isfinite(_v):
        _same = _r == repr(_v)
    else:
        _same = _r == _v and type(_r) == type(_v)
    print(json.dumps([type(_v).__name__, repr(_v) if isinstance(_v, (int, float)) and not isinstance(_v, bool) else _v, _same]))
`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(params) {
		t.Fatalf("%d lines for %d values:\n%s", len(lines), len(params), out)
	}
	for i, line := range lines {
		var got []json.RawMessage
		if err := json.Unmarshal([]byte(line), &got); err != nil || len(got) != 3 {
			t.Fatalf("line %q: %v", line, err)
		}
		v := roundTripValues[i]
		var typ string
		_ = json.Unmarshal(got[0], &typ)
		if typ != pythonType(v) {
			t.Errorf("v%d (%#v): Python type %s, want %s", i, v, typ, pythonType(v))
			continue
		}
		if string(got[2]) != "true" {
			t.Errorf("v%d (%#v): metadata.papermill.parameters records %s", i, v, papermill.Parameters)
		}
		switch v := v.(type) {
		case float64, float32:
			var repr string
			_ = json.Unmarshal(got[1], &repr)
			f, err := strconv.ParseFloat(repr, 64)
			want := toFloat(v)
			if err != nil || !(f == want && math.Signbit(f) == math.Signbit(want) || math.IsNaN(f) && math.IsNaN(want)) {
				t.Errorf("v%d: Python read %s back, want %v", i, repr, want)
			}
		case string:
			var s string
			_ = json.Unmarshal(got[1], &s)
			if want := strings.ToValidUTF8(v, "\uFFFD"); s != want {
				t.Errorf("v%d: Python read %q back, want %q", i, s, want)
			}
		default:
			if n, ok := integer(v); ok {
				var repr string
				_ = json.Unmarshal(got[1], &repr)
				if repr != n.String() {
					t.Errorf("v%d: Python read %s back, want %s", i, repr, n)
				}
				continue
			}
			want, _ := json.Marshal(v)
			var a, b any
			_ = json.Unmarshal(got[1], &a)
			_ = json.Unmarshal(want, &b)
			if fmt.Sprint(a) != fmt.Sprint(b) {
				t.Errorf("v%d: Python read %s back, want %s", i, got[1], want)
			}
		}
	}
}

// pythonNotebook is an empty notebook whose kernelspec names Python.
func pythonNotebook(cells ...nbformat.Cell) *nbformat.Notebook {
	nb := nbformat.New(cells...)
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
	return nb
}

func toFloat(v any) float64 {
	if f, ok := v.(float32); ok {
		return float64(f)
	}
	return v.(float64)
}

// TestNestingIsBounded: lists and dicts nest as deep as Python reads (200
// brackets), and deeper, or a value that holds itself, is a
// *ParameterError, not a stack overflow.
func TestNestingIsBounded(t *testing.T) {
	nested := func(depth int) any {
		var v any = 1
		for i := range depth {
			if i%2 == 0 {
				v = []any{v}
			} else {
				v = map[string]any{"k": v}
			}
		}
		return v
	}
	nb := pythonNotebook()
	if _, err := InjectParameters(nb, "", Parameter{Name: "deep", Value: nested(200)}); err != nil {
		t.Fatal(err)
	}
	if out := python(t, nb.Cells[0].Source+`
d, v = 0, deep
while not isinstance(v, int):
    v = v[0] if isinstance(v, list) else v["k"]
    d += 1
print(d, v)
`); out != "200 1\n" {
		t.Errorf("python3 read %q", out)
	}
	cyclic := []any{nil}
	cyclic[0] = cyclic
	selfish := map[string]any{}
	selfish["me"] = selfish
	for name, v := range map[string]any{"deeper": nested(201), "cyclic": cyclic, "selfish": selfish} {
		var pe *ParameterError
		if _, err := InjectParameters(pythonNotebook(), "", Parameter{Name: name, Value: v}); !errors.As(err, &pe) || pe.Name != name {
			t.Errorf("%s: err = %v, want a *ParameterError", name, err)
		}
	}
}
