package refserver

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests drive the rows of the project's wire record,
// docs/wire/sessions.md and docs/wire/server.md, against the reference server over HTTP: what
// Jupyter Server 1.23.3 answered to curl. Each test names its rows; the
// differential tests check the same rows against a real server.

const tok = "secrettok"

type answer struct {
	status int
	header http.Header
	body   string
}

// json decodes the body into a generic value.
func (a answer) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(a.body), &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", a.body, err)
	}
	return v
}

func (a answer) obj(t *testing.T) map[string]any {
	t.Helper()
	m, ok := a.json(t).(map[string]any)
	if !ok {
		t.Fatalf("body %q is not an object", a.body)
	}
	return m
}

type wire struct {
	t   *testing.T
	srv *httptest.Server
	ref *Server
}

func newWire(t *testing.T, opts Options) *wire {
	ref := New(opts)
	srv := httptest.NewServer(ref)
	t.Cleanup(srv.Close)
	return &wire{t: t, srv: srv, ref: ref}
}

// call sends method path (relative to the host, prefix included) with an
// optional body; auth is "token" (header), "query", or "" (none).
func (w *wire) call(method, path, body, auth string) answer {
	w.t.Helper()
	url := w.srv.URL + path
	if auth == "query" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		url += sep + "token=" + tok
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		w.t.Fatal(err)
	}
	if auth == "token" {
		req.Header.Set("Authorization", "token "+tok)
	} else if auth != "" && auth != "query" {
		req.Header.Set("Authorization", auth)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (w *wire) ok(method, path, body string) answer {
	w.t.Helper()
	return w.call(method, path, body, "token")
}

// expectError checks a JSON error answer: status, message, reason null.
func expectError(t *testing.T, a answer, status int, message string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d (body %s)", a.status, status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	m := a.obj(t)
	if m["message"] != message {
		t.Errorf("message %q, want %q", m["message"], message)
	}
	if r, ok := m["reason"]; !ok || r != nil {
		t.Errorf("reason = %v (present %v), want null", r, ok)
	}
}

func expectHTML404(t *testing.T, a answer) {
	t.Helper()
	if a.status != 404 || a.header.Get("Content-Type") != "text/html" || !strings.Contains(a.body, "404 : Not Found") {
		t.Errorf("want the HTML 404 page, got %d %q %.60q", a.status, a.header.Get("Content-Type"), a.body)
	}
}

var isoRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// create posts a session and returns its model.
func (w *wire) create(body string) map[string]any {
	w.t.Helper()
	a := w.ok("POST", w.ref.Prefix()+"api/sessions", body)
	if a.status != 201 {
		w.t.Fatalf("create %s: %d %s", body, a.status, a.body)
	}
	return a.obj(w.t)
}

func kernelOf(m map[string]any) map[string]any { return m["kernel"].(map[string]any) }

// TestWireAuth: docs/wire/server.md SV1.
func TestWireAuth(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	if a := w.call("GET", "/api/sessions", "", "token"); a.status != 200 || a.body != "[]" {
		t.Errorf("header token: %d %s", a.status, a.body)
	}
	if a := w.call("GET", "/api/sessions", "", "query"); a.status != 200 {
		t.Errorf("?token=: %d", a.status)
	}
	if a := w.call("POST", "/api/sessions", `{"path": "q", "type": "file"}`, "query"); a.status != 201 {
		t.Errorf("POST ?token=: %d", a.status)
	}
	expectError(t, w.call("GET", "/api/sessions", "", ""), 403, "Forbidden")
	expectError(t, w.call("GET", "/api/sessions", "", "token wrong"), 403, "Forbidden")
	expectError(t, w.call("GET", "/api/sessions", "", "Bearer "+tok), 403, "Forbidden")
	expectError(t, w.call("GET", "/api/status", "", ""), 403, "Forbidden")
	for _, m := range []string{"POST", "PATCH", "DELETE", "PUT"} {
		path := "/api/sessions"
		if m == "PATCH" || m == "DELETE" {
			path += "/a-b-c-d-e"
		}
		expectError(t, w.call(m, path, "{}", ""), 403, "'_xsrf' argument missing from POST")
		expectError(t, w.call(m, path, "{}", "token wrong"), 403, "'_xsrf' argument missing from POST")
	}
	// GET /api needs no token.
	if a := w.call("GET", "/api", "", ""); a.status != 200 || !cmp.Equal(a.obj(t), map[string]any{"version": "1.23.3"}) {
		t.Errorf("GET /api: %d %s", a.status, a.body)
	}
}

// TestWireNoTokenConfigured: docs/wire/server.md SV32 (a server with no
// token is open).
func TestWireNoTokenConfigured(t *testing.T) {
	w := newWire(t, Options{Generation: 1})
	if a := w.call("GET", "/api/sessions", "", ""); a.status != 200 {
		t.Errorf("no token needed: %d", a.status)
	}
}

// TestWireRouting: docs/wire/server.md SV2, SV4.
func TestWireRouting(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for _, p := range []string{"/api/sessions/abc", "/api/sessions/a-b-c-d-e-f", "/api/sessions/a_1-b-c-d-e%41", "/api/kernels/x", "/nope", "/api/sessionsx"} {
		expectHTML404(t, w.call("GET", p, "", ""))
		a := w.call("GET", p, "", "token")
		expectHTML404(t, a)
		if !strings.Contains(a.body, `data-jupyter-api-token="`+tok+`"`) {
			t.Errorf("%s: authenticated 404 page lacks the token, as Jupyter's has it", p)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"PUT", "/api/sessions"}, {"DELETE", "/api/sessions"}, {"PUT", "/api/sessions/a-b-c-d-e"},
		{"POST", "/api/sessions/a-b-c-d-e"}, {"POST", "/api/kernels/a-b-c-d-e"}, {"PATCH", "/api/kernels"},
	} {
		expectError(t, w.ok(c.method, c.path, ""), 405, "Method Not Allowed")
	}
	for path, loc := range map[string]string{
		"/api/sessions/": "/api/sessions", "/api/sessions/?x=1": "/api/sessions?x=1", "/api/": "/api",
	} {
		a := w.ok("GET", path, "")
		if a.status != 302 || a.header.Get("Location") != loc || a.body != "" {
			t.Errorf("GET %s: %d Location %q", path, a.status, a.header.Get("Location"))
		}
	}
	st := w.ok("GET", "/api/status", "").obj(t)
	if again := w.ok("GET", "/api/status", "").obj(t); again["last_activity"] != st["last_activity"] {
		t.Errorf("GET /api/status counted as activity: %v then %v", st["last_activity"], again["last_activity"])
	}
	if st["connections"] != 0.0 || st["kernels"] != 0.0 || !isoRE.MatchString(st["last_activity"].(string)) || !isoRE.MatchString(st["started"].(string)) {
		t.Errorf("status %v", st)
	}
}

// TestWirePrefix: docs/wire/server.md SV2 (base URL prefix) and
// docs/wire/kernelspecs.md KS1.
func TestWirePrefix(t *testing.T) {
	w := newWire(t, Options{Token: tok, BaseURL: "/user/alice/", Generation: 1})
	expectHTML404(t, w.ok("GET", "/api/sessions", ""))
	if a := w.ok("GET", "/user/alice/api/sessions", ""); a.status != 200 {
		t.Fatalf("prefixed list: %d", a.status)
	}
	a := w.ok("POST", "/user/alice/api/sessions", `{"path": "p", "type": "file"}`)
	id := a.obj(t)["id"].(string)
	if a.status != 201 || a.header.Get("Location") != "/user/alice/api/sessions/"+id {
		t.Errorf("create: %d Location %q", a.status, a.header.Get("Location"))
	}
	if a := w.ok("GET", "/user/alice/api/sessions/", ""); a.status != 302 || a.header.Get("Location") != "/user/alice/api/sessions" {
		t.Errorf("trailing slash: %d %q", a.status, a.header.Get("Location"))
	}
	if a := w.ok("POST", "/user/alice/api/kernels", ""); a.status != 201 || !strings.HasPrefix(a.header.Get("Location"), "/user/alice/api/kernels/") {
		t.Errorf("kernel create: %d %q", a.status, a.header.Get("Location"))
	}
	if a := w.call("GET", "/user/alice/api", "", ""); a.status != 200 {
		t.Errorf("version under prefix: %d", a.status)
	}
	specs := w.ok("GET", "/user/alice/api/kernelspecs", "").obj(t)
	res := specs["kernelspecs"].(map[string]any)["python3"].(map[string]any)["resources"].(map[string]any)
	if res["logo-svg"] != "/user/alice/kernelspecs/python3/logo-svg.svg" {
		t.Errorf("resources %v", res)
	}
}

// TestWireCreate: docs/wire/sessions.md S1, S2.
func TestWireCreate(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	a := w.ok("POST", "/api/sessions", `{"path": "foo/nb1.ipynb", "type": "notebook", "name": "nb1"}`)
	m := a.obj(t)
	id := m["id"].(string)
	if a.status != 201 || a.header.Get("Location") != "/api/sessions/"+id || !uuidRE.MatchString(id) {
		t.Fatalf("create: %d %q %s", a.status, a.header.Get("Location"), a.body)
	}
	k := kernelOf(m)
	wantKeys := `{"id":"` + id + `","path":"foo/nb1.ipynb","name":"nb1","type":"notebook","kernel":{"id":"` + k["id"].(string) +
		`","name":"python3","last_activity":"` + k["last_activity"].(string) + `","execution_state":"starting","connections":0},"notebook":{"path":"foo/nb1.ipynb","name":"nb1"}}`
	if a.body != wantKeys {
		t.Errorf("model\n got %s\nwant %s", a.body, wantKeys)
	}
	if !uuidRE.MatchString(k["id"].(string)) || !isoRE.MatchString(k["last_activity"].(string)) {
		t.Errorf("kernel %v", k)
	}

	// The same path again: the existing session, unchanged, same Location.
	b := w.ok("POST", "/api/sessions", `{"path": "foo/nb1.ipynb", "type": "file", "name": "other", "kernel": {"name": "nosuch"}}`)
	if b.status != 201 || b.header.Get("Location") != "/api/sessions/"+id || !cmp.Equal(b.obj(t), m) {
		t.Errorf("existing path: %d %s", b.status, b.body)
	}

	// No name: null; a non-notebook type has no "notebook" key.
	c := w.create(`{"path": "c1", "type": "console"}`)
	if v, ok := c["name"]; !ok || v != nil {
		t.Errorf("name = %v, want null", v)
	}
	if _, ok := c["notebook"]; ok {
		t.Errorf("console session has a notebook key")
	}

	// Attach to a running kernel by id.
	kid := kernelOf(c)["id"].(string)
	d := w.create(`{"path": "d", "type": "file", "kernel": {"id": "` + kid + `", "name": "nosuch"}}`)
	if kernelOf(d)["id"] != kid {
		t.Errorf("kernel.id not attached: %v", kernelOf(d))
	}
	// An unknown kernel id starts a new kernel.
	e := w.create(`{"path": "e", "type": "file", "kernel": {"id": "aaaa-bbbb"}}`)
	if kernelOf(e)["id"] == "aaaa-bbbb" || !uuidRE.MatchString(kernelOf(e)["id"].(string)) {
		t.Errorf("unknown kernel id: %v", kernelOf(e))
	}
	// An empty kernel object picks the default.
	if f := w.create(`{"path": "f", "type": "file", "kernel": {}}`); kernelOf(f)["name"] != "python3" {
		t.Errorf("default kernel: %v", kernelOf(f))
	}

	// A kernelspec that is not installed: 501 with short_message, no reason key.
	n := w.ok("POST", "/api/sessions", `{"path": "c2", "type": "console", "kernel": {"name": "nosuch"}}`)
	if n.status != 501 || !cmp.Equal(n.obj(t), map[string]any{
		"message":       "The 'nosuch' kernel is not available. Please pick another suitable kernel instead, or install that kernel.",
		"short_message": "nosuch not found",
	}) {
		t.Errorf("501: %d %s", n.status, n.body)
	}

	expectError(t, w.ok("POST", "/api/sessions", ""), 400, "No JSON data provided")
	expectError(t, w.ok("POST", "/api/sessions", "null"), 400, "No JSON data provided")
	expectError(t, w.ok("POST", "/api/sessions", "{bad"), 400, "Invalid JSON in body of request")
	expectError(t, w.ok("POST", "/api/sessions", "{} {}"), 400, "Invalid JSON in body of request")
	expectError(t, w.ok("POST", "/api/sessions", `{"type": "x"}`), 400, "Missing field in JSON data: path")
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "x"}`), 400, "Missing field in JSON data: type")
	expectError(t, w.ok("POST", "/api/sessions", `{"path": 5, "type": "file"}`), 500, "'int' object has no attribute 'strip'")

	// Where Jupyter crashes: same status and keys, a clean message, no state change.
	before := w.ok("GET", "/api/sessions", "").body
	for _, body := range []string{`[]`, `"x"`, `{"path": "p5", "type": "file", "kernel": null}`, `{"path": "p6", "type": {"a": 1}}`} {
		a := w.ok("POST", "/api/sessions", body)
		m := a.obj(t)
		if a.status != 500 || m["message"] == "" || m["reason"] != nil {
			t.Errorf("POST %s: %d %s", body, a.status, a.body)
		}
	}
	if after := w.ok("GET", "/api/sessions", "").body; after != before {
		t.Errorf("a refused create changed the sessions")
	}

	// The deprecated notebook field; the Content-Type is ignored.
	req, _ := http.NewRequest("POST", w.srv.URL+"/api/sessions", strings.NewReader(`{"notebook": {"path": "legacy.ipynb"}}`))
	req.Header.Set("Authorization", "token "+tok)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var legacy map[string]any
	json.NewDecoder(resp.Body).Decode(&legacy)
	resp.Body.Close()
	if resp.StatusCode != 201 || legacy["path"] != "legacy.ipynb" || legacy["type"] != "notebook" ||
		!cmp.Equal(legacy["notebook"], map[string]any{"path": "legacy.ipynb", "name": nil}) {
		t.Errorf("legacy create: %d %v", resp.StatusCode, legacy)
	}
}

// TestWireGetListDelete: docs/wire/sessions.md S3, S4, S6.
func TestWireGetListDelete(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	a := w.create(`{"path": "a", "type": "file"}`)
	b := w.create(`{"path": "b", "type": "file"}`)
	id := a["id"].(string)
	if got := w.ok("GET", "/api/sessions/"+id, "").obj(t); !cmp.Equal(got, a) {
		t.Errorf("get %v, want %v", got, a)
	}
	list := w.ok("GET", "/api/sessions", "").json(t).([]any)
	if len(list) != 2 || !cmp.Equal(list[0], any(a)) || !cmp.Equal(list[1], any(b)) {
		t.Errorf("list in creation order: %v", list)
	}
	const unknown = "a-b-c-d-e"
	expectError(t, w.ok("GET", "/api/sessions/"+unknown, ""), 404, "Session not found: session_id='a-b-c-d-e'")
	expectError(t, w.ok("DELETE", "/api/sessions/"+unknown, ""), 404, "Session not found: session_id='a-b-c-d-e'")
	expectError(t, w.ok("PATCH", "/api/sessions/"+unknown, "{}"), 404, "Session not found: session_id='a-b-c-d-e'")
	expectError(t, w.ok("PATCH", "/api/sessions/"+unknown, ""), 400, "No JSON data provided")

	d := w.ok("DELETE", "/api/sessions/"+id, "")
	if d.status != 204 || d.body != "" {
		t.Errorf("delete: %d %q", d.status, d.body)
	}
	kid := kernelOf(a)["id"].(string)
	expectError(t, w.ok("GET", "/api/kernels/"+kid, ""), 404, "Kernel does not exist: "+kid)
	expectError(t, w.ok("GET", "/api/sessions/"+id, ""), 404, "Session not found: session_id='"+id+"'")

	// A session disappears once its kernel is deleted; a direct GET names why.
	bk := kernelOf(b)["id"].(string)
	if a := w.ok("DELETE", "/api/kernels/"+bk, ""); a.status != 204 {
		t.Fatalf("kernel delete: %d", a.status)
	}
	bid := b["id"].(string)
	expectError(t, w.ok("GET", "/api/sessions/"+bid, ""), 404,
		`Session not found: "Kernel '`+bk+`' appears to have been culled or died unexpectedly, invalidating session '`+bid+`'. The session has been removed."`)
	if l := w.ok("GET", "/api/sessions", "").body; l != "[]" {
		t.Errorf("list after kernel delete: %s", l)
	}
	expectError(t, w.ok("DELETE", "/api/kernels/"+bk, ""), 404, "Kernel does not exist: "+bk)

	// 410 when the kernel goes mid-delete; the session is gone afterwards.
	c := w.create(`{"path": "c", "type": "file"}`)
	cid := c["id"].(string)
	if err := w.ref.GoneOnDelete(cid); err != nil {
		t.Fatal(err)
	}
	expectError(t, w.ok("DELETE", "/api/sessions/"+cid, ""), 410, "Kernel deleted before session")
	if l := w.ok("GET", "/api/sessions", "").body; l != "[]" {
		t.Errorf("list after 410: %s", l)
	}
}

// TestWirePatch: docs/wire/sessions.md S5, S7.
func TestWirePatch(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	s := w.create(`{"path": "c1", "type": "console"}`)
	other := w.create(`{"path": "o", "type": "file"}`)
	id := s["id"].(string)
	p := "/api/sessions/" + id
	patch := func(body string) map[string]any {
		t.Helper()
		a := w.ok("PATCH", p, body)
		if a.status != 200 {
			t.Fatalf("PATCH %s: %d %s", body, a.status, a.body)
		}
		return a.obj(t)
	}
	m := patch(`{"name": "renamed", "path": "foo/renamed.ipynb"}`)
	if m["name"] != "renamed" || m["path"] != "foo/renamed.ipynb" || m["type"] != "console" {
		t.Errorf("rename: %v", m)
	}
	m = patch(`{"type": "notebook"}`)
	if !cmp.Equal(m["notebook"], map[string]any{"path": "foo/renamed.ipynb", "name": "renamed"}) {
		t.Errorf("notebook key follows: %v", m)
	}
	if got := patch(`{}`); !cmp.Equal(got, m) {
		t.Errorf("{} changed the session: %v", got)
	}
	if got := patch(`[]`); !cmp.Equal(got, m) {
		t.Errorf("[] changed the session: %v", got)
	}
	if m = patch(`{"type": "console"}`); m["notebook"] != nil {
		t.Errorf("notebook key stays after type console: %v", m)
	}

	oldKernel := kernelOf(m)["id"].(string)
	m = patch(`{"kernel": {"name": "python3"}}`)
	newKernel := kernelOf(m)["id"].(string)
	if newKernel == oldKernel {
		t.Errorf("kernel.name did not start a new kernel")
	}
	expectError(t, w.ok("GET", "/api/kernels/"+oldKernel, ""), 404, "Kernel does not exist: "+oldKernel)

	// By id (which wins over name): move to the other session's kernel.
	target := kernelOf(other)["id"].(string)
	m = patch(`{"kernel": {"id": "` + target + `", "name": "nosuch"}}`)
	if kernelOf(m)["id"] != target {
		t.Errorf("kernel.id: %v", kernelOf(m))
	}
	expectError(t, w.ok("GET", "/api/kernels/"+newKernel, ""), 404, "Kernel does not exist: "+newKernel)

	expectError(t, w.ok("PATCH", p, `{"kernel": {"id": "nope"}}`), 400, "No such kernel: nope")
	expectError(t, w.ok("PATCH", p, ""), 400, "No JSON data provided")
	expectError(t, w.ok("PATCH", p, "null"), 400, "No JSON data provided")
	expectError(t, w.ok("PATCH", p, "{bad"), 400, "Invalid JSON in body of request")
	before := w.ok("GET", p, "").body
	for _, body := range []string{`{"kernel": {"name": "nosuch"}, "name": "x"}`, `{"kernel": null}`, `5`, `{"name": [1]}`} {
		a := w.ok("PATCH", p, body)
		if a.status != 500 || a.obj(t)["message"] == "" {
			t.Errorf("PATCH %s: %d %s", body, a.status, a.body)
		}
	}
	if after := w.ok("GET", p, "").body; after != before {
		t.Errorf("a refused PATCH changed the session:\n%s\n%s", before, after)
	}

	// The server stores whatever JSON was sent.
	m = patch(`{"name": 5, "path": null, "type": "notebook"}`)
	if m["name"] != 5.0 || m["path"] != nil || !cmp.Equal(m["notebook"], map[string]any{"path": nil, "name": 5.0}) {
		t.Errorf("odd values: %v", m)
	}
	if m = patch(`{"name": true}`); m["name"] != 1.0 {
		t.Errorf("bool stored as %v, want 1 as SQLite does", m["name"])
	}
	if !strings.Contains(w.ok("GET", "/api/sessions", "").body, `"name":1`) {
		t.Errorf("odd session missing from list")
	}
}

// TestWireKernels: docs/wire/kernels.md K1, docs/wire/kernelspecs.md KS1
// and docs/wire/server.md SV4.
func TestWireKernels(t *testing.T) {
	w := newWire(t, Options{Token: tok, KernelSpecs: []string{"python3", "ir"}, Generation: 1})
	a := w.ok("POST", "/api/kernels", `{"name": "ir"}`)
	k := a.obj(t)
	if a.status != 201 || a.header.Get("Location") != "/api/kernels/"+k["id"].(string) || k["name"] != "ir" ||
		k["execution_state"] != "starting" || k["connections"] != 0.0 {
		t.Errorf("start: %d %s", a.status, a.body)
	}
	for _, body := range []string{"", "{}"} {
		if k := w.ok("POST", "/api/kernels", body).obj(t); k["name"] != "python3" {
			t.Errorf("POST %q: default kernel %v", body, k["name"])
		}
	}
	if a := w.ok("POST", "/api/kernels", `{"name": "nosuch"}`); a.status != 500 {
		t.Errorf("unknown kernelspec: %d", a.status)
	}
	if l := w.ok("GET", "/api/kernels", "").json(t).([]any); len(l) != 3 {
		t.Errorf("%d kernels, want 3", len(l))
	}
	specs := w.ok("GET", "/api/kernelspecs", "").obj(t)
	if specs["default"] != "python3" || len(specs["kernelspecs"].(map[string]any)) != 2 {
		t.Errorf("kernelspecs %v", specs)
	}
	py := specs["kernelspecs"].(map[string]any)["python3"].(map[string]any)
	if py["name"] != "python3" || py["spec"].(map[string]any)["display_name"] != "Python 3 (ipykernel)" {
		t.Errorf("python3 spec %v", py)
	}
	if v := w.ok("GET", "/api", "").obj(t); v["version"] != Version1 {
		t.Errorf("version %v", v)
	}
}

// TestFaults: the controls nbservtest documents.
func TestFaults(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.ref.FailNext(2, Fault{Method: "GET", Path: "/api/sessions/*", Status: 503, Header: http.Header{"Retry-After": {"1"}}})
	if a := w.ok("GET", "/api/sessions", ""); a.status != 200 {
		t.Errorf("fault matched another path: %d", a.status)
	}
	for range 2 {
		a := w.ok("GET", "/api/sessions/a-b-c-d-e", "")
		if a.status != 503 || a.header.Get("Retry-After") != "1" || a.obj(t)["message"] != "Service Unavailable" {
			t.Errorf("fault: %d %s", a.status, a.body)
		}
	}
	if a := w.ok("GET", "/api/sessions/a-b-c-d-e", ""); a.status != 404 {
		t.Errorf("fault outlived its count: %d", a.status)
	}
	w.ref.FailNext(1, Fault{Status: 502, Body: "<html>bad gateway</html>", Header: http.Header{"Content-Type": {"text/html"}}})
	if a := w.ok("POST", "/api/sessions", ""); a.status != 502 || a.body != "<html>bad gateway</html>" || a.header.Get("Content-Type") != "text/html" {
		t.Errorf("custom body: %d %s", a.status, a.body)
	}

	s := w.create(`{"path": "k", "type": "file"}`)
	if err := w.ref.KillSessionKernel(s["id"].(string)); err != nil {
		t.Fatal(err)
	}
	if l := w.ok("GET", "/api/sessions", "").body; l != "[]" {
		t.Errorf("killed kernel's session still listed: %s", l)
	}
	if err := w.ref.KillSessionKernel("a-b-c-d-e"); !errors.Is(err, ErrNoSuchSession) {
		t.Errorf("KillSessionKernel of an unknown session: %v", err)
	}
	// KillKernel takes a kernel id: every session on the kernel goes.
	a := w.create(`{"path": "ka", "type": "file"}`)
	kid := kernelOf(a)["id"].(string)
	w.create(`{"path": "kb", "type": "file", "kernel": {"id": "` + kid + `"}}`)
	if err := w.ref.KillKernel(kid); err != nil {
		t.Fatal(err)
	}
	if l := w.ok("GET", "/api/sessions", "").body; l != "[]" {
		t.Errorf("sessions of a killed kernel still listed: %s", l)
	}
	if err := w.ref.KillKernel(kid); !errors.Is(err, ErrNoSuchKernel) {
		t.Errorf("KillKernel of an unknown kernel: %v", err)
	}

	s = w.create(`{"path": "idle", "type": "file"}`)
	last := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	if err := w.ref.SetKernelActivity(kernelOf(s)["id"].(string), "idle", last); err != nil {
		t.Fatal(err)
	}
	k := kernelOf(w.ok("GET", "/api/sessions/"+s["id"].(string), "").obj(t))
	if k["execution_state"] != "idle" || k["last_activity"] != "2026-01-02T03:04:05.000006Z" {
		t.Errorf("activity: %v", k)
	}

	w.ref.SetLatency(50 * time.Millisecond)
	start := time.Now()
	w.ok("GET", "/api", "")
	if time.Since(start) < 50*time.Millisecond {
		t.Errorf("latency not applied")
	}
	w.ref.SetLatency(0)
	if n := w.ref.Requests(); n < 10 {
		t.Errorf("Requests() = %d", n)
	}
}

// With no kernel start delay, creates for one path are atomic
// (docs/wire/sessions.md S9); with one, they race as
// Jupyter's do (TestConcurrentCreatesWithKernelStartDelay).
func TestConcurrentCreatesForOnePathYieldOneSession(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := w.call("POST", "/api/sessions", `{"path": "same.ipynb", "type": "notebook"}`, "token")
			var m map[string]any
			json.Unmarshal([]byte(a.body), &m)
			ids[i], _ = m["id"].(string)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("concurrent creates gave different sessions: %v", ids)
		}
	}
	if l := w.ok("GET", "/api/kernels", "").json(t).([]any); len(l) != 1 {
		t.Errorf("%d kernels started, want 1", len(l))
	}
}
