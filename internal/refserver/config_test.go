package refserver

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// /api/config/{section}, as recorded in docs/wire/server.md SV19-SV25.

// patchConfig sends a PATCH and checks the answer is 200 with want.
func (w *wire) patchConfig(section, body, want string) {
	w.t.Helper()
	a := w.ok("PATCH", "/api/config/"+section, body)
	if a.status != 200 || a.header.Get("Content-Type") != "application/json" || !cmp.Equal(a.json(w.t), jsonValue(w.t, want)) {
		w.t.Errorf("PATCH %s: %d %s, want %s", body, a.status, a.body, want)
	}
	if got := w.ok("GET", "/api/config/"+section, ""); !cmp.Equal(got.json(w.t), jsonValue(w.t, want)) {
		w.t.Errorf("GET after PATCH %s: %s, want %s", body, got.body, want)
	}
}

func jsonValue(t *testing.T, s string) any { return answer{body: s}.json(t) }

func TestConfigMerge(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	if a := w.ok("GET", "/api/config/probe1", ""); a.status != 200 || a.body != "{}" || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("a section never written: %d %s", a.status, a.body)
	}
	w.patchConfig("probe1", `{"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": "x"}`, `{"a": 1, "b": {"c": 2, "d": [1, 2]}, "e": "x"}`)
	// null deletes, at any depth; a null for an absent key does nothing.
	w.patchConfig("probe1", `{"b": {"c": null, "f": true}, "e": null, "g": null}`, `{"a": 1, "b": {"d": [1, 2], "f": true}}`)
	// An object left empty goes.
	w.patchConfig("probe1", `{"b": {"d": null, "f": null}}`, `{"a": 1}`)
	// An empty object merges nothing, and is not kept.
	w.patchConfig("probe1", `{"h": {}, "i": {"j": {}}, "k": {"l": null}}`, `{"a": 1}`)
	w.patchConfig("probe1", `{}`, `{"a": 1}`)
	// Scalars and lists replace, whatever was there (an object over a
	// scalar is a crash: TestConfigCrashes).
	w.patchConfig("probe1", `{"a": null}`, `{}`)
	w.patchConfig("probe1", `{"a": {"x": {"y": 1}}}`, `{"a": {"x": {"y": 1}}}`)
	w.patchConfig("probe1", `{"a": [3], "s": "xa", "z": 0, "e": "", "f": false, "n": 1.5}`, `{"a": [3], "s": "xa", "z": 0, "e": "", "f": false, "n": 1.5}`)
	// {} over a scalar keeps it unless Python finds it false.
	w.patchConfig("probe1", `{"a": {}, "s": {}, "z": {}, "e": {}, "f": {}, "n": {}}`, `{"a": [3], "s": "xa", "n": 1.5}`)
	// Sections are separate.
	if a := w.ok("GET", "/api/config/probe2", ""); a.body != "{}" {
		t.Errorf("probe2: %s", a.body)
	}
}

func TestConfigCrashes(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.patchConfig("c", `{"i": 5, "s": "xa", "l": ["q"], "n": {"m": 1}}`, `{"i": 5, "s": "xa", "l": ["q"], "n": {"m": 1}}`)
	before := w.ok("GET", "/api/config/c", "").body
	for body, why := range map[string]string{
		``:                               "'NoneType' object has no attribute 'items'",
		`null`:                           "'NoneType' object has no attribute 'items'",
		`[1]`:                            "'list' object has no attribute 'items'",
		`"s"`:                            "'str' object has no attribute 'items'",
		`5`:                              "'int' object has no attribute 'items'",
		`{"i": {"x": 1}}`:                "'int' object does not support item assignment",
		`{"i": {"x": {"y": 1}}}`:         "argument of type 'int' is not iterable",
		`{"i": {"x": null}}`:             "'int' object has no attribute 'pop'",
		`{"s": {"q": 1}}`:                "'str' object does not support item assignment",
		`{"s": {"a": {}}}`:               "string indices must be integers",
		`{"l": {"a": 1}}`:                "list indices must be integers or slices, not str",
		`{"l": {"a": null}}`:             "pop expected at most 1 argument, got 2",
		`{"a": 1, "i": {"x": 1}}`:        "does not support item assignment", // nothing is written, "a" included
		`{"n": {"m": {"x": 1}}}`:         "'int' object does not support item assignment",
		`{"n": {"o": 2}, "s": {"x": 1}}`: "'str' object does not support item assignment",
	} {
		a := w.ok("PATCH", "/api/config/c", body)
		m := a.obj(t)
		if a.status != 500 || m["message"] != "Unhandled error" || m["reason"] != nil || !strings.Contains(m["traceback"].(string), why) {
			t.Errorf("PATCH %q: %d %s, want a crash saying %q", body, a.status, a.body, why)
		}
	}
	if after := w.ok("GET", "/api/config/c", "").body; after != before {
		t.Errorf("a crashed PATCH changed the section: %s, was %s", after, before)
	}
	expectError(t, w.ok("PATCH", "/api/config/c", "{bad"), 400, "Invalid JSON in body of request")
}

func TestConfigPut(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.patchConfig("p", `{"old": 1}`, `{"old": 1}`)
	a := w.ok("PUT", "/api/config/p", `{"a": null, "b": {}, "c": {"d": null}, "e": 1}`)
	if a.status != 204 || a.body != "" || a.header.Get("Content-Type") != "" {
		t.Errorf("PUT: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	// Stored as sent, read through the merge: nulls and empty objects do
	// not show.
	if got := w.ok("GET", "/api/config/p", "").body; got != `{"e":1}` {
		t.Errorf("after PUT: %s", got)
	}
	w.patchConfig("p", `{"f": 2}`, `{"e": 1, "f": 2}`)
	for _, body := range []string{"", "[1]", `"x"`} {
		if a := w.ok("PUT", "/api/config/p", body); a.status != 500 {
			t.Errorf("PUT %q: %d %s", body, a.status, a.body)
		}
	}
	expectError(t, w.ok("PUT", "/api/config/p", "{bad"), 400, "Invalid JSON in body of request")
	if got := w.ok("GET", "/api/config/p", "").body; got != `{"e":1,"f":2}` {
		t.Errorf("a refused PUT changed the section: %s", got)
	}
}

func TestConfigRouting(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for _, p := range []string{"/api/config/a-b", "/api/config/a.b", "/api/config/%C3%A9", "/api/config", "/api/config/x/y"} {
		expectHTML404(t, w.ok("GET", p, ""))
	}
	if a := w.ok("GET", "/api/config/", ""); a.status != 302 || a.header.Get("Location") != "/api/config" {
		t.Errorf("trailing slash: %d %q", a.status, a.header.Get("Location"))
	}
	expectError(t, w.ok("DELETE", "/api/config/x", ""), 405, "Method Not Allowed")
	expectError(t, w.ok("POST", "/api/config/x", "{}"), 405, "Method Not Allowed")
	expectError(t, w.call("GET", "/api/config/x", "", ""), 403, "Forbidden")
	expectError(t, w.call("PATCH", "/api/config/x", "{}", ""), 403, "'_xsrf' argument missing from POST")
	expectError(t, w.call("PUT", "/api/config/x", "{}", ""), 403, "'_xsrf' argument missing from POST")
	if a := w.call("HEAD", "/api/config/x", "", ""); a.status != 405 {
		t.Errorf("HEAD: %d", a.status)
	}
	if a := w.ok("GET", "/api/config/x", ""); a.body != "{}" {
		t.Errorf("a refused write changed the section: %s", a.body)
	}
}

func TestConfigAnswersShareNothing(t *testing.T) {
	// The PATCH answer is written after the lock is released: a later
	// PATCH must not change it (run with -race).
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.patchConfig("x", `{"a": {"b": 1}}`, `{"a": {"b": 1}}`)
	done := make(chan answer)
	go func() { done <- w.ok("PATCH", "/api/config/x", `{"a": {"c": 2}}`) }()
	w.ok("PATCH", "/api/config/x", `{"a": {"d": 3}}`)
	<-done
	if got := w.ok("GET", "/api/config/x", "").body; got != `{"a":{"b":1,"c":2,"d":3}}` {
		t.Errorf("concurrent merges: %s", got)
	}
}
