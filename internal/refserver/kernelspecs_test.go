package refserver

import (
	"crypto/sha512"
	"encoding/hex"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// GET /api/kernelspecs/{name} and /kernelspecs/{name}/{file}, as recorded
// in docs/wire/kernelspecs.md KS5-KS16.

func TestKernelspecByName(t *testing.T) {
	w := newWire(t, Options{Token: tok, BaseURL: "/user/x/", KernelSpecs: []string{"python3", "ir"}, Generation: 1})
	list := w.ok("GET", "/user/x/api/kernelspecs", "").obj(t)["kernelspecs"].(map[string]any)
	for _, name := range []string{"python3", "ir"} {
		a := w.ok("GET", "/user/x/api/kernelspecs/"+name, "")
		if a.status != 200 || a.header.Get("Content-Type") != "application/json" || !cmp.Equal(a.obj(t), list[name]) {
			t.Errorf("%s: %d %s, the list has %v", name, a.status, a.body, list[name])
		}
	}
	// Looked up ignoring case; the model echoes the name as asked.
	m := w.ok("GET", "/user/x/api/kernelspecs/PYTHON3", "").obj(t)
	if m["name"] != "PYTHON3" || m["resources"].(map[string]any)["logo-64x64"] != "/user/x/kernelspecs/PYTHON3/logo-64x64.png" ||
		m["spec"].(map[string]any)["display_name"] != "Python 3 (ipykernel)" {
		t.Errorf("PYTHON3: %v", m)
	}
	for raw, name := range map[string]string{"nosuch": "nosuch", "a.b": "a.b", "py%20thon": "py thon", "py%2520thon": "py thon", "py%2Bthon": "py+thon"} {
		expectError(t, w.ok("GET", "/user/x/api/kernelspecs/"+raw, ""), 404, "Kernel spec "+name+" not found")
	}
	expectError(t, w.ok("GET", "/user/x/api/kernelspecs/%ff", ""), 400, `Invalid unicode in kernel_name: b'\xff'`)
	expectError(t, w.call("GET", "/user/x/api/kernelspecs/python3", "", ""), 403, "Forbidden")
	expectError(t, w.ok("POST", "/user/x/api/kernelspecs/python3", ""), 405, "Method Not Allowed")
	expectHTML404(t, w.ok("GET", "/user/x/api/kernelspecs/python3/x", ""))
	expectHTML404(t, w.ok("GET", "/user/x/api/kernelspecs/py+thon", "")) // "+" is outside the route
	if a := w.ok("GET", "/user/x/api/kernelspecs/python3/", ""); a.status != 302 || a.header.Get("Location") != "/user/x/api/kernelspecs/python3" {
		t.Errorf("trailing slash: %d %q", a.status, a.header.Get("Location"))
	}
}

func TestKernelspecFiles(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for file, size := range map[string]int{"logo-32x32.png": 32, "logo-64x64.png": 64} {
		a := w.ok("GET", "/kernelspecs/python3/"+file, "")
		if a.status != 200 || a.header.Get("Content-Type") != "image/png" || a.header.Get("Cache-Control") != "max-age=2592000" ||
			a.header.Get("Accept-Ranges") != "bytes" || a.header.Get("Last-Modified") == "" {
			t.Errorf("%s: %d %v", file, a.status, a.header)
		}
		img, err := png.Decode(strings.NewReader(a.body))
		if err != nil || img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Errorf("%s is not a %d×%d PNG: %v", file, size, size, err)
		}
		sum := sha512.Sum512([]byte(a.body))
		if a.header.Get("Etag") != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("%s: Etag %q is not the body's SHA-512", file, a.header.Get("Etag"))
		}
	}
	svg := w.ok("GET", "/kernelspecs/python3/logo-svg.svg", "")
	if svg.status != 200 || svg.header.Get("Content-Type") != "image/svg+xml" || svg.header.Get("Cache-Control") != "" ||
		!strings.Contains(svg.body, "<svg") {
		t.Errorf("svg: %d %v %.40q", svg.status, svg.header, svg.body)
	}
	// kernel.json is served too: the spec without jupyter_client's defaults.
	kj := w.ok("GET", "/kernelspecs/python3/kernel.json", "")
	want := map[string]any{"argv": []any{"/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
		"display_name": "Python 3 (ipykernel)", "language": "python", "metadata": map[string]any{"debugger": true}}
	if kj.status != 200 || kj.header.Get("Content-Type") != "application/json" || !cmp.Equal(kj.obj(t), want) {
		t.Errorf("kernel.json: %d %s", kj.status, kj.body)
	}
	// The same file by other spellings of its path.
	for _, p := range []string{"/kernelspecs/PYTHON3/logo-64x64.png", "/kernelspecs/python3/logo-64x64.png/", "/kernelspecs/python3/%6Cogo-64x64.png",
		"/kernelspecs/python3/%2e%2e/python3/logo-64x64.png", "/kernelspecs/python3/logo-64x64.png?x=1"} {
		if a := w.ok("GET", p, ""); a.status != 200 || a.header.Get("Content-Type") != "image/png" {
			t.Errorf("%s: %d", p, a.status)
		}
	}
}

func TestKernelspecFileErrors(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for _, p := range []string{"/kernelspecs/python3/nope.png", "/kernelspecs/nosuch/logo-64x64.png", "/kernelspecs/python3/LOGO-64X64.PNG",
		"/kernelspecs/python3/sub/x.png", "/kernelspecs/python3", "/kernelspecs/py%20thon/x"} {
		a := w.ok("GET", p, "")
		expectHTML404(t, a)
		if a.header.Get("Cache-Control") != "" {
			t.Errorf("%s: an error page has Cache-Control", p)
		}
	}
	for p, msg := range map[string]string{
		"/kernelspecs/python3/":                             " is not a file",
		"/kernelspecs/python3/%2e%2e/%2e%2e/etc/passwd":     "../../etc/passwd is not in root static directory",
		"/kernelspecs/python3/%2e%2e/x":                     "../x is not in root static directory",
		"/kernelspecs/python3//logo-64x64.png":              "/logo-64x64.png is not in root static directory",
		"/kernelspecs/python3/%3Cb%3E%26%22'/%2e%2e/%2e%2e": `&lt;b&gt;&amp;&quot;&#39;/../.. is not in root static directory`,
	} {
		expectHTMLError(t, w.ok("GET", p, ""), 403, "Forbidden", msg)
	}
	expectHTMLError(t, w.ok("GET", "/kernelspecs/python3/%ff", ""), 400, "Bad Request", `Invalid unicode in path: b&#39;\xff&#39;`)
	// Any method but GET and HEAD: 405, token or not.
	for _, m := range []string{"POST", "PUT", "DELETE", "OPTIONS"} {
		expectHTMLError(t, w.call(m, "/kernelspecs/python3/logo-64x64.png", "", ""), 405, "Method Not Allowed", "")
		expectHTMLError(t, w.ok(m, "/kernelspecs/python3/logo-64x64.png", ""), 405, "Method Not Allowed", "")
	}
}

func TestKernelspecFileConditional(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	full := w.ok("GET", "/kernelspecs/python3/logo-64x64.png", "")
	get := func(h http.Header, method string) *http.Response {
		req, _ := http.NewRequest(method, w.srv.URL+"/kernelspecs/python3/logo-64x64.png", nil)
		req.Header = h
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get(http.Header{"Range": {"bytes=0-9"}}, "GET"); r.StatusCode != 206 || r.Header.Get("Content-Range") != "bytes 0-9/"+itoa(len(full.body)) {
		t.Errorf("range: %d %q", r.StatusCode, r.Header.Get("Content-Range"))
	}
	if r := get(http.Header{"If-None-Match": {full.header.Get("Etag")}}, "GET"); r.StatusCode != 304 {
		t.Errorf("If-None-Match: %d", r.StatusCode)
	}
	if r := get(http.Header{}, "HEAD"); r.StatusCode != 200 || r.Header.Get("Content-Length") != itoa(len(full.body)) || r.Header.Get("Content-Type") != "image/png" {
		t.Errorf("HEAD: %d %v", r.StatusCode, r.Header)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestKernelspecFileWithoutToken(t *testing.T) {
	w := newWire(t, Options{Token: tok, BaseURL: "/user/ci/", Generation: 1})
	for path, next := range map[string]string{
		"/user/ci/kernelspecs/python3/logo-64x64.png":              "%2Fuser%2Fci%2Fkernelspecs%2Fpython3%2Flogo-64x64.png",
		"/user/ci/kernelspecs/nosuch/x?token=bad&x=a%20b":          "%2Fuser%2Fci%2Fkernelspecs%2Fnosuch%2Fx%3Ftoken%3Dbad%26x%3Da%2520b",
		"/user/ci/kernelspecs/python3/logo-64x64.png?token=" + tok: "",
	} {
		a := w.call("GET", path, "", "")
		if next == "" { // the query token is enough
			if a.status != 200 {
				t.Errorf("%s: %d", path, a.status)
			}
			continue
		}
		if a.status != 302 || a.header.Get("Location") != "/user/ci/login?next="+next || a.body != "" ||
			a.header.Get("Content-Type") != "text/html; charset=UTF-8" {
			t.Errorf("%s: %d Location %q", path, a.status, a.header.Get("Location"))
		}
	}
	if a := w.call("GET", "/user/ci/kernelspecs/python3/logo-64x64.png", "", "Bearer "+tok); a.status != 302 {
		t.Errorf("Bearer: %d", a.status)
	}
}

// expectHTMLError checks one of Jupyter's HTML error pages: status,
// heading and the message under "The error was:" (none when msg is "").
func expectHTMLError(t *testing.T, a answer, status int, reason, msg string) {
	t.Helper()
	if a.status != status || a.header.Get("Content-Type") != "text/html" || !strings.Contains(a.body, "<h1>"+itoa(status)+" : "+reason+"</h1>") {
		t.Errorf("want the HTML %d page, got %d %q %.200q", status, a.status, a.header.Get("Content-Type"), a.body)
		return
	}
	got := ""
	if _, after, ok := strings.Cut(a.body, `<pre class="traceback">`); ok {
		got, _, _ = strings.Cut(after, "</pre>")
	}
	if got != msg {
		t.Errorf("%d page says %q, want %q", status, got, msg)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
