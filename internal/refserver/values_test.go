package refserver

import (
	"strings"
	"testing"
)

// expectCrash checks a simulated Jupyter crash: 500, "Unhandled error",
// and the exception in the traceback.
func expectCrash(t *testing.T, a answer, exception string) {
	t.Helper()
	m := a.obj(t)
	tb, _ := m["traceback"].(string)
	if a.status != 500 || m["message"] != "Unhandled error" || !strings.Contains(tb, exception) {
		t.Errorf("want a crash with %q, got %d %s", exception, a.status, a.body)
	}
}

// TestOddValues: what Jupyter 1.23.3 answers for values Python and SQLite
// treat their own way (docs/wire/sessions.md S7). The reference
// server once called a 30-digit integer a 'float'.
func TestOddValues(t *testing.T) {
	w := newWire(t, Options{Token: tok, KernelSpecs: []string{"python3"}, Generation: 1})
	const big = "123456789012345678901234567890"
	base := w.create(`{"path": "base", "type": "file"}`)
	kid := kernelOf(base)["id"].(string)
	attach := `, "kernel": {"id": "` + kid + `"}}`
	sid := "/api/sessions/" + base["id"].(string)

	// Integers beyond 64 bits: the SELECT for an existing session crashes
	// on the path; the INSERT refuses a name or type with a message.
	expectCrash(t, w.ok("POST", "/api/sessions", `{"path": `+big+`, "type": "file"}`), "OverflowError: Python int too large to convert to SQLite INTEGER")
	expectCrash(t, w.ok("POST", "/api/sessions", `{"path": {"a": 1}, "type": "file"}`), "sqlite3.ProgrammingError: Error binding parameter 1: type 'dict' is not supported")
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "n", "type": "file", "name": `+big+attach), 500, "Python int too large to convert to SQLite INTEGER")
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "n", "type": 9223372036854775808`+attach), 500, "Python int too large to convert to SQLite INTEGER")
	if m := w.create(`{"path": "n63", "type": "file", "name": 9223372036854775807` + attach); !strings.Contains(w.ok("GET", "/api/sessions/"+m["id"].(string), "").body, `"name":9223372036854775807`) {
		t.Errorf("2^63-1 not stored as it is")
	}
	expectCrash(t, w.ok("PATCH", sid, `{"name": `+big+`}`), "OverflowError")

	// Numbers with a fraction or exponent come back as Python prints floats.
	for in, want := range map[string]string{"1E2": `"name":100.0`, "1.50": `"name":1.5`, "-0": `"name":0`, "-0.0": `"name":-0.0`, "1e16": `"name":1e+16`} {
		if a := w.ok("PATCH", sid, `{"name": `+in+`}`); !strings.Contains(a.body, want) {
			t.Errorf("name %s: %s, want %s", in, a.body, want)
		}
	}
	expectError(t, w.ok("PATCH", sid, `{"kernel": {"id": 1E2}}`), 400, "No such kernel: 100.0")
	expectError(t, w.ok("PATCH", sid, `{"kernel": {"id": true}}`), 400, "No such kernel: True")
	expectCrash(t, w.ok("PATCH", sid, `{"kernel": {"id": [1]}}`), "TypeError: unhashable type: 'list'")

	// Kernel ids and names of other types.
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "k1", "type": "file", "kernel": {"id": [1]}}`), 500, "unhashable type: 'list'")
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "k2", "type": "file", "kernel": {"name": 5}}`), 500,
		"The 'kernel_name' trait of an AsyncIOLoopKernelManager instance expected a unicode string, not the int 5.")
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "k3", "type": "file", "kernel": {"name": {"b": null, "a": [1, "x'y"]}}}`), 500,
		`The 'kernel_name' trait of an AsyncIOLoopKernelManager instance expected a unicode string, not the dict {'a': [1, "x'y"], 'b': None}.`)
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "k4", "type": "file", "kernel": {"id": "nope", "name": ""}}`), 500,
		"'NoneType' object has no attribute 'metadata'")
	if m := w.create(`{"path": "k5", "type": "file", "kernel": {"name": "PYTHON3"}}`); kernelOf(m)["name"] != "PYTHON3" {
		t.Errorf("kernelspec names match in any case and the kernel keeps the name asked: %v", kernelOf(m))
	}
	if k := w.ok("POST", "/api/kernels", `{"name": null}`).obj(t); k["name"] != "python3" {
		t.Errorf(`POST /api/kernels {"name": null}: %v, want the default`, k)
	}
	expectCrash(t, w.ok("POST", "/api/kernels", `{"path": 5}`), "AttributeError: 'int' object has no attribute 'strip'")
	expectCrash(t, w.ok("POST", "/api/kernels", `{"name": 5}`), "TraitError")

	// Bodies that are not objects, and the deprecated notebook field, as
	// Python's `in` and indexing treat them.
	before := w.ok("GET", sid, "").body
	if a := w.ok("PATCH", sid, `"x"`); a.status != 200 || a.body != before {
		t.Errorf(`PATCH "x": %d %s`, a.status, a.body)
	}
	expectCrash(t, w.ok("PATCH", sid, `"a path"`), "TypeError: string indices must be integers, not 'str'")
	expectCrash(t, w.ok("PATCH", sid, `["kernel"]`), "TypeError: list indices must be integers")
	expectCrash(t, w.ok("PATCH", sid, `{"notebook": null}`), "TypeError: argument of type 'NoneType' is not iterable")
	if m := w.create(`{"notebook": "x", "path": "nbx", "type": "file"` + attach); m["type"] != "file" {
		t.Errorf(`notebook "x": %v`, m)
	}
	expectCrash(t, w.ok("POST", "/api/sessions", `{"notebook": "my path", "path": "nbx2", "type": "file"}`), "TypeError: string indices must be integers")
	// A new kernel for a session whose path is not a string: Jupyter cannot find its cwd.
	w.ok("PATCH", sid, `{"path": null}`)
	expectCrash(t, w.ok("PATCH", sid, `{"kernel": {"name": "python3"}}`), "AttributeError: 'NoneType' object has no attribute 'strip'")
}
