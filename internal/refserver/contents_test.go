package refserver

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// call sends one request to s and decodes a JSON answer.
func call(t testing.TB, s *Server, method, target, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, target, rd))
	var m map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &m)
	return rec, m
}

func TestContentsBasics(t *testing.T) {
	for _, backend := range []string{"memory", "directory"} {
		t.Run(backend, func(t *testing.T) {
			root := ""
			if backend == "directory" {
				root = t.TempDir()
			}
			s := New(Options{BaseURL: "/user/x/", ContentsRoot: root, Generation: 1})
			rec, m := call(t, s, "PUT", "/user/x/api/contents/a%20b.txt", `{"type": "file", "format": "text", "content": "hi\n"}`)
			if rec.Code != 201 || rec.Header().Get("Location") != "/user/x/api/contents/a%20b.txt" || m["size"] != 3.0 || m["mimetype"] != "text/plain" {
				t.Fatalf("PUT new: %d %v %v", rec.Code, rec.Header(), m)
			}
			if rec.Header().Get("Last-Modified") == "" {
				t.Error("no Last-Modified on a model")
			}
			rec, _ = call(t, s, "PUT", "/user/x/api/contents/a%20b.txt", `{"type": "file", "format": "text", "content": "again"}`)
			if rec.Code != 200 {
				t.Errorf("PUT existing: %d, want 200", rec.Code)
			}
			rec, m = call(t, s, "GET", "/user/x/api/contents/a%20b.txt", "")
			if rec.Code != 200 || m["content"] != "again" || m["format"] != "text" || m["type"] != "file" {
				t.Errorf("GET: %d %v", rec.Code, m)
			}
			rec, m = call(t, s, "GET", "/user/x/api/contents/nope", "")
			if rec.Code != 404 || m["message"] != "file or directory does not exist: 'nope'" {
				t.Errorf("GET missing: %d %v", rec.Code, m)
			}
			rec, m = call(t, s, "GET", "/user/x/api/contents/../x", "")
			if rec.Code != 404 || m["message"] != "../x is outside root contents directory" {
				t.Errorf("outside root: %d %v", rec.Code, m)
			}
			rec, m = call(t, s, "PUT", "/user/x/api/contents/.hidden", `{"type": "file", "format": "text", "content": ""}`)
			if rec.Code != 400 || m["message"] != "Cannot create file or directory '/.hidden'" {
				t.Errorf("hidden: %d %v", rec.Code, m)
			}
			// untitled names
			for _, want := range []string{"Untitled.ipynb", "Untitled1.ipynb"} {
				if rec, m = call(t, s, "POST", "/user/x/api/contents", `{"type": "notebook"}`); rec.Code != 201 || m["name"] != want {
					t.Errorf("untitled notebook: %d %v, want %s", rec.Code, m["name"], want)
				}
			}
			for _, want := range []string{"Untitled Folder", "Untitled Folder 1"} {
				if rec, m = call(t, s, "POST", "/user/x/api/contents", `{"type": "directory"}`); rec.Code != 201 || m["name"] != want {
					t.Errorf("untitled folder: %d %v, want %s", rec.Code, m["name"], want)
				}
			}
			if rec, m = call(t, s, "POST", "/user/x/api/contents", `{"ext": ".txt"}`); m["name"] != "untitled.txt" {
				t.Errorf("untitled file: %d %v", rec.Code, m)
			}
			// a notebook gets its checkpoint on first save
			rec, _ = call(t, s, "GET", "/user/x/api/contents/Untitled.ipynb/checkpoints", "")
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"id":"checkpoint"`) {
				t.Errorf("notebook checkpoints: %d %s", rec.Code, rec.Body)
			}
			// rename onto an existing file
			rec, m = call(t, s, "PATCH", "/user/x/api/contents/untitled.txt", `{"path": "a b.txt"}`)
			if rec.Code != 409 || m["message"] != "File already exists: a b.txt" {
				t.Errorf("rename conflict: %d %v", rec.Code, m)
			}
			// the raw bytes
			rec, _ = call(t, s, "GET", "/user/x/files/a%20b.txt", "")
			if rec.Code != 200 || rec.Body.String() != "again" || rec.Header().Get("Content-Type") != "text/plain; charset=UTF-8" {
				t.Errorf("files: %d %q %v", rec.Code, rec.Body, rec.Header())
			}
			// a non-empty directory deletes, as into Jupyter's trash
			call(t, s, "PUT", "/user/x/api/contents/Untitled%20Folder/f.txt", `{"type": "file", "format": "text", "content": "x"}`)
			if rec, _ = call(t, s, "DELETE", "/user/x/api/contents/Untitled%20Folder", ""); rec.Code != 204 {
				t.Errorf("DELETE non-empty dir: %d", rec.Code)
			}
			if rec, m = call(t, s, "DELETE", "/user/x/api/contents", ""); rec.Code != 400 || m["message"] != "Can't delete root" {
				t.Errorf("DELETE root: %d %v", rec.Code, m)
			}
			if root != "" {
				if b, err := os.ReadFile(filepath.Join(root, "a b.txt")); err != nil || string(b) != "again" {
					t.Errorf("on disk: %q %v", b, err)
				}
				if _, err := os.Stat(filepath.Join(root, ".ipynb_checkpoints", "Untitled-checkpoint.ipynb")); err != nil {
					t.Errorf("checkpoint not where Jupyter keeps it: %v", err)
				}
			}
		})
	}
}

// TestContentsBodyBound: a body over MaxContentsBody is refused with
// Tornado's bare 400 and the connection closed, having read no more than
// MaxContentsBody+1 bytes of it; a declared Content-Length over the bound
// is refused before reading any.
func TestContentsBodyBound(t *testing.T) {
	s := New(Options{Generation: 1})
	src := &countingReader{left: MaxContentsBody * 4}
	req := httptest.NewRequest("PUT", "/api/contents/big.txt", src)
	req.ContentLength = -1 // as a chunked request: the size is unknown
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 400 || rec.Body.Len() != 0 || rec.Header().Get("Connection") != "close" {
		t.Errorf("oversized body: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if src.read > MaxContentsBody+1 {
		t.Errorf("read %d bytes of the body, bound %d", src.read, MaxContentsBody+1)
	}

	src = &countingReader{left: MaxContentsBody + 10}
	req = httptest.NewRequest("PUT", "/api/contents/big.txt", src)
	req.ContentLength = MaxContentsBody + 10
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 400 || src.read != 0 {
		t.Errorf("declared oversized body: %d, read %d bytes", rec.Code, src.read)
	}
	if _, err := s.ReadFile("big.txt"); err == nil {
		t.Error("a refused body created the file")
	}
}

// TestContentsBodyAllocations: saving a body of n bytes allocates about
// 6n in all (measured 5.75n for base64 and text), whether its size is
// declared or not; the bound checked is 8n.
func TestContentsBodyAllocations(t *testing.T) {
	s := New(Options{Generation: 1})
	data := bytes.Repeat([]byte{0, 1, 2, 3}, 2<<20)
	body := `{"type": "file", "format": "base64", "content": "` + base64.StdEncoding.EncodeToString(data) + `"}`
	for _, declared := range []bool{true, false} {
		req := httptest.NewRequest("PUT", "/api/contents/x.bin", strings.NewReader(body))
		if !declared {
			req.ContentLength = -1
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		runtime.ReadMemStats(&after)
		if rec.Code != 201 && rec.Code != 200 {
			t.Fatalf("PUT: %d %s", rec.Code, rec.Body)
		}
		if per := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(body)); per > 8 {
			t.Errorf("declared=%v: allocated %.1f bytes per body byte, bound 8", declared, per)
		}
	}
}

type countingReader struct{ read, left int }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range p[:n] {
		p[i] = 'a'
	}
	r.read += n
	r.left -= n
	return n, nil
}

// TestChunkedUpload: chunk 1 truncates, later chunks append, and the
// result reads back through /files/ byte for byte, with ranges.
func TestChunkedUpload(t *testing.T) {
	s := New(Options{Generation: 1})
	want := make([]byte, 3<<20+123)
	for i := range want {
		want[i] = byte(i * 7)
	}
	const chunk = 1 << 20
	for i, n := 0, 1; i < len(want); i, n = i+chunk, n+1 {
		end := min(i+chunk, len(want))
		num := n
		if end == len(want) {
			num = -1
		}
		body := fmt.Sprintf(`{"type": "file", "format": "base64", "chunk": %d, "content": %q}`, num, base64.StdEncoding.EncodeToString(want[i:end]))
		rec, m := call(t, s, "PUT", "/api/contents/up.bin", body)
		if (rec.Code != 201 && rec.Code != 200) || m["size"] != float64(end) {
			t.Fatalf("chunk %d: %d %v", num, rec.Code, m)
		}
	}
	rec, _ := call(t, s, "GET", "/files/up.bin", "")
	if !bytes.Equal(rec.Body.Bytes(), want) || rec.Header().Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("files: %d bytes, %v", rec.Body.Len(), rec.Header())
	}
	req := httptest.NewRequest("GET", "/files/up.bin", nil)
	req.Header.Set("Range", "bytes=10-19")
	rr := httptest.NewRecorder()
	s.ServeHTTP(rr, req)
	if rr.Code != 206 || !bytes.Equal(rr.Body.Bytes(), want[10:20]) || rr.Header().Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(want)) {
		t.Errorf("range: %d %v", rr.Code, rr.Header())
	}
	// a new chunk 1 starts the file over
	call(t, s, "PUT", "/api/contents/up.bin", `{"type": "file", "format": "text", "chunk": 1, "content": "x"}`)
	if b, _ := s.ReadFile("up.bin"); string(b) != "x" {
		t.Errorf("after chunk 1: %q", b)
	}
}

// TestFilesSnapshot: a download in progress keeps the bytes it started
// with while the file is rewritten and appended to.
func TestFilesSnapshot(t *testing.T) {
	s := New(Options{Generation: 1})
	if err := s.WriteFile("f.bin", []byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	c := s.contents
	c.mu.Lock()
	status, body, _ := c.openFile("f.bin")
	c.mu.Unlock()
	if status != 0 {
		t.Fatal(status)
	}
	call(t, s, "PUT", "/api/contents/f.bin", `{"type": "file", "format": "text", "chunk": 2, "content": "abc"}`)
	call(t, s, "PUT", "/api/contents/f.bin", `{"type": "file", "format": "text", "content": "new"}`)
	got, _ := io.ReadAll(body)
	if string(got) != "0123456789" {
		t.Errorf("snapshot read %q", got)
	}
}

func TestContentsConcurrent(t *testing.T) {
	s := New(Options{Generation: 1})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				p := fmt.Sprintf("/api/contents/g%d-%d.txt", g, i%3)
				call(t, s, "PUT", p, `{"type": "file", "format": "text", "content": "x"}`)
				call(t, s, "GET", p, "")
				call(t, s, "POST", "/api/contents", `{"type": "notebook"}`)
				call(t, s, "GET", "/api/contents", "")
				call(t, s, "GET", "/files/"+strings.TrimPrefix(p, "/api/contents/"), "")
			}
		}()
	}
	wg.Wait()
	rec, m := call(t, s, "GET", "/api/contents", "")
	list, _ := m["content"].([]any)
	if rec.Code != 200 || len(list) != 8*3+8*20 {
		t.Errorf("after concurrent writes: %d, %d entries", rec.Code, len(list))
	}
}

// The notebook writer reproduces nbformat's bytes: this is the file Jupyter
// 1.23.3 wrote for the notebook PUT in docs/wire/contents.md C5.
func TestWriteNotebookBytes(t *testing.T) {
	var nb map[string]any
	dec := json.NewDecoder(strings.NewReader(`{"cells":[{"cell_type":"code","source":"print(1)\nx","metadata":{},"outputs":[],"execution_count":null,"id":"eb8fd69c"}],"metadata":{},"nbformat":4,"nbformat_minor":5}`))
	dec.UseNumber()
	if err := dec.Decode(&nb); err != nil {
		t.Fatal(err)
	}
	want := "{\n \"cells\": [\n  {\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"id\": \"eb8fd69c\",\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": [\n    \"print(1)\\n\",\n    \"x\"\n   ]\n  }\n ],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n"
	if got := string(writeNotebook(nb)); got != want {
		t.Errorf("writeNotebook:\n%s\nwant:\n%s", got, want)
	}
	if got := len(writeNotebook(map[string]any{"cells": []any{}, "metadata": map[string]any{}, "nbformat": json.Number("4"), "nbformat_minor": json.Number("5")})); got != 72 {
		t.Errorf("new notebook is %d bytes, Jupyter's is 72", got)
	}
}

// Python's binascii.a2b_base64, as recorded in docs/wire/contents.md C3.
func TestA2BBase64(t *testing.T) {
	for _, tc := range []struct{ in, out, err string }{
		{"AAEC/w==", "\x00\x01\x02\xff", ""},
		{"AA==AA", "\x00", ""},
		{"!!!", "", ""},
		{"AAE\nC/w==\n", "\x00\x01\x02\xff", ""},
		{"AAAAx", "", "Invalid base64-encoded string: number of data characters (5) cannot be 1 more than a multiple of 4"},
		{"AAAAxy", "", "Incorrect padding"},
		{"AAAAxy=", "", "Incorrect padding"},
		{"é", "", "'ascii' codec can't encode character '\\xe9' in position 0: ordinal not in range(128)"},
	} {
		got, err := a2bBase64(tc.in)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || string(got) != tc.out {
			t.Errorf("%q: %q %v, want %q", tc.in, got, err, tc.out)
		}
	}
}

// TestA2BBase64FastPath: whatever Go's standard base64 decoding accepts,
// which a2bBase64 decodes with it, binascii's rules decode to the same
// bytes: random strings over the alphabet, padding and newlines, and
// encodings of random bytes with newlines put in.
func TestA2BBase64FastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n"
	var cases []string
	for range 20000 {
		b := make([]byte, rng.IntN(13))
		for i := range b {
			b[i] = chars[rng.IntN(len(chars))]
		}
		cases = append(cases, string(b))
	}
	for range 2000 {
		raw := make([]byte, rng.IntN(200))
		for i := range raw {
			raw[i] = byte(rng.Uint32())
		}
		enc := []byte(base64.StdEncoding.EncodeToString(raw))
		for range rng.IntN(4) {
			i := rng.IntN(len(enc) + 1)
			enc = append(enc[:i], append([]byte("\n"), enc[i:]...)...)
		}
		cases = append(cases, string(enc))
	}
	cases = append(cases, "QR==", "QUJ=", "QQ==\n", "\r\nQUJD\r\nREVG\n", "")
	accepted := 0
	for _, in := range cases {
		fast, err := base64.StdEncoding.DecodeString(in)
		if err != nil {
			continue
		}
		accepted++
		slow, err := a2bBase64Python(in)
		if err != nil || !bytes.Equal(fast, slow) {
			t.Errorf("%q: Go decodes %q, binascii's rules %q, %v", in, fast, slow, err)
		}
	}
	if accepted < 2000 {
		t.Errorf("only %d of the cases are valid base64: the test checks too little", accepted)
	}
}

func TestEncodeBytesWraps(t *testing.T) {
	got := encodeBytes(bytes.Repeat([]byte("0123456789"), 12))
	lines := strings.Split(got, "\n")
	if len(lines) != 4 || len(lines[0]) != 76 || len(lines[1]) != 76 || lines[3] != "" {
		t.Errorf("encodeBytes: %q", got)
	}
	if encodeBytes(nil) != "" {
		t.Error("empty input must encode to the empty string")
	}
}

func TestPyNumberTextFloats(t *testing.T) {
	for f, want := range map[float64]string{1: "1.0", 0.1: "0.1", 1e16: "1e+16", 1.5e16: "1.5e+16", 1e-5: "1e-05",
		0.0001: "0.0001", 123456789012345.0: "123456789012345.0", -2.5: "-2.5", math.Inf(1): "Infinity"} {
		if got := pyFloatRepr(f); got != want {
			t.Errorf("pyFloatRepr(%v) = %q, want %q", f, got, want)
		}
	}
	for in, want := range map[string]string{"1.50": "1.5", "1E2": "100.0", "-0": "0", "12345678901234567890123": "12345678901234567890123"} {
		if got := pyNumberText(in); got != want {
			t.Errorf("pyNumberText(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestPyRepr(t *testing.T) {
	for in, want := range map[string]string{"a": "'a'", "it's": `"it's"`, `a'b"c`: `'a\'b"c'`, "t\tn\n": `'t\tn\n'`, "é": "'é'", "\x00\u200b": `'\x00\u200b'`} {
		if got := pyStrRepr(in); got != want {
			t.Errorf("pyStrRepr(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestGuessType(t *testing.T) {
	for name, want := range map[string][2]string{"a.txt": {"text/plain", ""}, "a.TXT": {"text/plain", ""}, "a.ipynb": {"", ""},
		"a.tar.gz": {"application/x-tar", "gzip"}, "x.tgz": {"application/x-tar", "gzip"}, "a.gz": {"", "gzip"}, ".bashrc": {"", ""}, "a": {"", ""}} {
		typ, enc := guessType(name)
		if typ != want[0] || enc != want[1] {
			t.Errorf("guessType(%s) = %q %q, want %q", name, typ, enc, want)
		}
	}
	if filesContentType("a.tar.gz") != "application/gzip" || filesContentType("n.ipynb") != "application/x-ipynb+json" || filesContentType("z") != "application/octet-stream" {
		t.Error("filesContentType")
	}
}

func TestNotebookValidationMessage(t *testing.T) {
	s := New(Options{Generation: 1})
	_, m := call(t, s, "PUT", "/api/contents/v.ipynb", `{"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "extra": 1}}`)
	want := "Notebook validation failed: data must not contain {'extra'} properties\n\nFailed validating <unset> in notebook:\n\nOn instance:\n<unset>:\n\"<UNKNOWN>\""
	if m["message"] != want {
		t.Errorf("message %q", m["message"])
	}
	_, m = call(t, s, "GET", "/api/contents/v.ipynb", "")
	if m["message"] != want {
		t.Errorf("on read: %q", m["message"])
	}
}

func TestSeedControls(t *testing.T) {
	s := New(Options{Generation: 1})
	if err := s.WriteFile("a/b/c.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadFile("/a/b/c.txt"); err != nil || string(b) != "x" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
	if err := s.Mkdir("a/d"); err != nil {
		t.Fatal(err)
	}
	if names, err := s.ListDir("a"); err != nil || strings.Join(names, ",") != "b,d" {
		t.Errorf("ListDir: %v %v", names, err)
	}
	if err := s.WriteFile("../x", nil); err == nil {
		t.Error("WriteFile outside the root")
	}
	if _, err := s.ReadFile("a/b"); err == nil {
		t.Error("ReadFile of a directory")
	}
}

// FuzzContentsHandler sends arbitrary contents requests to a server with
// a few files: it must never panic, answer JSON wherever it says so, and
// keep answering.
func FuzzContentsHandler(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"PUT", "/api/contents/n.ipynb", `{"type": "notebook", "content": {"cells": [{"cell_type": "code", "source": ["a"], "metadata": {"trusted": true}, "outputs": []}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}`},
		{"PUT", "/api/contents/d/x.bin", `{"type": "file", "format": "base64", "content": "AA==AA", "chunk": 2}`},
		{"POST", "/api/contents/d", `{"copy_from": "t.txt"}`},
		{"POST", "/api/contents", `{"type": "directory", "ext": ".py"}`},
		{"PATCH", "/api/contents/d", `{"path": "d/e/f"}`},
		{"PATCH", "/api/contents/t.txt", `{"path": "../t"}`},
		{"DELETE", "/api/contents/d", ""},
		{"POST", "/api/contents/t.txt/checkpoints", ""},
		{"POST", "/api/contents/t.txt/checkpoints/checkpoint", ""},
		{"GET", "/api/contents/%2E%2E/x?type=file&format=base64", ""},
		{"GET", "/files/d/../t.txt", ""},
		{"POST", "/api/contents/nb.ipynb/trust", ""},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		s := New(Options{Generation: 1})
		_ = s.WriteFile("t.txt", []byte("text"))
		_ = s.WriteFile("d/nb.ipynb", []byte(`{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`))
		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Type") == "application/json" && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON answer %q", method, path, rec.Body.String())
		}
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/contents", nil))
		if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("list after %s %s: %d %s", method, path, rec.Code, rec.Body.String())
		}
	})
}

// TestReadJSONObjectAsEncodingJSON: the one-pass decoding of a contents
// body gives what encoding/json with UseNumber gives, and declines
// whatever encoding/json refuses: hand-picked bodies (duplicate keys,
// escapes, invalid UTF-8, numbers, nesting, trailing data, other types)
// and random cuts and byte flips of them.
func TestReadJSONObjectAsEncodingJSON(t *testing.T) {
	bodies := []string{
		`{}`, ` { } `, `{"a":"b"}`, `{"a":"b","a":"c"}`, `{"a":"b","a":1}`, `{"a":1,"a":"b"}`,
		`{"content":"AAEC\/w==","format":"base64","type":"file","chunk":2}`,
		`{"k\u00e9y":"v\ud83d\ude00","x":"\ud800","y":"` + "\xff\xfe" + `"}`,
		`{"n":1.5e300,"m":-0,"big":123456789012345678901234567890,"t":true,"f":false,"z":null}`,
		`{"nested":{"a":[1,{"b":"c"}],"d":{}},"e":[]}`, `{"a":"b"} `, `{"a":"b"}x`, `{"a":"b"}{}`,
		`{"a" "b"}`, `{"a":}`, `{"a":"b",}`, `{,}`, `{"a":"b`, `{"a":tru}`, `{"a":"\x"}`,
		`[1,2]`, `"s"`, `1`, `null`, ``, `   `, `{"a":"` + "\x01" + `"}`, `{"":""}`,
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const flips = "{}[]\",:\\ a1\xff"
	for _, b := range bodies[:12] {
		for range 200 {
			m := []byte(b)
			switch rng.IntN(3) {
			case 0:
				m = m[:rng.IntN(len(m)+1)]
			case 1:
				if len(m) > 0 {
					m[rng.IntN(len(m))] = flips[rng.IntN(len(flips))]
				}
			default:
				i := rng.IntN(len(m) + 1)
				m = append(m[:i:i], append([]byte{flips[rng.IntN(len(flips))]}, m[i:]...)...)
			}
			bodies = append(bodies, string(m))
		}
	}
	for _, body := range bodies {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var want any
		err := dec.Decode(&want)
		if err == nil {
			if _, terr := dec.Token(); terr != io.EOF {
				err = errors.New("trailing data")
			}
		}
		got, ok := readJSONObject([]byte(body))
		_, isObject := want.(map[string]any)
		switch {
		case ok && err != nil:
			t.Errorf("%q: decoded to %v where encoding/json fails: %v", body, got, err)
		case ok && !cmp.Equal(any(got), want):
			t.Errorf("%q: %#v, encoding/json %#v", body, got, want)
		case !ok && err == nil && isObject:
			t.Errorf("%q: declined an object encoding/json decodes", body)
		}
	}
}
