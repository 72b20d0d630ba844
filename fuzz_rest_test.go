package nbserv

import (
	"net/url"
	"strings"
	"testing"
)

// The decoders and argument checks of the services beyond sessions must
// never panic, and what they accept must be safe to send.

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

func FuzzParseServerVersion(f *testing.F) {
	for _, s := range []string{"1.23.3", "2.0.0rc1", "2.15.0.dev0", "3", "1.2.", "", "v1", "1.2.3.4+x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseServerVersion(s)
		if err != nil {
			return
		}
		if v.Raw != s || v.Major < 0 || v.Minor < 0 || v.Patch < 0 || !v.AtLeast(v.Major, v.Minor) || v.AtLeast(v.Major+1, 0) {
			t.Fatalf("ParseServerVersion(%q) = %+v", s, v)
		}
		if !strings.HasSuffix(s, v.Suffix) {
			t.Fatalf("suffix %q is not the end of %q", v.Suffix, s)
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
