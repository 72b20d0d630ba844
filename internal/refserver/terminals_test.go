package refserver

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// /api/terminals, as recorded in docs/wire/terminals.md T1-T9.

func termNames(t *testing.T, w *wire) []any {
	t.Helper()
	var names []any
	for _, m := range w.ok("GET", "/api/terminals", "").json(t).([]any) {
		names = append(names, m.(map[string]any)["name"])
	}
	return names
}

func TestTerminalNames(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	if a := w.ok("GET", "/api/terminals", ""); a.status != 200 || a.body != "[]" {
		t.Fatalf("empty list: %d %s", a.status, a.body)
	}
	for i, body := range []string{"", "{}", `{"cwd": "nowhere/at/all"}`} {
		a := w.ok("POST", "/api/terminals", body)
		m := a.obj(t)
		if a.status != 200 || a.header.Get("Location") != "" || m["name"] != itoa(i+1) || !isoRE.MatchString(m["last_activity"].(string)) || len(m) != 2 {
			t.Errorf("POST %q: %d %q %s", body, a.status, a.header.Get("Location"), a.body)
		}
	}
	two := w.ok("GET", "/api/terminals/2", "")
	if m := two.obj(t); two.status != 200 || m["name"] != "2" {
		t.Errorf("GET 2: %d %s", two.status, two.body)
	}
	if a := w.ok("DELETE", "/api/terminals/2", ""); a.status != 204 || a.body != "" {
		t.Errorf("DELETE 2: %d %s", a.status, a.body)
	}
	expectError(t, w.ok("GET", "/api/terminals/2", ""), 404, "Terminal not found: 2")
	expectError(t, w.ok("DELETE", "/api/terminals/2", ""), 404, "Terminal not found: 2")
	// The lowest free number, placed last.
	if m := w.ok("POST", "/api/terminals", "").obj(t); m["name"] != "2" {
		t.Errorf("after deleting 2: %v", m)
	}
	if got := termNames(t, w); !cmp.Equal(got, []any{"1", "3", "2"}) {
		t.Errorf("list order %v", got)
	}
}

func TestTerminalGivenNames(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.ok("POST", "/api/terminals", "")
	w.ok("POST", "/api/terminals", "")
	if m := w.ok("POST", "/api/terminals", `{"name": "foo"}`).obj(t); m["name"] != "foo" {
		t.Errorf("named: %v", m)
	}
	// A name in use replaces that terminal where it stands.
	if a := w.ok("POST", "/api/terminals", `{"name": "1"}`); a.status != 200 {
		t.Errorf("reuse 1: %d", a.status)
	}
	if got := termNames(t, w); !cmp.Equal(got, []any{"1", "2", "foo"}) {
		t.Errorf("after reusing 1: %v", got)
	}
	// Names that are not strings are Python dict keys: 5 is not "5", and
	// 5.0 is 5 (listed under its first spelling); they cannot be reached
	// by URL.
	for _, body := range []string{`{"name": 5}`, `{"name": null}`, `{"name": 5.0}`, `{"name": true}`} {
		if a := w.ok("POST", "/api/terminals", body); a.status != 200 {
			t.Errorf("POST %s: %d %s", body, a.status, a.body)
		}
	}
	if m := w.ok("POST", "/api/terminals", "").obj(t); m["name"] != "3" {
		t.Errorf("next automatic name: %v", m)
	}
	if got := termNames(t, w); !cmp.Equal(got, []any{"1", "2", "foo", 5.0, nil, true, "3"}) {
		t.Errorf("names %v", got)
	}
	expectError(t, w.ok("GET", "/api/terminals/5", ""), 404, "Terminal not found: 5")
	expectHTML404(t, w.ok("GET", "/api/terminals/a-b", ""))
}

func TestTerminalBadBodies(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	// Falsy bodies are no body.
	for _, body := range []string{"[]", "0", "null", `""`, "false"} {
		if a := w.ok("POST", "/api/terminals", body); a.status != 200 {
			t.Errorf("POST %s: %d %s", body, a.status, a.body)
		}
	}
	n := len(termNames(t, w))
	for body, why := range map[string]string{
		`[1]`:                               "must be a mapping, not list",
		`["cwd"]`:                           "list indices must be integers",
		`"x"`:                               "must be a mapping, not str",
		`"a cwd"`:                           "string indices must be integers",
		`5`:                                 "argument of type 'int' is not iterable",
		`true`:                              "argument of type 'bool' is not iterable",
		`{"cwd": 5}`:                        "not int",
		`{"cwd": null}`:                     "not NoneType",
		`{"width": "a"}`:                    "a real number is required, not str",
		`{"height": null}`:                  "a real number is required, not NoneType",
		`{"name": [1]}`:                     "unhashable type: 'list'",
		`{"name": {"a": 1}}`:                "unhashable type: 'dict'",
		`{"winwidth": "a", "winheight": 3}`: "a real number is required, not str",
	} {
		a := w.ok("POST", "/api/terminals", body)
		m := a.obj(t)
		if a.status != 500 || m["message"] != "Unhandled error" || !strings.Contains(m["traceback"].(string), why) {
			t.Errorf("POST %s: %d %s, want a crash saying %q", body, a.status, a.body, why)
		}
	}
	for _, body := range []string{`{"width": 100, "height": 30.5}`, `{"winwidth": "a"}`, `{"width": true}`, `{"foo": 1}`} {
		if a := w.ok("POST", "/api/terminals", body); a.status != 200 {
			t.Errorf("POST %s: %d %s", body, a.status, a.body)
		}
	}
	if got := len(termNames(t, w)); got != n+4 {
		t.Errorf("%d terminals, want %d: a refused POST created one", got, n+4)
	}
	expectError(t, w.ok("POST", "/api/terminals", "{bad"), 400, "Invalid JSON in body of request")
}

func TestTerminalRouting(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.ok("POST", "/api/terminals", "")
	expectError(t, w.call("GET", "/api/terminals", "", ""), 403, "Forbidden")
	expectError(t, w.call("GET", "/api/terminals/1", "", ""), 403, "Forbidden")
	expectError(t, w.call("POST", "/api/terminals", "", ""), 403, "'_xsrf' argument missing from POST")
	expectError(t, w.call("DELETE", "/api/terminals/1", "", ""), 403, "'_xsrf' argument missing from POST")
	expectError(t, w.call("PUT", "/api/terminals", "", ""), 403, "'_xsrf' argument missing from POST")
	expectError(t, w.ok("PUT", "/api/terminals", ""), 405, "Method Not Allowed")
	expectError(t, w.ok("DELETE", "/api/terminals", ""), 405, "Method Not Allowed")
	// A terminal's URL takes GET and DELETE only, and says so before it
	// looks at the token.
	for _, m := range []string{"POST", "PATCH", "PUT"} {
		expectError(t, w.call(m, "/api/terminals/1", "", ""), 405, "Method Not Allowed")
		expectError(t, w.ok(m, "/api/terminals/1", ""), 405, "Method Not Allowed")
	}
	// After a trailing slash only GET is redirected.
	for m, status := range map[string]int{"POST": 403, "DELETE": 403, "HEAD": 405, "OPTIONS": 405} {
		a := w.ok(m, "/api/terminals/1/", "")
		if a.status != status || a.header.Get("Content-Type") != "text/html; charset=UTF-8" || (m != "HEAD" && !strings.Contains(a.body, "<title>"+itoa(status)+": ")) {
			t.Errorf("%s /api/terminals/1/: %d %q %s", m, a.status, a.header.Get("Content-Type"), a.body)
		}
	}
	if names := termNames(t, w); len(names) != 1 {
		t.Errorf("terminals %v", names)
	}
}

func TestNoTerminals(t *testing.T) {
	w := newWire(t, Options{Token: tok, NoTerminals: true, Generation: 1})
	for _, c := range []struct{ method, path string }{{"GET", "/api/terminals"}, {"POST", "/api/terminals"}, {"GET", "/api/terminals/1"}, {"DELETE", "/api/terminals/1"}} {
		expectHTML404(t, w.ok(c.method, c.path, ""))
	}
	if a := w.call("GET", "/api", "", ""); a.status != 200 {
		t.Errorf("GET /api: %d", a.status)
	}
}

func TestPyKey(t *testing.T) {
	same := [][]any{{"5"}, {5.0, num("5"), num("5.0"), num("5e0"), num("500e-2")}, {true, num("1"), num("1.0")},
		{false, num("0"), num("-0"), num("0.0"), num("-0.0")}, {nil}, {num("1.5"), num("15e-1")}, {num("1e400"), num("2e400")}}
	var keys []string
	for _, group := range same {
		first := ""
		for i, v := range group {
			k, err := pyKey(v)
			if err != nil {
				t.Fatalf("pyKey(%v): %v", v, err)
			}
			if i == 0 {
				first = k
				keys = append(keys, k)
			} else if k != first {
				t.Errorf("pyKey(%v) = %q, pyKey(%v) = %q: Python finds them equal", group[0], first, v, k)
			}
		}
	}
	for i := range keys {
		for j := range i {
			if keys[i] == keys[j] {
				t.Errorf("%v and %v share the key %q", same[i][0], same[j][0], keys[i])
			}
		}
	}
}

func num(s string) json.Number { return json.Number(s) }
