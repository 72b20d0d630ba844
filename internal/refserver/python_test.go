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
		{json.Number("0"), false, "int", "0", false},
		{json.Number("1"), true, "int", "1", true},
		{json.Number("0.0"), false, "float", "0.0", false},
		{[]any{}, false, "list", "[]", false},
		{[]any{1.0}, true, "list", "[1]", false},
		{map[string]any{}, false, "dict", "{}", false},
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
		if got := sameValue(json.Number("1"), c.v); got != c.sameAsNumber {
			t.Errorf("sameValue(1, %#v) = %v", c.v, got)
		}
	}
	if !sameValue("a", "a") || sameValue("a", "b") || sameValue("1", json.Number("1")) || sameValue(nil, nil) {
		t.Error("sameValue on strings and NULL")
	}
}

// A path whose session lost its kernel gets a new session, as Jupyter's
// session_exists prunes the dead row.
func TestCreateAfterKernelDeath(t *testing.T) {
	w := newWire(t, Options{Token: tok})
	first := w.create(`{"path": "p.ipynb", "type": "notebook"}`)
	if err := w.ref.KillKernel(first["id"].(string)); err != nil {
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
