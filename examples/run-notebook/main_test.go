package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func noEnv(string) string { return "" }

func TestRunNotebookEmbedded(t *testing.T) {
	var out bytes.Buffer
	file := filepath.Join(t.TempDir(), "ran.ipynb")
	if err := run(context.Background(), []string{"-o", file}, noEnv, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`[1] ok: stdout "hello from the kernel\n"`,
		`[2] ok: stdout "slept\n", Out: 42`,
		`[3] ok: Out: 'done'`,
	}
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "Using the embedded reference server at http://127.0.0.1:") ||
		!strings.HasPrefix(lines[1], "Running demo.ipynb on kernel ") {
		t.Fatalf("output:\n%s", out.String())
	}
	for i, w := range want {
		if lines[i+2] != w {
			t.Errorf("line %d = %q, want %q", i+3, lines[i+2], w)
		}
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := parseNotebook(b)
	if err != nil {
		t.Fatal(err)
	}
	cells := nb.codeCells()
	if cells[1]["execution_count"] != float64(2) || len(cells[1]["outputs"].([]any)) != 2 {
		t.Errorf("cell 2 saved as %v", cells[1])
	}
	res := cells[1]["outputs"].([]any)[1].(map[string]any)
	if res["output_type"] != "execute_result" || res["data"].(map[string]any)["text/plain"] != "42" || res["execution_count"] != float64(2) {
		t.Errorf("result saved as %v", res)
	}
	// What the program does not touch is saved as found.
	if nb.doc["nbformat_minor"] != float64(5) || nb.kernelName() != "python3" || nb.doc["cells"].([]any)[0].(map[string]any)["id"] != "intro" {
		t.Errorf("notebook %v", nb.doc)
	}
}

func TestRunNotebookNeedsAServerForAPath(t *testing.T) {
	if err := run(context.Background(), []string{"x.ipynb"}, noEnv, io.Discard); err == nil || !strings.Contains(err.Error(), "-url") {
		t.Errorf("%v", err)
	}
}

// failing has a cell that raises between two that print.
const failing = `{"cells": [
 {"cell_type": "code", "id": "a", "execution_count": null, "metadata": {}, "outputs": [], "source": "print(\"first\")"},
 {"cell_type": "code", "id": "b", "execution_count": null, "metadata": {}, "outputs": [], "source": ["raise ValueError(", "\"bad input\")"]},
 {"cell_type": "code", "id": "c", "execution_count": null, "metadata": {}, "outputs": [], "source": "print(\"never\")"}
], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}, "nbformat": 4, "nbformat_minor": 5}`

// TestRunNotebookOnAServer runs a notebook stored on a server and reads it
// back: against a real Jupyter Server when NBSERV_JUPYTER_URL and
// NBSERV_JUPYTER_TOKEN are set (scripts/with-jupyter.sh), else against
// the reference server with an in-memory contents API in front of it (the
// reference server has none yet).
func TestRunNotebookOnAServer(t *testing.T) {
	base, token := os.Getenv("NBSERV_JUPYTER_URL"), os.Getenv("NBSERV_JUPYTER_TOKEN")
	if base == "" {
		base, token = contentsServer(t)
	}
	store := &contents{base: base, token: token, http: &http.Client{Timeout: time.Minute}}
	t.Cleanup(store.http.CloseIdleConnections)
	ctx := context.Background()
	path := fmt.Sprintf("run-notebook-%d.ipynb", time.Now().UnixNano())
	nb, err := parseNotebook([]byte(failing))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.save(ctx, path, nb); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = store.do(context.Background(), "DELETE", path, nil, nil) })

	var out bytes.Buffer
	err = run(ctx, []string{"-url", base, "-token", token, path}, noEnv, &out)
	if !errors.Is(err, errCellFailed) || !strings.Contains(err.Error(), "cell 2") || !strings.Contains(out.String(), "ValueError: bad input") {
		t.Fatalf("%v\n%s", err, out.String())
	}
	saved, err := store.load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	cells := saved.codeCells()
	first := cells[0]["outputs"].([]any)
	if cells[0]["execution_count"] != float64(1) || len(first) != 1 || first[0].(map[string]any)["text"] != "first\n" {
		t.Errorf("cell 1 saved as %v", cells[0])
	}
	failed := cells[1]["outputs"].([]any)
	if len(failed) != 1 || failed[0].(map[string]any)["output_type"] != "error" || failed[0].(map[string]any)["ename"] != "ValueError" {
		t.Errorf("cell 2 saved as %v", cells[1])
	}
	if cells[2]["execution_count"] != nil || len(cells[2]["outputs"].([]any)) != 0 {
		t.Errorf("cell 3 ran: %v", cells[2])
	}
	// The session and its kernel are gone.
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: base, Token: nbserv.Secret(token)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	list, err := c.Sessions.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Path == path {
			t.Errorf("session left: %+v", s)
		}
	}
}

// contentsServer serves the reference server with a notebook-only
// contents API in memory in front of it.
func contentsServer(t *testing.T) (base, token string) {
	ref := nbservtest.NewServer(t)
	var mu sync.Mutex
	files := map[string]json.RawMessage{}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/contents/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+ref.Token {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		path := strings.TrimPrefix(r.URL.Path, "/api/contents/")
		mu.Lock()
		defer mu.Unlock()
		switch r.Method {
		case "GET":
			nb, ok := files[path]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintf(w, `{"message": "No such file or directory: %s"}`, path)
				return
			}
			fmt.Fprintf(w, `{"name": %q, "path": %q, "type": "notebook", "format": "json", "content": %s}`, path, path, nb)
		case "PUT":
			var model struct {
				Type    string          `json:"type"`
				Format  string          `json:"format"`
				Content json.RawMessage `json:"content"`
			}
			if err := json.NewDecoder(r.Body).Decode(&model); err != nil || model.Type != "notebook" || model.Format != "json" {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			files[path] = model.Content
			fmt.Fprintf(w, `{"name": %q, "path": %q, "type": "notebook"}`, path, path)
		case "DELETE":
			delete(files, path)
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.Handle("/", ref.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/", ref.Token
}
