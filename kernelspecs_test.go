package nbserv

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Kernelspec bodies as Jupyter Server 1.23.3 sent them
// (docs/wire/kernelspecs.md KS2, KS3, KS4, KS5, KS7).
const (
	wireKernelSpecs   = `{"default": "python3", "kernelspecs": {"python3": {"name": "python3", "spec": {"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "env": {}, "display_name": "Python 3 (ipykernel)", "language": "python", "interrupt_mode": "signal", "metadata": {"debugger": true}}, "resources": {"logo-svg": "/kernelspecs/python3/logo-svg.svg", "logo-64x64": "/kernelspecs/python3/logo-64x64.png", "logo-32x32": "/kernelspecs/python3/logo-32x32.png"}}}}`
	wireKernelSpec    = `{"name": "python3", "spec": {"argv": ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "env": {}, "display_name": "Python 3 (ipykernel)", "language": "python", "interrupt_mode": "signal", "metadata": {"debugger": true}}, "resources": {"logo-svg": "/kernelspecs/python3/logo-svg.svg", "logo-64x64": "/kernelspecs/python3/logo-64x64.png", "logo-32x32": "/kernelspecs/python3/logo-32x32.png"}}`
	wireNoKernelSpec  = `{"message": "Kernel spec nosuch not found", "reason": null}`
	testKernelSpecURL = "http://jupyter.test/api/kernelspecs/python3"
)

func wantPython3() *KernelSpec {
	return &KernelSpec{
		Name: "python3",
		KernelSpecFile: KernelSpecFile{
			DisplayName: "Python 3 (ipykernel)", Language: "python", InterruptMode: "signal",
			Argv:     []string{"/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"},
			Env:      map[string]string{},
			Metadata: map[string]any{"debugger": true},
		},
		Resources: map[string]string{
			"logo-svg":   "/kernelspecs/python3/logo-svg.svg",
			"logo-64x64": "/kernelspecs/python3/logo-64x64.png",
			"logo-32x32": "/kernelspecs/python3/logo-32x32.png",
		},
	}
}

func TestKernelSpecsList(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/api/kernelspecs", 200, wireKernelSpecs)
	specs, err := c.KernelSpecs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := &KernelSpecs{Default: "python3", KernelSpecs: map[string]*KernelSpec{"python3": wantPython3()}}
	if diff := cmp.Diff(want, specs); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	// The fields of kernel.json are promoted.
	if py := specs.KernelSpecs["python3"]; py.DisplayName != "Python 3 (ipykernel)" || py.Argv[0] != "/usr/bin/python3" {
		t.Errorf("promoted fields: %q %v", py.DisplayName, py.Argv)
	}
}

func TestKernelSpecsGet(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testKernelSpecURL, 200, wireKernelSpec)
	m.on("GET", "http://jupyter.test/api/kernelspecs/nosuch", 404, wireNoKernelSpec)
	ks, err := c.KernelSpecs.Get(context.Background(), "python3")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantPython3(), ks); diff != "" {
		t.Errorf("Get (-want +got):\n%s", diff)
	}
	var e *Error
	if _, err := c.KernelSpecs.Get(context.Background(), "nosuch"); !errors.Is(err, ErrNotFound) || !errors.As(err, &e) ||
		e.Message != "Kernel spec nosuch not found" {
		t.Errorf("Get nosuch: %v", err)
	}
}

// A kernel.json is written by hand or by installers: a spec whose fields
// have odd types is kept, with the odd fields in Malformed, and the other
// specs are unaffected.
func TestKernelSpecsKeepOddSpecs(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	odd := `{"name": "odd", "spec": {"argv": "python -m odd", "env": {"N": 5}, "display_name": "Odd", "language": "odd", "codemirror_mode": {"name": "ipython", "version": 3}, "help_links": [{"text": "Docs", "url": "https://example.org"}]}, "resources": {}}`
	m.on("GET", "http://jupyter.test/api/kernelspecs", 200,
		`{"default": "python3", "kernelspecs": {"python3": `+wireKernelSpec+`, "odd": `+odd+`, "worse": {"name": "worse", "spec": 7}}}`)
	specs, err := c.KernelSpecs.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantPython3(), specs.KernelSpecs["python3"]); diff != "" {
		t.Errorf("python3 (-want +got):\n%s", diff)
	}
	o := specs.KernelSpecs["odd"]
	if o.Name != "odd" || o.DisplayName != "Odd" || o.Language != "odd" || o.Argv != nil || o.Env != nil ||
		string(o.CodemirrorMode) != `{"name": "ipython", "version": 3}` || len(o.HelpLinks) != 1 || o.HelpLinks[0].URL != "https://example.org" {
		t.Errorf("odd: %+v", o)
	}
	if string(o.Malformed["spec.argv"]) != `"python -m odd"` || string(o.Malformed["spec.env"]) != `{"N": 5}` || len(o.Malformed) != 2 {
		t.Errorf("odd.Malformed: %s", o.Malformed)
	}
	if w := specs.KernelSpecs["worse"]; w.Name != "worse" || string(w.Malformed["spec"]) != "7" {
		t.Errorf("worse: %+v", w)
	}
}

func TestKernelSpecsRefuseNonObjects(t *testing.T) {
	for _, body := range []string{`[]`, `{"default": "python3", "kernelspecs": {"python3": null}}`,
		`{"default": "python3", "kernelspecs": {"python3": [1]}}`, `{"default": 3}`, `{"kernelspecs": `} {
		c, m := newMock(t, "http://jupyter.test")
		m.on("GET", "http://jupyter.test/api/kernelspecs", 200, body)
		if specs, err := c.KernelSpecs.List(context.Background()); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("List of %s = %+v, %v; want ErrMalformedResponse", body, specs, err)
		}
	}
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testKernelSpecURL, 200, "null")
	if ks, err := c.KernelSpecs.Get(context.Background(), "python3"); !errors.Is(err, ErrMalformedResponse) || errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("Get of null = %+v, %v; want ErrMalformedResponse", ks, err)
	}
}

func TestKernelSpecNames(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", `=~^http://jupyter\.test/api/kernelspecs/`, 200, wireKernelSpec)
	for _, name := range []string{"python3", "ir-4.2", "my_kernel", "Julia-1.9"} {
		if _, err := c.KernelSpecs.Get(context.Background(), name); err != nil {
			t.Errorf("Get(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", ".", "..", "a/b", "a b", "é", "a%2Fb", "a?b"} {
		if _, err := c.KernelSpecs.Get(context.Background(), name); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Get(%q) = %v", name, err)
		}
		if _, err := c.KernelSpecs.Resource(context.Background(), name, "logo-64x64.png"); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Resource(%q) = %v", name, err)
		}
	}
	if n := len(m.requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestKernelSpecResource(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("x", 100)
	c, m := newMock(t, "http://jupyter.test/user/alice")
	m.on("GET", "http://jupyter.test/user/alice/kernelspecs/python3/logo-64x64.png", 200, png,
		"Content-Type", "image/png", "Content-Length", itoa(len(png)), "Cache-Control", "max-age=2592000")
	res, err := c.KernelSpecs.Resource(context.Background(), "python3", "logo-64x64.png")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(res)
	if cerr := res.Close(); err != nil || cerr != nil || string(body) != png || res.ContentType != "image/png" || res.Size != int64(len(png)) {
		t.Errorf("Resource: %q (%s, size %d), %v, %v", body, res.ContentType, res.Size, err, cerr)
	}
	if r := m.requests()[0]; r.Method != "GET" || r.Header.Get("Authorization") != "token "+testToken {
		t.Errorf("request %+v", r)
	}
}

func TestKernelSpecResourceErrors(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/kernelspecs/python3/nosuch.png", 404, wireHTML404, "Content-Type", "text/html")
	_, err := c.KernelSpecs.Resource(context.Background(), "python3", "nosuch.png")
	var e *Error
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &e) || strings.Contains(string(e.Body), testToken) || strings.Contains(err.Error(), testToken) {
		t.Errorf("unknown file: %v", err)
	}
	for _, file := range []string{"", "/etc/passwd", "../python2/kernel.json", "a/../b", "a//b", "./x", "x/.", `a\b`, "a\x00"} {
		if _, err := c.KernelSpecs.Resource(context.Background(), "python3", file); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("Resource(%q) = %v", file, err)
		}
	}
	if n := len(m.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestKernelSpecResourcePathsAreEscaped(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/kernelspecs/python3/sub/logo%20big%3F.png", 200, "x", "Content-Type", "image/png")
	res, err := c.KernelSpecs.Resource(context.Background(), "python3", "sub/logo big?.png")
	if err != nil {
		t.Fatal(err)
	}
	res.Close()
	if res.Size != -1 { // no Content-Length
		t.Errorf("Size = %d, want -1", res.Size)
	}
}

func TestResourceFile(t *testing.T) {
	ks := &KernelSpec{Resources: map[string]string{
		"logo-64x64": "/user/alice/kernelspecs/python3/logo-64x64.png",
		"kernel.js":  "/kernelspecs/my%20kernel/kernel.js",
		"empty":      "",
	}}
	for key, want := range map[string]string{"logo-64x64": "logo-64x64.png", "kernel.js": "kernel.js"} {
		if got, ok := ks.ResourceFile(key); !ok || got != want {
			t.Errorf("ResourceFile(%q) = %q, %v", key, got, ok)
		}
	}
	for _, key := range []string{"logo-svg", "empty"} {
		if got, ok := ks.ResourceFile(key); ok {
			t.Errorf("ResourceFile(%q) = %q, true", key, got)
		}
	}
}

// The kernelspec decoder must never panic, whatever a server sends.
func FuzzDecodeKernelSpec(f *testing.F) {
	for _, s := range []string{wireKernelSpec, `{}`, `null`, `[]`, `{"spec": 7}`, `{"spec": {"env": {"N": 5}, "argv": "x"}}`,
		`{"name": ["x"], "resources": {"a": 1}, "spec": {"metadata": [], "help_links": [5]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ks, err := decodeKernelSpec(body)
		if err == nil && ks == nil {
			t.Fatal("nil kernelspec without an error")
		}
	})
}

// An accepted kernelspec file path stays inside the kernelspec's directory
// once the server has unescaped it.
func FuzzEscapeFile(f *testing.F) {
	for _, s := range []string{"logo-64x64.png", "a/b", "../x", "a/../b", "%2e%2e/x", "a b?.png", "/etc/passwd", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, file string) {
		escaped, err := escapeFile(file)
		if err != nil {
			return
		}
		unescaped, err := url.PathUnescape(escaped)
		if err != nil || unescaped != file {
			t.Fatalf("escapeFile(%q) = %q, which unescapes to %q (%v)", file, escaped, unescaped, err)
		}
		if strings.HasPrefix(unescaped, "/") || strings.Contains(escaped, "?") || strings.Contains(escaped, "#") {
			t.Fatalf("escapeFile(%q) = %q", file, escaped)
		}
		for _, seg := range strings.Split(unescaped, "/") {
			if seg == "" || seg == "." || seg == ".." {
				t.Fatalf("escapeFile(%q) let segment %q through", file, seg)
			}
		}
	})
}
