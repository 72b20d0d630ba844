package nbserv

import (
	"bytes"
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// The contents decoders take whatever a server holds: they must never
// panic, and must agree with encoding/json on what JSON is.

func FuzzDecodeContents(f *testing.F) {
	for _, name := range []string{"notebook-get.json", "base64-get.json", "directory-get.json", "text-get.json"} {
		if b, err := os.ReadFile("testdata/contents/" + name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{`{}`, `{"content":[1]}`, `{"format":"base64","content":"!!"}`, `{"size":1e400,"writable":"yes","created":"x"}`, `[]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeContents(data)
		if err == nil && m == nil {
			t.Fatal("nil model without an error")
		}
		if err != nil && json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
			t.Fatalf("a JSON object refused: %v", err)
		}
	})
}

// Paths: whatever the user gives, the request can only reach the file it
// names, inside /api/contents, or is refused.
func FuzzContentsPath(f *testing.F) {
	for _, s := range []string{"a b/c#d?e%f.ipynb", "/lead/trail/", "../x", "a/./b", "a//b", "checkpoints", "d/checkpoints/x",
		"trust", "é/\x00", "..", "...", "a/..b", "%2e%2e", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		clean, err := cleanPath("path", p, true)
		if err != nil {
			if !strings.Contains(p, "\x00") && !slices.Contains(strings.Split(p, "/"), "..") {
				t.Fatalf("%q refused: %v", p, err)
			}
			return
		}
		segs := strings.Split(clean, "/")
		if clean != "" && (slices.Contains(segs, "") || slices.Contains(segs, ".") || slices.Contains(segs, "..")) {
			t.Fatalf("%q cleaned to %q", p, clean)
		}
		u, err := url.Parse("http://h/base/api/contents/" + escapePath(clean) + "/checkpoints")
		if err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.Path != "/base/api/contents/"+clean+"/checkpoints" {
			t.Fatalf("%q: URL %s has path %q, query %q, fragment %q", p, u, u.Path, u.RawQuery, u.Fragment)
		}
		// On the raw URL, where Jupyter routes, no segment of the file's
		// path is "checkpoints" or "trust", or "." or "..".
		for _, seg := range strings.Split(escapePath(clean), "/") {
			if seg == "checkpoints" || seg == "trust" || seg == "." || seg == ".." {
				t.Fatalf("%q: raw segment %q", p, seg)
			}
		}
	})
}
