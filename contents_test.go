package nbserv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nbserv/go-nbserv/internal/jsonscan"
	"github.com/nbserv/go-nbserv/nbformat"
)

// DecodeContentsForBench is decodeContents, for the benchmarks in package
// nbserv_test.
var DecodeContentsForBench = decodeContents

// seen is one request as a server received it.
type seen struct {
	Method, RawPath, Query, Body string
}

// recorder answers every request with one status and body, recording it.
type recorder struct {
	mu     sync.Mutex
	reqs   []seen
	status int
	body   string
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, string(b)})
	status, body := rec.status, rec.body
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func (rec *recorder) last(t *testing.T) seen {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) == 0 {
		t.Fatal("no request")
	}
	return rec.reqs[len(rec.reqs)-1]
}

func recordingClient(t *testing.T, prefix string) (*Client, *recorder) {
	rec := &recorder{status: 200, body: `{"name": "x", "path": "x", "type": "file", "content": null, "format": null, "size": 0}`}
	c, _ := serveWith(t, httptest.NewUnstartedServer(rec), func(cfg *Config) { cfg.BaseURL += prefix; cfg.Token = NewSecret(testToken) })
	return c, rec
}

// Each of the nine calls sends what Jupyter expects (see
// docs/wire/contents.md C13): the method, the path escaped
// segment by segment, the query, the body.
func TestContentsRequests(t *testing.T) {
	ctx := context.Background()
	c, rec := recordingClient(t, "/user/a b/")
	cs := c.Contents
	const odd = "/dir with space/é#?%+;=.ipynb/" // leading and trailing slashes dropped
	const oddURL = "/user/a%20b/api/contents/dir%20with%20space/%C3%A9%23%3F%25+%3B=.ipynb"
	tests := []struct {
		name string
		run  func() error
		want seen
	}{
		{"Get", func() error {
			_, err := cs.Get(ctx, odd, GetOptions{Type: ContentsNotebook, Format: FormatText, NoContent: true})
			return err
		},
			seen{"GET", oddURL, "content=0&format=text&type=notebook", ""}},
		{"Get root", func() error { _, err := cs.Get(ctx, "/", GetOptions{}); return err },
			seen{"GET", "/user/a%20b/api/contents", "", ""}},
		{"List", func() error { _, err := cs.List(ctx, "a//b/./c"); return err },
			seen{"GET", "/user/a%20b/api/contents/a/b/c", "type=directory", ""}},
		{"ReadFile", func() error { _, err := cs.ReadFile(ctx, "x.bin"); return err },
			seen{"GET", "/user/a%20b/api/contents/x.bin", "format=base64&type=file", ""}},
		{"Create", func() error { _, err := cs.Create(ctx, "", CreateRequest{Type: ContentsNotebook}); return err },
			seen{"POST", "/user/a%20b/api/contents", "", `{"type":"notebook"}`}},
		{"NewUntitled", func() error { _, err := cs.NewUntitled(ctx, "d", ContentsFile, ".txt"); return err },
			seen{"POST", "/user/a%20b/api/contents/d", "", `{"type":"file","ext":".txt"}`}},
		{"Create empty", func() error { _, err := cs.Create(ctx, "d", CreateRequest{}); return err },
			seen{"POST", "/user/a%20b/api/contents/d", "", `{}`}},
		{"Copy", func() error { _, err := cs.Copy(ctx, "/a/b.txt/", "d"); return err },
			seen{"POST", "/user/a%20b/api/contents/d", "", `{"copy_from":"a/b.txt"}`}},
		{"Save text", func() error { _, err := cs.WriteText(ctx, "t.txt", ""); return err },
			seen{"PUT", "/user/a%20b/api/contents/t.txt", "", `{"type":"file","format":"text","content":""}`}},
		{"Save bytes", func() error { _, err := cs.WriteFile(ctx, "b.bin", []byte{0, 1, 2}); return err },
			seen{"PUT", "/user/a%20b/api/contents/b.bin", "", `{"type":"file","format":"base64","content":"AAEC"}`}},
		{"Save empty bytes", func() error { _, err := cs.WriteFile(ctx, "b.bin", nil); return err },
			seen{"PUT", "/user/a%20b/api/contents/b.bin", "", `{"type":"file","format":"base64","content":""}`}},
		{"Mkdir", func() error { _, err := cs.Mkdir(ctx, "new dir"); return err },
			seen{"PUT", "/user/a%20b/api/contents/new%20dir", "", `{"type":"directory","content":null}`}},
		{"SaveNotebook", func() error {
			_, err := cs.SaveNotebook(ctx, "n.ipynb", &nbformat.Notebook{NBFormat: 4, NBFormatMinor: 5})
			return err
		}, seen{"PUT", "/user/a%20b/api/contents/n.ipynb", "", `{"type":"notebook","format":"json","content":{"cells":[],"metadata":{},"nbformat":4,"nbformat_minor":5}}`}},
		{"Rename", func() error { _, err := cs.Rename(ctx, "a.txt", "/sub/b c.txt"); return err },
			seen{"PATCH", "/user/a%20b/api/contents/a.txt", "", `{"path":"sub/b c.txt"}`}},
		{"Delete", func() error { return cs.Delete(ctx, "d/x y") },
			seen{"DELETE", "/user/a%20b/api/contents/d/x%20y", "", ""}},
		{"ListCheckpoints", func() error { _, err := cs.ListCheckpoints(ctx, odd); return err },
			seen{"GET", oddURL + "/checkpoints", "", ""}},
		{"CreateCheckpoint", func() error { _, err := cs.CreateCheckpoint(ctx, "n.ipynb"); return err },
			seen{"POST", "/user/a%20b/api/contents/n.ipynb/checkpoints", "", ""}},
		{"RestoreCheckpoint", func() error { return cs.RestoreCheckpoint(ctx, "n.ipynb", "checkpoint") },
			seen{"POST", "/user/a%20b/api/contents/n.ipynb/checkpoints/checkpoint", "", ""}},
		{"DeleteCheckpoint", func() error { return cs.DeleteCheckpoint(ctx, "n.ipynb", "cp-1_x") },
			seen{"DELETE", "/user/a%20b/api/contents/n.ipynb/checkpoints/cp-1_x", "", ""}},
		// A file named like a route word stays a file (%63 is "c", %74 "t").
		{"file named checkpoints", func() error { _, err := cs.Stat(ctx, "d/checkpoints"); return err },
			seen{"GET", "/user/a%20b/api/contents/d/%63heckpoints", "content=0", ""}},
		{"checkpoints of a file named trust", func() error { _, err := cs.ListCheckpoints(ctx, "trust"); return err },
			seen{"GET", "/user/a%20b/api/contents/%74rust/checkpoints", "", ""}},
		{"directory named checkpoints", func() error { _, err := cs.Stat(ctx, "checkpoints/checkpoint"); return err },
			seen{"GET", "/user/a%20b/api/contents/%63heckpoints/checkpoint", "content=0", ""}},
	}
	for _, tt := range tests {
		switch tt.want.Method {
		case "DELETE", "POST":
			rec.status, rec.body = 204, ""
			if strings.HasPrefix(tt.name, "Create") || tt.name == "Copy" || tt.name == "NewUntitled" {
				rec.status, rec.body = 201, `{"name":"x","path":"x","type":"file"}`
			}
			if tt.name == "CreateCheckpoint" {
				rec.status, rec.body = 201, `{"id":"checkpoint","last_modified":"2026-11-27T21:34:44.854961Z"}`
			}
		default:
			rec.status, rec.body = 200, `{"name":"x","path":"x","type":"directory","content":[],"format":"json"}`
			if strings.HasSuffix(tt.want.RawPath, "/checkpoints") {
				rec.body = `[]`
			}
			if tt.name == "ReadFile" {
				rec.body = `{"name":"x","path":"x","type":"file","content":"","format":"base64"}`
			}
		}
		if err := tt.run(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := rec.last(t); got != tt.want {
			t.Errorf("%s sent\n%+v\nwant\n%+v", tt.name, got, tt.want)
		}
	}
}

// What can only be an attack, or can never be valid, is refused before
// any request.
func TestContentsRefusesBadArgumentsBeforeAnyRequest(t *testing.T) {
	ctx := context.Background()
	c, rec := recordingClient(t, "/")
	cs := c.Contents
	calls := map[string]func() error{
		"Get ..":              func() error { _, err := cs.Get(ctx, "a/../../etc", GetOptions{}); return err },
		"Get NUL":             func() error { _, err := cs.Get(ctx, "a\x00b", GetOptions{}); return err },
		"Save root":           func() error { _, err := cs.WriteText(ctx, "/", "x"); return err },
		"Delete root":         func() error { return cs.Delete(ctx, "") },
		"Delete ./":           func() error { return cs.Delete(ctx, "./") },
		"Rename to ..":        func() error { _, err := cs.Rename(ctx, "a", "../a"); return err },
		"Rename root":         func() error { _, err := cs.Rename(ctx, "", "a"); return err },
		"Copy from ..":        func() error { _, err := cs.Copy(ctx, "..", "d"); return err },
		"Copy from root":      func() error { _, err := cs.Copy(ctx, "/", "d"); return err },
		"Create ..":           func() error { _, err := cs.Create(ctx, "d/..", CreateRequest{}); return err },
		"checkpoint id /":     func() error { return cs.RestoreCheckpoint(ctx, "a", "../x") },
		"checkpoint id empty": func() error { return cs.DeleteCheckpoint(ctx, "a", "") },
		"checkpoint id é":     func() error { return cs.DeleteCheckpoint(ctx, "a", "é") },
		"checkpoints of root": func() error { _, err := cs.ListCheckpoints(ctx, "/"); return err },
		"SaveNotebook nil":    func() error { _, err := cs.SaveNotebook(ctx, "a.ipynb", nil); return err },
		"Upload ..":           func() error { _, err := cs.Upload(ctx, "../x", strings.NewReader("x"), TransferOptions{}); return err },
		"Upload chunk size": func() error {
			_, err := cs.Upload(ctx, "x", strings.NewReader("x"), TransferOptions{ChunkSize: -1})
			return err
		},
		"Upload nil reader": func() error { _, err := cs.Upload(ctx, "x", nil, TransferOptions{}); return err },
		"Open ..":           func() error { _, err := cs.Open(ctx, "a/.."); return err },
		"Download root":     func() error { _, err := cs.Download(ctx, "", io.Discard, TransferOptions{}); return err },
	}
	for name, f := range calls {
		err := f()
		var ve *ValidationError
		if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &ve) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(rec.reqs) != 0 {
		t.Errorf("requests sent: %+v", rec.reqs)
	}
	// ".." inside a name is just a name.
	if _, err := cs.Stat(ctx, "a..b/..c"); err != nil || rec.last(t).RawPath != "/api/contents/a..b/..c" {
		t.Errorf("a..b/..c: %v, %+v", err, rec.reqs)
	}
}

// Jupyter's error answers on the contents API, as recorded in
// docs/wire/contents.md C2, C3, C7, C8, C9, C10 (the 403 "Permission denied: <path>" is
// perm_to_403's message, for a file the server's user may not write).
func TestContentsErrors(t *testing.T) {
	ctx := context.Background()
	c, rec := recordingClient(t, "/")
	tests := []struct {
		status int
		body   string
		call   func() error
		is     error
	}{
		{409, `{"message": "File already exists: new2.bin", "reason": null}`,
			func() error { _, err := c.Contents.Rename(ctx, "big.bin", "new2.bin"); return err }, ErrConflict},
		{404, `{"message": "file or directory does not exist: 'nope'", "reason": null}`,
			func() error { _, err := c.Contents.Get(ctx, "nope", GetOptions{}); return err }, ErrNotFound},
		{400, `{"message": "big.bin is not a directory", "reason": "bad type"}`,
			func() error { _, err := c.Contents.List(ctx, "big.bin"); return err }, ErrBadRequest},
		{400, `{"message": "Cannot POST to files, use PUT instead.", "reason": null}`,
			func() error { _, err := c.Contents.Copy(ctx, "big.bin", "d/copy.txt"); return err }, ErrBadRequest},
		{403, `{"message": "Permission denied: a.txt", "reason": null}`,
			func() error { return c.Contents.Delete(ctx, "a.txt") }, ErrUnauthorized},
		{500, `{"message": "Unknown error renaming file: nope [Errno 2] No such file or directory", "reason": null}`,
			func() error { _, err := c.Contents.Rename(ctx, "nope", "x"); return err }, ErrServer},
	}
	for _, tt := range tests {
		rec.status, rec.body = tt.status, tt.body
		err := tt.call()
		var e *Error
		if !errors.Is(err, tt.is) || !errors.As(err, &e) || e.StatusCode != tt.status || !strings.Contains(tt.body, e.Message) || e.Message == "" {
			t.Errorf("%d: %v", tt.status, err)
		}
		if tt.is != ErrConflict && errors.Is(err, ErrConflict) {
			t.Errorf("%d matches ErrConflict", tt.status)
		}
		if e != nil && e.Reason == "bad type" && err.Error() != "nbserv: GET /api/contents/big.bin: 400 Bad Request: big.bin is not a directory" {
			t.Errorf("message %q", err)
		}
	}
}

// A Delete retried after a lost answer meets a 404: success, as for
// sessions.
func TestContentsDeleteRetriedAfterLostAnswer(t *testing.T) {
	c := deleteServer(t, http.StatusBadGateway) // deleted, answer lost
	var r Response
	if err := c.Contents.Delete(context.Background(), "a.txt", WithResponse(&r)); err != nil || r.Attempts != 2 {
		t.Errorf("Delete: %v after %d attempts", err, r.Attempts)
	}
	if err := c.Contents.DeleteCheckpoint(context.Background(), "a.txt", "checkpoint"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a first-attempt 404 is not success: %v", err)
	}
}

// readTestdata reads a body recorded from Jupyter Server 1.23.3 (see
// docs/wire/contents.md C15).
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/contents/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A notebook's model: the model's fields, and its content decoded by
// nbformat (whose own tests check the notebook in full).
func TestDecodeNotebookAsJupyterSendsIt(t *testing.T) {
	m, err := decodeContents(readTestdata(t, "notebook-get.json"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != "notebook" || m.Format != "json" || m.Path != "t.ipynb" || m.Size == nil || *m.Size != 1620 ||
		m.Mimetype != "" || !m.Writable || m.LastModified.IsZero() || !strings.HasPrefix(m.Message, "Notebook validation failed") ||
		m.Malformed != nil || m.Text != "" {
		t.Errorf("model %+v", m)
	}
	nb := m.Notebook
	if nb == nil || nb.NBFormat != 4 || len(nb.Cells) != 3 || nb.Cells[0].Source != "print(1)\nprint(2)" ||
		string(nb.Extra["top_unknown"]) != "true" {
		t.Fatalf("notebook %+v", nb)
	}
	// A syntax error inside the notebook is the body's, at its offset in
	// the body.
	bad := []byte(`{"type":"notebook","content":{"cells":[1,}]},"format":"json"}`)
	if _, err := decodeContents(bad); err == nil || err.Error() != jsonscan.Check(bad).Error() {
		t.Errorf("bad notebook: %v, want %v", err, jsonscan.Check(bad))
	}
	// A content that is not a notebook's object stays raw in Malformed.
	m, err = decodeContents([]byte(`{"type":"notebook","content":true}`))
	if err != nil || m.Notebook != nil || string(m.Malformed["content"]) != "true" {
		t.Errorf("%+v %v", m, err)
	}
}

// deleteServer answers the first request with first, and every later one
// with Jupyter's JSON 404.
func deleteServer(t *testing.T, first int) *Client {
	var n atomic.Int32
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(first)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(404)
		io.WriteString(w, `{"message": "file or directory does not exist: 'a.txt'", "reason": null}`)
	}, fastRetries)
	return c
}

func TestDecodeContentsAsJupyterSendsThem(t *testing.T) {
	m, err := decodeContents(readTestdata(t, "base64-get.json"))
	if err != nil {
		t.Fatal(err)
	}
	if want := readTestdata(t, "base64-get.bin"); string(m.Data) != string(want) || m.Text != "" || m.Format != FormatBase64 ||
		m.Mimetype != "application/octet-stream" || *m.Size != 200 || m.Path != "d/b200.bin" || m.Name != "b200.bin" {
		t.Errorf("base64 file: %+v", m)
	}
	if m.LastModified != time.Date(2026, 11, 27, 21, 44, 6, 48967000, time.UTC) {
		t.Errorf("last_modified %v", m.LastModified)
	}
	d, err := decodeContents(readTestdata(t, "directory-get.json"))
	if err != nil || d.Type != ContentsDirectory || d.Size != nil || len(d.Entries) == 0 {
		t.Fatalf("directory: %+v %v", d, err)
	}
	for _, e := range d.Entries {
		if e.Format != "" || e.Text != "" || e.Data != nil || e.Notebook != nil || !strings.HasPrefix(e.Path, "d/") || e.Size == nil {
			t.Errorf("entry %+v", e)
		}
	}
	txt, err := decodeContents(readTestdata(t, "text-get.json"))
	if err != nil || txt.Text != "hi" || txt.Name != "a#b?c%d eé.txt" || txt.Format != FormatText {
		t.Errorf("text: %+v %v", txt, err)
	}
	// A hostile or broken server: ill-typed fields go to Malformed.
	odd, err := decodeContents([]byte(`{"name": 5, "writable": "yes", "size": 1.5, "created": "yesterday", "content": [1], "format": "base64", "extra": {}}`))
	if err != nil || odd.Name != "" || odd.Writable || odd.Size != nil || !odd.Created.IsZero() || len(odd.Malformed) != 5 {
		t.Errorf("odd: %+v %v", odd, err)
	}
	bad, err := decodeContents([]byte(`{"format": "base64", "content": "!!!"}`))
	if err != nil || bad.Data != nil || string(bad.Malformed["content"]) != `"!!!"` {
		t.Errorf("bad base64: %+v %v", bad, err)
	}
	for _, body := range []string{`[]`, `null`, `{"name": "x"`, ``} {
		if _, err := decodeContents([]byte(body)); err == nil {
			t.Errorf("decodeContents(%q) succeeded", body)
		}
	}
}

// A checkpoint round trip through the typed model.
func TestCheckpointsDecode(t *testing.T) {
	ctx := context.Background()
	c, rec := recordingClient(t, "/")
	rec.body = `[{"id": "checkpoint", "last_modified": "2026-11-27T21:34:44.854961Z"}]`
	list, err := c.Contents.ListCheckpoints(ctx, "Untitled.ipynb")
	if err != nil || len(list) != 1 || list[0].ID != "checkpoint" || list[0].LastModified.Nanosecond() != 854961000 {
		t.Errorf("%+v %v", list, err)
	}
	rec.body = `[]`
	if list, err := c.Contents.ListCheckpoints(ctx, "nope"); err != nil || list == nil || len(list) != 0 {
		t.Errorf("%+v %v", list, err)
	}
	rec.status, rec.body = 201, `{"id": "checkpoint", "last_modified": "2026-11-27T21:34:44.854961Z"}`
	if cp, err := c.Contents.CreateCheckpoint(ctx, "Untitled.ipynb"); err != nil || cp.ID != "checkpoint" {
		t.Errorf("%+v %v", cp, err)
	}
}

// A 404 is success only after an attempt the server may have carried out:
// after a 503 (the server refused the work) nothing was deleted, and the
// 404 stands.
func TestContentsDelete404AfterRefusalIsNotFound(t *testing.T) {
	c := deleteServer(t, http.StatusServiceUnavailable)
	var r Response
	if err := c.Contents.Delete(context.Background(), "a.txt", WithResponse(&r)); !errors.Is(err, ErrNotFound) || r.Attempts != 2 {
		t.Errorf("Delete: %v after %d attempts, want ErrNotFound after 2", err, r.Attempts)
	}
	c = deleteServer(t, http.StatusServiceUnavailable)
	if err := c.Contents.DeleteCheckpoint(context.Background(), "a.txt", "checkpoint", WithResponse(&r)); !errors.Is(err, ErrNotFound) || r.Attempts != 2 {
		t.Errorf("DeleteCheckpoint: %v after %d attempts, want ErrNotFound after 2", err, r.Attempts)
	}
}

// ContentsType is a plain string on the wire: a type no constant names
// is kept as sent, one that is not a string goes to Malformed, and
// requests encode it as the string it holds.
func TestContentsTypeKeepsWhatTheServerSent(t *testing.T) {
	m, err := decodeContents([]byte(`{"name": "l", "path": "l", "type": "symlink"}`))
	if err != nil || m.Type != ContentsType("symlink") || m.Malformed != nil {
		t.Errorf("unknown type: %+v, %v", m, err)
	}
	m, err = decodeContents([]byte(`{"name": "l", "path": "l", "type": 7}`))
	if err != nil || m.Type != "" || string(m.Malformed["type"]) != "7" {
		t.Errorf("non-string type: %+v, %v", m, err)
	}
	b, err := json.Marshal(SaveRequest{Type: ContentsDirectory})
	if err != nil || string(b) != `{"type":"directory","content":null}` {
		t.Errorf("encoded %s, %v", b, err)
	}
}

// The contents decoder takes whatever a server holds: it must never
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
