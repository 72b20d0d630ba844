package nbservtest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nbserv/go-nbserv/nbservtest"
)

func TestContentsHelpers(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/t/"))
	if err := srv.WriteFile("work/a.txt", []byte("seeded")); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", srv.URL+"api/contents/work/b.txt", strings.NewReader(`{"type": "file", "format": "text", "content": "via API"}`))
	req.Header.Set("Authorization", "token "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	if b, err := srv.ReadFile("work/b.txt"); err != nil || string(b) != "via API" {
		t.Errorf("ReadFile: %q %v", b, err)
	}
	req, _ = http.NewRequest("GET", srv.URL+"files/work/a.txt", nil)
	req.Header.Set("Authorization", "token "+srv.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "seeded" {
		t.Errorf("files: %q", body)
	}
	if names, err := srv.ListDir("work"); err != nil || strings.Join(names, ",") != "a.txt,b.txt" {
		t.Errorf("ListDir: %v %v", names, err)
	}
	if err := srv.Mkdir("../out"); !errors.Is(err, nbservtest.ErrOutsideRoot) {
		t.Errorf("Mkdir outside the root: %v", err)
	}
}

func TestWithContentsRoot(t *testing.T) {
	dir := t.TempDir()
	srv := nbservtest.NewServer(t, nbservtest.WithContentsRoot(dir))
	if err := srv.WriteFile("d/x.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "d", "x.txt")); err != nil || string(b) != "x" {
		t.Errorf("on disk: %q %v", b, err)
	}
}

// Seed a notebook for the code under test, then read back what it wrote.
func ExampleServer_WriteFile() {
	srv, err := nbservtest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	_ = srv.WriteFile("in/data.csv", []byte("a,b\n1,2\n"))
	// ... the code under test reads in/data.csv through the API ...
	b, _ := srv.ReadFile("in/data.csv")
	fmt.Printf("%q\n", b)
	// Output: "a,b\n1,2\n"
}
