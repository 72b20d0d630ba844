package refserver

import (
	"regexp"
	"strings"
	"testing"
)

// GET /api/spec.yaml, the login page and GET /api, as recorded in
// docs/wire/server.md SV5-SV14.

func TestSpecYAML(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	a := w.ok("GET", "/api/spec.yaml", "")
	if a.status != 200 || a.header.Get("Content-Type") != "text/x-yaml" || !strings.HasPrefix(a.body, "swagger: \"2.0\"\n") ||
		a.header.Get("Etag") == "" || a.header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("spec: %d %v %.40q", a.status, a.header, a.body)
	}
	// It lists every route the server answers (and, being plain YAML,
	// has no tabs).
	for _, p := range []string{"/api", "/api/status", "/api/spec.yaml", "/api/sessions", "/api/sessions/{session}", "/api/kernels",
		"/api/kernels/{kernel}", "/api/kernels/{kernel}/interrupt", "/api/kernels/{kernel}/restart", "/api/kernelspecs",
		"/api/kernelspecs/{name}", "/kernelspecs/{name}/{file}", "/api/config/{section}", "/api/terminals", "/api/terminals/{terminal}"} {
		if !strings.Contains(a.body, "\n  "+p+":\n") {
			t.Errorf("spec lacks %s", p)
		}
	}
	if got := regexp.MustCompile(`(?m)^  /\S*:$`).FindAllString(a.body, -1); len(got) != 15 || strings.Contains(a.body, "\t") {
		t.Errorf("spec paths %v", got)
	}
	if a := w.call("GET", "/api/spec.yaml", "", "query"); a.status != 200 {
		t.Errorf("?token=: %d", a.status)
	}
	if a := w.call("GET", "/api/spec.yaml?x=1", "", ""); a.status != 302 || a.header.Get("Location") != "/login?next=%2Fapi%2Fspec.yaml%3Fx%3D1" {
		t.Errorf("no token: %d %q", a.status, a.header.Get("Location"))
	}
	// HEAD is a 500 in Jupyter 1.23.3, token or not.
	for _, auth := range []string{"", "token"} {
		if a := w.call("HEAD", "/api/spec.yaml", "", auth); a.status != 500 || a.header.Get("Content-Type") != "text/html" {
			t.Errorf("HEAD (auth %q): %d %q", auth, a.status, a.header.Get("Content-Type"))
		}
	}
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		expectHTMLError(t, w.call(m, "/api/spec.yaml", "", ""), 403, "Forbidden", "&#39;_xsrf&#39; argument missing from POST")
		expectHTMLError(t, w.ok(m, "/api/spec.yaml", ""), 405, "Method Not Allowed", "")
	}
	expectHTMLError(t, w.call("OPTIONS", "/api/spec.yaml", "", ""), 405, "Method Not Allowed", "")
	if a := w.ok("GET", "/api/spec.yaml/", ""); a.status != 302 || a.header.Get("Location") != "/api/spec.yaml" {
		t.Errorf("trailing slash: %d %q", a.status, a.header.Get("Location"))
	}
}

func TestSpecIsNotActivity(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	st := w.ok("GET", "/api/status", "").obj(t)
	w.ok("GET", "/api/spec.yaml", "")
	w.ok("GET", "/kernelspecs/python3/logo-64x64.png", "")
	w.call("GET", "/api", "", "")
	if again := w.ok("GET", "/api/status", "").obj(t); again["last_activity"] != st["last_activity"] {
		t.Errorf("a page or a tokenless GET /api counted as activity")
	}
	w.ok("GET", "/api", "")
	if again := w.ok("GET", "/api/status", "").obj(t); again["last_activity"] == st["last_activity"] {
		t.Errorf("GET /api with a token is activity in Jupyter 1.23.3")
	}
}

func TestLoginPage(t *testing.T) {
	w := newWire(t, Options{Token: tok, BaseURL: "/user/ci/", Generation: 1})
	a := w.call("GET", "/user/ci/login?next=%2Fuser%2Fci%2Fapi%2Fspec.yaml", "", "")
	if a.status != 200 || a.header.Get("Content-Type") != "text/html; charset=UTF-8" ||
		!strings.Contains(a.body, `action="/user/ci/login?next=%2Fuser%2Fci%2Fapi%2Fspec.yaml"`) || !strings.Contains(a.body, `name="password"`) {
		t.Errorf("login page: %d %q %s", a.status, a.header.Get("Content-Type"), a.body)
	}
	if strings.Contains(a.body, tok) {
		t.Error("the login page shows the token")
	}
	// With a token, on to next, if next is below the prefix.
	for next, loc := range map[string]string{
		"%2Fuser%2Fci%2Fapi%2Fspec.yaml": "/user/ci/api/spec.yaml", "": "/user/ci/", "%2Fuser%2Fci": "/user/ci",
		"%2Fother": "/user/ci/", "http%3A%2F%2Fevil.example%2Fuser%2Fci%2F": "/user/ci/", "%2F%2Fevil.example%2Fuser%2Fci%2F": "/user/ci/",
		"%2Fuser%2Fci%2F%5C%5Cevil": "/user/ci/%5C%5Cevil",
	} {
		a := w.ok("GET", "/user/ci/login?next="+next, "")
		if a.status != 302 || a.header.Get("Location") != loc {
			t.Errorf("next=%s: %d %q, want %q", next, a.status, a.header.Get("Location"), loc)
		}
	}
	expectHTMLError(t, w.call("POST", "/user/ci/login", "", ""), 403, "Forbidden", "&#39;_xsrf&#39; argument missing from POST")
	if a := w.call("HEAD", "/user/ci/login", "", ""); a.status != 405 || a.header.Get("Content-Type") != "text/html" {
		t.Errorf("HEAD: %d %q", a.status, a.header.Get("Content-Type"))
	}
}

func TestPyUnquote(t *testing.T) {
	for in, want := range map[string]string{"a%20b": "a b", "a%zzb": "a%zzb", "%": "%", "a%2": "a%2", "%2e%2E": "..", "caf%C3%A9": "café", "a+b": "a+b"} {
		if got, ok := pyUnquote(in); got != want || !ok {
			t.Errorf("pyUnquote(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := pyUnquote("caf%C3"); ok || got != "caf\xc3" {
		t.Errorf("invalid UTF-8: %q %v", got, ok)
	}
}

func TestPyBytesRepr(t *testing.T) {
	for in, want := range map[string]string{"\xff": `b'\xff'`, "a'b": `b"a'b"`, `a'"b`: `b'a\'"b'`, "t\tn\n\\": `b't\tn\n\\'`, "\x7f~": `b'\x7f~'`} {
		if got := pyBytesRepr(in); got != want {
			t.Errorf("pyBytesRepr(%q) = %s, want %s", in, got, want)
		}
	}
}
