//go:build unix

package refserver

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// answerBound is how long a request to the contents API may take before a
// test calls it hung: far above any answer on a loaded machine, far below
// "for ever".
const answerBound = 30 * time.Second

// callBounded is call, failing the test when no answer comes within
// answerBound (a hung request is left blocked; the test's cleanup frees it).
func callBounded(t *testing.T, s *Server, method, target, body string) (*httptest.ResponseRecorder, map[string]any) {
	t.Helper()
	type result struct {
		rec *httptest.ResponseRecorder
		m   map[string]any
	}
	done := make(chan result, 1)
	go func() {
		rec, m := call(t, s, method, target, body)
		done <- result{rec, m}
	}()
	select {
	case r := <-done:
		return r.rec, r.m
	case <-time.After(answerBound):
		t.Fatalf("%s %s: no answer within %v", method, target, answerBound)
		return nil, nil
	}
}

// TestSpecialFilesAreRefused: a FIFO, or a symlink to /dev/zero, under the
// contents root is refused before it is opened (docs/wire/contents.md C40),
// so neither hangs the request nor, through the contents lock, every
// request after it. Writing to a FIFO (where real Jupyter hangs for good,
// docs/wire/contents.md C41) fails and leaves it a FIFO.
func TestSpecialFilesAreRefused(t *testing.T) {
	for _, gen := range []int{1, 2} {
		t.Run(map[int]string{1: "gen1", 2: "gen2"}[gen], func(t *testing.T) {
			root := t.TempDir()
			fifo := filepath.Join(root, "fifo")
			if err := syscall.Mkfifo(fifo, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(filepath.Join(root, "fifo.ipynb"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/dev/zero", filepath.Join(root, "zero")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "plain.txt"), []byte("hi"), 0o644); err != nil {
				t.Fatal(err)
			}
			// A request that did block in open(2) is freed when the test
			// ends: opening the FIFOs read-write gives them both ends.
			t.Cleanup(func() {
				for _, n := range []string{"fifo", "fifo.ipynb"} {
					if f, err := os.OpenFile(filepath.Join(root, n), os.O_RDWR, 0); err == nil {
						f.Close()
					}
				}
			})
			s := New(Options{ContentsRoot: root, Generation: gen})
			plainStillAnswers := func(after string) {
				t.Helper()
				if rec, m := callBounded(t, s, "GET", "/api/contents/plain.txt", ""); rec.Code != 200 || m["content"] != "hi" {
					t.Errorf("after %s: plain.txt %d %v", after, rec.Code, m)
				}
			}
			for _, name := range []string{"fifo", "zero", "fifo.ipynb"} {
				rec, m := callBounded(t, s, "GET", "/api/contents/"+name, "")
				if want := "Cannot read non-file " + filepath.Join(root, name); rec.Code != 400 || m["message"] != want {
					t.Errorf("GET %s: %d %v, want 400 %q", name, rec.Code, m, want)
				}
				plainStillAnswers("GET " + name)
				if rec, _ := callBounded(t, s, "GET", "/files/"+name, ""); rec.Code != 403 {
					t.Errorf("GET /files/%s: %d, want 403", name, rec.Code)
				}
				plainStillAnswers("GET /files/" + name)
				// Without content nothing is opened: Jupyter answers the model.
				if rec, m := callBounded(t, s, "GET", "/api/contents/"+name+"?content=0", ""); rec.Code != 200 || m["name"] != name {
					t.Errorf("GET %s?content=0: %d %v", name, rec.Code, m)
				}
			}
			for _, tc := range []struct{ method, target, body string }{
				{"PUT", "/api/contents/fifo", `{"type": "file", "format": "text", "content": "x"}`},
				{"PUT", "/api/contents/fifo", `{"type": "file", "format": "text", "content": "x", "chunk": 2}`},
				{"PUT", "/api/contents/zero", `{"type": "file", "format": "text", "content": "x"}`},
				{"POST", "/api/contents", `{"copy_from": "fifo"}`},
				{"POST", "/api/contents/fifo/checkpoints", ""},
			} {
				rec, _ := callBounded(t, s, tc.method, tc.target, tc.body)
				t.Logf("%s %s %s: %d %s", tc.method, tc.target, tc.body, rec.Code, rec.Body)
				if rec.Code < 400 {
					t.Errorf("%s %s %s: %d, want a refusal", tc.method, tc.target, tc.body, rec.Code)
				}
				plainStillAnswers(tc.method + " " + tc.target)
			}
			if st, err := os.Lstat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
				t.Errorf("the FIFO after the writes: %v %v", st, err)
			}
			// Concurrent readers of the FIFO and of a plain file all answer.
			var wg sync.WaitGroup
			for i := 0; i < 16; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					target, want := "/api/contents/fifo", 400
					if i%2 == 1 {
						target, want = "/files/plain.txt", 200
					}
					if rec, _ := call(t, s, "GET", target, ""); rec.Code != want {
						t.Errorf("concurrent GET %s: %d, want %d", target, rec.Code, want)
					}
				}()
			}
			all := make(chan struct{})
			go func() { wg.Wait(); close(all) }()
			select {
			case <-all:
			case <-time.After(answerBound):
				t.Fatalf("16 concurrent GETs: not all answered within %v", answerBound)
			}
		})
	}
}
