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

// The notebook codec and the contents decoders take whatever a server (or
// a file) holds: they must never panic, must agree with encoding/json on
// what JSON is, and a decoded notebook must encode to a fixed point.

func notebookSeeds(f *testing.F) {
	if b, err := os.ReadFile("testdata/contents/notebook-get.json"); err == nil {
		var m struct{ Content json.RawMessage }
		if json.Unmarshal(b, &m) == nil {
			f.Add([]byte(m.Content))
		}
	}
	for _, s := range []string{`{}`, `{"cells":[]}`, `{"cells":[{"cell_type":"code","source":["a\n","b"]}]}`,
		`{"cells":[{"cell_type":"markdown","outputs":[{"output_type":"stream"}],"execution_count":null}]}`,
		`{"cells":[{"source":5,"source":"x","Source":1}],"metadata":{"kernelspec":null}}`,
		`{"cells":[1,{"cell_type":"raw"}],"nbformat":4.0}`, `{"metadata":{"language_info":{"codemirror_mode":{"a":[]}}}}`,
		`{"cells":[{"outputs":[{"data":{"x":[1]},"traceback":["a",2]}]}]}`, `{"\u0063ells":[],"a\"b":"\ud800"}`,
		`{"cells":[{"attachments":{"a":{"b":"c"}},"id":""}]}`} {
		f.Add([]byte(s))
	}
}

func FuzzNotebookRoundTrip(f *testing.F) {
	notebookSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		nb, err := ParseNotebook(data)
		if err != nil {
			if json.Valid(data) && bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("{")) {
				t.Fatalf("a JSON object refused: %v", err)
			}
			return
		}
		e1, err := nb.MarshalJSON()
		if err != nil {
			t.Fatalf("encoding a decoded notebook: %v", err)
		}
		if !json.Valid(e1) {
			t.Fatalf("encoded invalid JSON: %s", e1)
		}
		nb2, err := ParseNotebook(e1)
		if err != nil {
			t.Fatalf("decoding the encoded notebook: %v\n%s", err, e1)
		}
		e2, err := nb2.MarshalJSON()
		if err != nil || !bytes.Equal(e1, e2) {
			t.Fatalf("not stable:\n%s\n%s (%v)", e1, e2, err)
		}
		keepsUnknownKeys(t, data, e1)
	})
}

// keepsUnknownKeys checks that every key the model does not know, at the
// top and in each cell, comes out with the same value.
func keepsUnknownKeys(t *testing.T, in, out []byte) {
	type doc struct {
		top   map[string]json.RawMessage
		cells []map[string]json.RawMessage
	}
	read := func(b []byte) (d doc, ok bool) {
		if json.Unmarshal(b, &d.top) != nil {
			return d, false
		}
		var cells []json.RawMessage
		if json.Unmarshal(d.top["cells"], &cells) != nil {
			return d, true
		}
		for _, c := range cells {
			var m map[string]json.RawMessage
			if json.Unmarshal(c, &m) != nil {
				return doc{top: d.top}, true // not all objects: the cells are kept raw
			}
			d.cells = append(d.cells, m)
		}
		return d, true
	}
	// encoding/json matches keys case-insensitively and so cannot be the
	// judge of documents whose keys differ only by case; nor of invalid
	// UTF-8, which it rewrites.
	if !utf8Valid(in) || foldedDuplicates(in) {
		return
	}
	a, ok := read(in)
	if !ok {
		return
	}
	b, _ := read(out)
	same := func(where string, x, y map[string]json.RawMessage, known []string) {
		for k, v := range x {
			if slices.Contains(known, k) {
				continue
			}
			w, ok := y[k]
			if !ok {
				t.Fatalf("%s: unknown key %q lost", where, k)
			}
			var gv, gw any
			if json.Unmarshal(v, &gv) == nil && json.Unmarshal(w, &gw) == nil && !jsonEqual(gv, gw) {
				t.Fatalf("%s: key %q changed from %s to %s", where, k, v, w)
			}
		}
	}
	same("notebook", a.top, b.top, []string{"cells", "metadata", "nbformat", "nbformat_minor"})
	if len(a.cells) == len(b.cells) {
		for i := range a.cells {
			same("cell", a.cells[i], b.cells[i], []string{"id", "cell_type", "source", "metadata", "attachments", "execution_count", "outputs"})
		}
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\uFFFD") == string(b) }

func foldedDuplicates(b []byte) bool {
	var keys []string
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if s, ok := tok.(string); ok {
			keys = append(keys, strings.ToLower(s))
		}
	}
	slices.Sort(keys)
	return len(slices.Compact(slices.Clone(keys))) != len(keys)
}

func FuzzJSONReader(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e-3,"x\u00e9",true,false,null]}`, `"\ud83d\ude00"`, `01`, `[1,]`, "\"\xff\"", `{"a" 1}`, `-0`, `1e+`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", data, got, want)
		}
		var want string
		if json.Unmarshal(data, &want) == nil {
			r := jsonReader{data: data}
			r.ws()
			if got := r.readString(); r.err != nil || got != want {
				t.Fatalf("readString(%q) = %q, %v; want %q", data, got, r.err, want)
			}
		}
	})
}

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
