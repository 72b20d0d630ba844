package nbformat

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// The notebook codec takes whatever a server (or a file) holds: it must
// never panic, must agree with encoding/json on what a JSON object is, and
// a decoded notebook must encode to a fixed point.

func notebookSeeds(f *testing.F) {
	if b, err := os.ReadFile("../testdata/contents/notebook-get.json"); err == nil {
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
		nb, err := Parse(data)
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
		nb2, err := Parse(e1)
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
