package refserver

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// These tests drive the Jupyter Server 2.x personality against the facts
// docs/wire/jupyter-server-2.md records; each names its rows. The
// differential tests check the same facts against a real 2.21.1.

func newWire2(t *testing.T) *wire { return newWire(t, Options{Token: tok, Generation: 2}) }

// docs/wire/jupyter-server-2.md G4, G5.
func TestGen2VersionAndBearer(t *testing.T) {
	w := newWire2(t)
	if a := w.call("GET", "/api", "", ""); a.body != `{"version":"2.21.1"}` {
		t.Errorf("GET /api: %s", a.body)
	}
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER\t" + tok} {
		if a := w.call("GET", "/api/sessions", "", h); a.status != 200 {
			t.Errorf("%q: %d %s", h, a.status, a.body)
		}
	}
	if a := w.call("POST", "/api/kernels", `{}`, "Bearer "+tok); a.status != 201 {
		t.Errorf("POST with Bearer: %d %s", a.status, a.body)
	}
	expectError(t, w.call("GET", "/api/sessions", "", "Bearer wrong"), 403, "Forbidden")
	// Generation 1 still refuses it.
	if a := newWire(t, Options{Token: tok, Generation: 1}).call("GET", "/api/sessions", "", "Bearer "+tok); a.status != 403 {
		t.Errorf("1.x with Bearer: %d", a.status)
	}
}

// The generation is 2 unless Options.Generation says otherwise; Version
// only changes what GET /api reports.
func TestGenerationIsChosenOneWay(t *testing.T) {
	for _, c := range []struct {
		opts    Options
		gen     int
		version string
	}{
		{Options{}, 2, Version2},
		{Options{Generation: 1}, 1, Version1},
		{Options{Generation: 2}, 2, Version2},
		{Options{Generation: -1}, 1, Version1},
		{Options{Generation: 3}, 2, Version2},
		{Options{Version: "1.23.3"}, 2, "1.23.3"},
		{Options{Version: "2.14.0", Generation: 1}, 1, "2.14.0"},
	} {
		w := newWire(t, c.opts)
		if g := w.ref.Generation(); g != c.gen {
			t.Errorf("%+v: generation %d, want %d", c.opts, g, c.gen)
		}
		if v := w.ok("GET", "/api", "").obj(t)["version"]; v != c.version {
			t.Errorf("%+v: GET /api reports %v, want %s", c.opts, v, c.version)
		}
	}
}

// docs/wire/jupyter-server-2.md G6.
func TestGen2Me(t *testing.T) {
	w := newWire2(t)
	a := w.ok("GET", "/api/me?permissions=%7B%22contents%22%3A%5B%22read%22%5D%2C%22x%22%3A%5B%22y%22%5D%7D", "")
	m := a.obj(t)
	id := m["identity"].(map[string]any)
	if u, _ := id["username"].(string); len(u) != 32 || !strings.HasPrefix(id["name"].(string), "Anonymous ") ||
		id["name"] != id["display_name"] || id["avatar_url"] != nil || id["color"] != nil {
		t.Errorf("identity %v", id)
	}
	perms := m["permissions"].(map[string]any)
	if len(perms) != 3 || len(perms["updatable_fields"].([]any)) != 5 || perms["x"].([]any)[0] != "y" {
		t.Errorf("permissions %v", perms)
	}
	if w.ok("GET", "/api/me", "").obj(t)["identity"].(map[string]any)["username"] == id["username"] {
		t.Error("a second request kept the anonymous identity; 2.x makes a new one")
	}
	expectError(t, w.ok("GET", "/api/me?permissions=5", ""), 400, `permissions should be a JSON dict of {"resource": ["action",]}, got '5'`)
	expectError(t, w.ok("GET", "/api/me?permissions=%7Bbad", ""), 400, `permissions should be a JSON dict of {"resource": ["action",]}, got '{bad'`)
	expectError(t, w.call("GET", "/api/me", "", ""), 403, "Forbidden")
	expectError(t, w.ok("PATCH", "/api/me", `{"username": "z"}`), 400, "Field username is not updatable")
	expectError(t, w.ok("PATCH", "/api/me", `{}`), 400, "Invalid or missing JSON body")
	if p := w.ok("PATCH", "/api/me", `{"display_name": "x"}`).obj(t); p["status"] != "success" || p["identity"].(map[string]any)["display_name"] != "x" {
		t.Errorf("PATCH: %v", p)
	}
	expectHTML404(t, newWire(t, Options{Token: tok, Generation: 1}).ok("GET", "/api/me", ""))
}

// docs/wire/jupyter-server-2.md G11, G7 (restart failure).
func TestGen2ErrorBodies(t *testing.T) {
	w := newWire2(t)
	m := w.ok("POST", "/api/kernels", `{"name": "nosuch"}`).obj(t)
	if tb, ok := m["traceback"]; !ok || tb != "" || m["message"] != "Unhandled error" {
		t.Errorf("unhandled error: %v", m)
	}
	a := w.ok("POST", "/api/kernels/a-b-c-d-e/restart", "")
	expectError(t, a, 500, "Exception restarting kernel")
	if _, ok := a.obj(t)["traceback"]; ok {
		t.Errorf("restart failure has a traceback: %s", a.body)
	}
}

// docs/wire/jupyter-server-2.md G7: kernel_id in POST /api/kernels.
func TestGen2KernelID(t *testing.T) {
	w := newWire2(t)
	const id = "11111111-2222-4333-8444-555555555555"
	a := w.ok("POST", "/api/kernels", `{"kernel_id": "`+id+`"}`)
	if a.status != 201 || a.obj(t)["id"] != id || a.header.Get("Location") != "/api/kernels/"+id {
		t.Fatalf("%d %s %q", a.status, a.body, a.header.Get("Location"))
	}
	again := w.ok("POST", "/api/kernels", `{"kernel_id": "`+id+`", "name": "nosuch"}`)
	if again.status != 201 || again.obj(t)["last_activity"] != a.obj(t)["last_activity"] {
		t.Errorf("same id again: %d %s", again.status, again.body)
	}
	e := w.ok("POST", "/api/kernels", `{"kernel_id": ""}`)
	if e.status != 201 || e.obj(t)["id"] != "" || e.header.Get("Location") != "/api/kernels" {
		t.Errorf("empty id: %d %s %q", e.status, e.body, e.header.Get("Location"))
	}
	if list := w.ok("GET", "/api/kernels", "").json(t).([]any); len(list) != 2 {
		t.Errorf("kernels: %v", list)
	}
	if a := w.ok("POST", "/api/kernels", `{"path": 5}`); a.status != 201 {
		t.Errorf("path 5: %d %s", a.status, a.body)
	}
}

// docs/wire/jupyter-server-2.md G9.
func TestGen2Sessions(t *testing.T) {
	w := newWire2(t)
	expectError(t, w.ok("POST", "/api/sessions", `{"path": "odd", "type": "file", "name": 5}`), 500,
		"join() argument must be str, bytes, or os.PathLike object, not 'int'")
	if list := w.ok("GET", "/api/kernels", "").body; list != "[]" {
		t.Errorf("a kernel was started for the refused create: %s", list)
	}
	if k := kernelOf(w.create(`{"path": "nu", "type": "file", "kernel": {"id": "my-kernel"}}`)); k["id"] != "my-kernel" {
		t.Errorf("kernel id asked for: %v", k)
	}
	if k := kernelOf(w.create(`{"path": "ek", "type": "file", "kernel": {"id": "", "name": ""}}`)); k["id"] != "" || k["name"] != "python3" {
		t.Errorf("empty kernel id: %v", k)
	}
	s := w.create(`{"path": "p.ipynb", "type": "notebook", "name": "n"}`)
	sid := s["id"].(string)
	a := w.ok("PATCH", "/api/sessions/"+sid, `{"kernel": {"name": "nosuch"}}`)
	if m := a.obj(t); a.status != 501 || m["message"] != `The 'nosuch' kernel could not be started: 'No such kernel named nosuch'` ||
		m["short_message"] != "Error starting kernel nosuch" {
		t.Errorf("PATCH unknown kernelspec: %d %s", a.status, a.body)
	}
	a = w.ok("PATCH", "/api/sessions/"+sid, `{"name": 5}`)
	if m := a.obj(t); a.status != 500 || m["traceback"] != "" {
		t.Errorf("PATCH name 5: %d %s", a.status, a.body)
	}
	if got := w.ok("GET", "/api/sessions/"+sid, "").obj(t); got["name"] != float64(5) || kernelOf(got)["id"] != kernelOf(s)["id"] {
		t.Errorf("the change is stored, the kernel kept: %v", got)
	}
	if a := w.ok("PATCH", "/api/sessions/"+sid, `{"name": "n", "path": 7}`); a.status != 200 {
		t.Errorf("string name, numeric path: %d %s", a.status, a.body)
	}
	if a := w.ok("PATCH", "/api/sessions/"+sid, `{"name": null}`); a.status != 500 {
		t.Errorf("null name beside path 7: %d %s", a.status, a.body)
	}
	leg := w.create(`{"notebook": {"name": "leg-a.ipynb", "path": "leg-b.ipynb"}}`)
	if leg["path"] != "leg-a.ipynb" || leg["type"] != "notebook" {
		t.Errorf("legacy create: %v", leg)
	}
}

// TestGen2EmptyKernelID: 2.21.1 keeps an empty client-chosen kernel id
// (docs/wire/jupyter-server-2.md G40). A PATCH to {"kernel": {"id": ""}}
// is refused while no such kernel runs, and once one does, moves the
// session onto it and shuts the session's old kernel down; a create
// naming it attaches to it.
func TestGen2EmptyKernelID(t *testing.T) {
	w := newWire2(t)
	s1 := w.create(`{"path": "b.ipynb", "type": "notebook", "kernel": {"name": "python3"}}`)
	sid1, old := s1["id"].(string), kernelOf(s1)["id"].(string)
	expectError(t, w.ok("PATCH", "/api/sessions/"+sid1, `{"kernel": {"id": ""}}`), 400, "No such kernel: ")
	s2 := w.create(`{"path": "a.ipynb", "type": "notebook", "kernel": {"id": "", "name": "python3"}}`)
	if id := kernelOf(s2)["id"]; id != "" {
		t.Fatalf("create with an empty kernel id: kernel %q", id)
	}
	for i := 0; i < 2; i++ { // the second is a no-op: already there
		a := w.ok("PATCH", "/api/sessions/"+sid1, `{"kernel": {"id": ""}}`)
		if a.status != 200 || kernelOf(a.obj(t))["id"] != "" {
			t.Fatalf("PATCH onto the empty id (%d): %d %s", i, a.status, a.body)
		}
	}
	if got := kernelOf(w.ok("GET", "/api/sessions/"+sid1, "").obj(t))["id"]; got != "" {
		t.Errorf("the session's kernel after the move: %q", got)
	}
	if a := w.ok("GET", "/api/kernels/"+old, ""); a.status != 404 {
		t.Errorf("the old kernel after the move: %d %s", a.status, a.body)
	}
	if list := w.ok("GET", "/api/kernels", "").json(t).([]any); len(list) != 1 || list[0].(map[string]any)["id"] != "" {
		t.Errorf("kernels after the move: %v", list)
	}
	if id := kernelOf(w.create(`{"path": "c.ipynb", "type": "notebook", "kernel": {"id": "", "name": "python3"}}`))["id"]; id != "" {
		t.Errorf("a second create naming the empty id: kernel %q", id)
	}
	if list := w.ok("GET", "/api/sessions", "").json(t).([]any); len(list) != 3 {
		t.Errorf("sessions: %v", list)
	}
	// 1.23.3 never runs a kernel whose id is "": always 400.
	w1 := newWire(t, Options{Token: tok, Generation: 1})
	w1.create(`{"path": "a.ipynb", "type": "notebook", "kernel": {"id": "", "name": "python3"}}`)
	sid := w1.create(`{"path": "b.ipynb", "type": "notebook"}`)["id"].(string)
	expectError(t, w1.ok("PATCH", "/api/sessions/"+sid, `{"kernel": {"id": ""}}`), 400, "No such kernel: ")
}

// docs/wire/jupyter-server-2.md G14: ipykernel 7's kernelspec.
func TestGen2Kernelspec(t *testing.T) {
	w := newWire2(t)
	spec := w.ok("GET", "/api/kernelspecs/python3", "").obj(t)["spec"].(map[string]any)
	argv := spec["argv"].([]any)
	if len(argv) != 6 || argv[1] != "-Xfrozen_modules=off" || spec["kernel_protocol_version"] != "5.5" ||
		spec["metadata"].(map[string]any)["supported_encryption"].([]any)[0] != "curve" {
		t.Errorf("spec %v", spec)
	}
	if f := w.ok("GET", "/kernelspecs/python3/kernel.json", "").obj(t); f["kernel_protocol_version"] != "5.5" {
		t.Errorf("kernel.json %v", f)
	}
}

// docs/wire/jupyter-server-2.md G10.
func TestGen2Contents(t *testing.T) {
	w := newWire2(t)
	put := w.ok("PUT", "/api/contents/h.txt", `{"type": "file", "format": "text", "content": "hello\n"}`).obj(t)
	if h, ok := put["hash"]; !ok || h != nil || put["hash_algorithm"] != nil {
		t.Errorf("PUT model: %v", put)
	}
	dir := w.ok("GET", "/api/contents", "").obj(t)
	if child := dir["content"].([]any)[0].(map[string]any); child["hash"] != nil || !hasKey(child, "hash_algorithm") || !hasKey(dir, "hash") {
		t.Errorf("listing: %v", dir)
	}
	sum := sha256.Sum256([]byte("hello\n"))
	a := w.ok("GET", "/api/contents/h.txt?hash=1&content=0", "")
	if m := a.obj(t); m["hash"] != hex.EncodeToString(sum[:]) || m["hash_algorithm"] != "sha256" || a.header.Get("Last-Modified") == "" {
		t.Errorf("?hash=1: %s", a.body)
	}
	expectError(t, w.ok("GET", "/api/contents/h.txt?hash=yes", ""), 400, "Hash argument 'yes' is invalid. It must be '0' or '1'.")
	expectError(t, w.ok("GET", "/api/contents?hash=1", ""), 500, "Keys unexpectedly None: ['hash', 'hash_algorithm']")
	nf := w.ok("GET", "/api/contents/nosuch", "")
	if nf.status != 404 || nf.body != "file or directory '/nosuch' does not exist" || nf.header.Get("Content-Type") != "application/json" {
		t.Errorf("missing: %d %q %q", nf.status, nf.header.Get("Content-Type"), nf.body)
	}
	expectError(t, w.ok("GET", "/api/contents/../x", ""), 404, "../x is outside root contents directory")
	for _, body := range []string{"", `{"type": "bogus"}`, `{"type": 5}`, `[]`} {
		if a := w.ok("POST", "/api/contents", body); a.status != 201 || a.obj(t)["type"] != "file" {
			t.Errorf("POST %q: %d %s", body, a.status, a.body)
		}
	}
	if a := w.ok("POST", "/api/contents", `{"type": "directory"}`); a.status != 201 || a.obj(t)["type"] != "directory" {
		t.Errorf("POST directory: %d %s", a.status, a.body)
	}
	if m := newWire(t, Options{Token: tok, Generation: 1}).ok("PUT", "/api/contents/h.txt", `{"type": "file", "format": "text", "content": ""}`).obj(t); hasKey(m, "hash") {
		t.Errorf("1.x model has hash: %v", m)
	}
}

// docs/wire/jupyter-server-2.md G15: contents writes.
func TestGen2ContentsWrites(t *testing.T) {
	w := newWire2(t)
	w.ok("PUT", "/api/contents/t.txt", `{"type": "file", "format": "text", "content": "hello\n"}`)
	expectError(t, w.ok("PATCH", "/api/contents/nope.txt", `{"path": "q.txt"}`), 404, "File or directory does not exist: nope.txt")
	expectError(t, w.ok("PATCH", "/api/contents/t.txt", `{"path": "nodir/q.txt"}`), 404, "File or directory does not exist: t.txt")
	expectError(t, w.ok("POST", "/api/contents", `{"copy_from": "nope.txt"}`), 404, "No such file or directory: nope.txt")
	expectError(t, w.ok("PUT", "/api/contents/w.txt", `{"type": "weird", "content": "x"}`), 400, "Must specify format of file contents as 'text' or 'base64'")
	if a := w.ok("PUT", "/api/contents/w.txt", `{"type": "weird", "format": "text", "content": "x"}`); a.status != 201 || a.obj(t)["type"] != "file" {
		t.Errorf("PUT of an unknown type with a format: %d %s", a.status, a.body)
	}
	w.ok("PUT", "/api/contents/bad.ipynb", `{"type": "file", "format": "text", "content": "not json"}`)
	expectError(t, w.ok("GET", "/api/contents/bad.ipynb", ""), 400,
		`Unreadable Notebook: /bad.ipynb NotJSONError("Notebook does not appear to be JSON: 'not json'")`)
	expectError(t, w.ok("DELETE", "/api/contents/nope.txt", ""), 404, "File or directory does not exist: /nope.txt")
	w.ok("PUT", "/api/contents/sub", `{"type": "directory"}`)
	w.ok("PUT", "/api/contents/sub/in.txt", `{"type": "file", "format": "text", "content": "x"}`)
	for _, want := range []string{"sub-Copy1", "sub-Copy2"} {
		a := w.ok("POST", "/api/contents", `{"copy_from": "sub"}`)
		if m := a.obj(t); a.status != 201 || m["path"] != want || m["type"] != "directory" || m["content"] != nil || a.header.Get("Location") != "/api/contents/"+want {
			t.Errorf("copy a directory: %d %s", a.status, a.body)
		}
	}
	if a := w.ok("GET", "/api/contents/sub-Copy1/in.txt", ""); a.status != 200 || a.obj(t)["content"] != "x" {
		t.Errorf("the copy's file: %d %s", a.status, a.body)
	}
	for _, want := range []string{"sub/sub", "sub/sub-Copy1"} { // into itself: one copy, as copytree lists first
		if a := w.ok("POST", "/api/contents/sub", `{"copy_from": "sub"}`); a.status != 201 || a.obj(t)["path"] != want {
			t.Errorf("copy a directory into itself: %d %s", a.status, a.body)
		}
	}
	if a := w.ok("GET", "/api/contents/sub/sub", ""); len(a.obj(t)["content"].([]any)) != 1 {
		t.Errorf("the copy in itself: %s", a.body)
	}
	if a := w.ok("GET", "/api/contents/made/x.txt/checkpoints", ""); a.status != 200 || a.body != "[]" {
		t.Errorf("checkpoints in a missing dir: %d %s", a.status, a.body)
	}
	if a := w.ok("GET", "/api/contents/made", ""); a.status != 404 {
		t.Errorf("listing checkpoints created their directory: %d %s", a.status, a.body)
	}
}

// docs/wire/jupyter-server-2.md G12, G13.
func TestGen2Pages(t *testing.T) {
	w := newWire2(t)
	a := w.ok("GET", "/nope", "")
	if a.status != 404 || strings.Count(a.body, tok) != 1 {
		t.Errorf("404 page: %d, token %d times", a.status, strings.Count(a.body, tok))
	}
	if a := w.ok("FOO", "/nope", ""); a.status != 405 || a.body != "" {
		t.Errorf("FOO page: %d %q", a.status, a.body)
	}
	expectError(t, w.call("GET", "/api/sessions?token=%ff", "", ""), 400, `Invalid unicode in token: b'\xff'`)
	if a := w.ok("GET", "/api/sessions/a-b-c-d-e", ""); a.header.Values("Access-Control-Allow-Origin") != nil {
		t.Errorf("an error answer with Access-Control-Allow-Origin: %v", a.header)
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }
