package refserver

import (
	"encoding/json"
	"testing"
)

// The helpers that mimic Python's view of decoded JSON values.
func TestPythonSemantics(t *testing.T) {
	for _, c := range []struct {
		v            any
		truthy       bool
		typ, str     string
		sameAsNumber bool // equals json.Number("1") as SQLite compares
	}{
		{nil, false, "NoneType", "None", false},
		{true, true, "bool", "True", true},
		{false, false, "bool", "False", false},
		{"", false, "str", "", false},
		{"x", true, "str", "x", false},
		{"1", true, "str", "1", false},
		{json.Number("0"), false, "int", "0", false},
		{json.Number("1"), true, "int", "1", true},
		{json.Number("1.0"), true, "float", "1.0", true},
		{json.Number("1E0"), true, "float", "1.0", true},
		{json.Number("0.0"), false, "float", "0.0", false},
		{json.Number("123456789012345678901234567890"), true, "int", "123456789012345678901234567890", false},
		{[]any{}, false, "list", "[]", false},
		{[]any{json.Number("1"), "x", nil}, true, "list", "[1, 'x', None]", false},
		{map[string]any{}, false, "dict", "{}", false},
		{map[string]any{"b": nil, "a": []any{true}}, true, "dict", "{'a': [True], 'b': None}", false},
	} {
		if got := truthy(c.v); got != c.truthy {
			t.Errorf("truthy(%#v) = %v", c.v, got)
		}
		if got := pyType(c.v); got != c.typ {
			t.Errorf("pyType(%#v) = %q, want %q", c.v, got, c.typ)
		}
		if got := pyStr(c.v); got != c.str {
			t.Errorf("pyStr(%#v) = %q, want %q", c.v, got, c.str)
		}
		one, _ := pathKey(json.Number("1"))
		bound, bad := sqlValue(c.v, 1)
		key, ok := pathKey(bound)
		if same := bad == nil && ok && key == one; same != c.sameAsNumber {
			t.Errorf("%#v = 1 in SQL: %v", c.v, same)
		}
	}
	if _, ok := pathKey(nil); ok {
		t.Error("NULL has a key: SQL NULL equals nothing")
	}
}

// Python's repr of floats, which Jupyter answers for any number with a
// fraction or an exponent (docs/wire/sessions.md S7).
func TestPyFloatRepr(t *testing.T) {
	for in, want := range map[string]string{
		"1E2": "100.0", "1.50": "1.5", "-0.0": "-0.0", "0.0001": "0.0001", "0.00001": "1e-05",
		"1e15": "1000000000000000.0", "1e16": "1e+16", "1.5e300": "1.5e+300", "-2.5e-7": "-2.5e-07",
		"0.1": "0.1", "123456.789": "123456.789", "5e-324": "5e-324",
	} {
		if got, _ := pyNumber(json.Number(in)); string(got) != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	for in, want := range map[string]string{"-0": "0", "9223372036854775807": "9223372036854775807", "-9223372036854775808": "-9223372036854775808"} {
		if got, ok := pyNumber(json.Number(in)); string(got) != want || !ok {
			t.Errorf("%s: %s %v, want %s", in, got, ok, want)
		}
	}
	if _, ok := pyNumber("9223372036854775808"); ok {
		t.Error("2^63 fits SQLite's INTEGER")
	}
}

func TestPyStrRepr(t *testing.T) {
	for in, want := range map[string]string{
		"a": "'a'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`, "t\tab\n": `'t\tab\n'`, "\x01é\u2028": `'\x01é\u2028'`, `back\slash`: `'back\\slash'`,
	} {
		if got := pyStrRepr(in); got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

// A path whose session lost its kernel gets a new session, as Jupyter's
// session_exists prunes the dead row.
func TestCreateAfterKernelDeath(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	first := w.create(`{"path": "p.ipynb", "type": "notebook"}`)
	if err := w.ref.KillSessionKernel(first["id"].(string)); err != nil {
		t.Fatal(err)
	}
	second := w.create(`{"path": "p.ipynb", "type": "notebook"}`)
	if second["id"] == first["id"] || kernelOf(second)["id"] == kernelOf(first)["id"] {
		t.Errorf("got the dead session back: %v", second)
	}
	// Numeric paths are matched as SQLite matches them.
	a := w.create(`{"path": "x", "type": "file", "kernel": {"id": "` + kernelOf(second)["id"].(string) + `"}}`)
	w.ok("PATCH", "/api/sessions/"+a["id"].(string), `{"path": 7}`)
	again := w.ok("POST", "/api/sessions", `{"path": 7, "type": "file", "kernel": {"id": "`+kernelOf(second)["id"].(string)+`"}}`).obj(t)
	if again["id"] != a["id"] {
		t.Errorf("numeric path not matched: %v", again)
	}
}
