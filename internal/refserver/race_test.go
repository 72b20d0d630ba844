package refserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// createConcurrently sends n creates for one path at once and returns the
// session ids they answered.
func (w *wire) createConcurrently(n int, body string) []string {
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := w.call("POST", "/api/sessions", body, "token")
			var m map[string]any
			json.Unmarshal([]byte(a.body), &m)
			ids[i], _ = m["id"].(string)
		}()
	}
	wg.Wait()
	return ids
}

// TestConcurrentCreatesWithKernelStartDelay: Jupyter 1.23.3 looks for a
// session at the path before the kernel starts and writes the row after,
// so three concurrent creates for one path made three sessions and three
// kernels (docs/wire/sessions.md S2). With a kernel start delay the
// reference server opens the same window; without one it is atomic.
func TestConcurrentCreatesWithKernelStartDelay(t *testing.T) {
	const body = `{"path": "race/r.ipynb", "type": "notebook"}`
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.ref.SetKernelStartDelay(200 * time.Millisecond)
	ids := w.createConcurrently(3, body)
	if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] || ids[0] == "" {
		t.Errorf("3 concurrent creates with a start delay answered %v, want 3 sessions as Jupyter", ids)
	}
	list := w.ok("GET", "/api/sessions", "").json(t).([]any)
	kernels := w.ok("GET", "/api/kernels", "").json(t).([]any)
	if len(list) != 3 || len(kernels) != 3 {
		t.Errorf("%d sessions, %d kernels; want 3 and 3", len(list), len(kernels))
	}
	// Afterwards the path's first row (by rowid) is the one a create finds.
	first := list[0].(map[string]any)["id"]
	w.ref.SetKernelStartDelay(0)
	if again := w.create(body); again["id"] != first {
		t.Errorf("create after the race: %v, want the first row %v", again["id"], first)
	}

	w = newWire(t, Options{Token: tok, Generation: 1})
	ids = w.createConcurrently(3, body)
	if ids[0] != ids[1] || ids[1] != ids[2] || ids[0] == "" {
		t.Errorf("without a delay: %v, want one session", ids)
	}
}

// Every kernel start takes the delay: POST /api/kernels, a create, a PATCH
// to a new kernel.
func TestKernelStartDelay(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	w.ref.SetKernelStartDelay(300 * time.Millisecond)
	done := make(chan answer)
	go func() { done <- w.call("POST", "/api/kernels", "", "token") }()
	go func() { done <- w.call("POST", "/api/sessions", `{"path": "k", "type": "file"}`, "token") }()
	for range 2 {
		if a := <-done; a.status != 201 {
			t.Errorf("start with a delay: %d %s", a.status, a.body)
		}
	}
	if l := w.ok("GET", "/api/kernels", "").json(t).([]any); len(l) != 2 {
		t.Errorf("%d kernels after the starts, want 2", len(l))
	}
	// A PATCH to a new kernel waits too; the session keeps its old kernel until then.
	s := w.create(`{"path": "p", "type": "file"}`)
	old := kernelOf(s)["id"]
	if m := w.ok("PATCH", "/api/sessions/"+s["id"].(string), `{"kernel": {"name": "python3"}}`).obj(t); kernelOf(m)["id"] == old {
		t.Errorf("PATCH with a delay kept the old kernel")
	}
}

// A session deleted while its new kernel starts: the PATCH answers 404 and
// the new kernel stays, as in Jupyter.
func TestPatchLosesItsSessionWhileTheKernelStarts(t *testing.T) {
	s := New(Options{Generation: 1})
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("POST", "/api/sessions", strings.NewReader(`{"path": "p", "type": "file"}`)))
	var m map[string]any
	json.Unmarshal(rec.Body.Bytes(), &m)
	id := m["id"].(string)
	s.SetKernelStartDelay(200 * time.Millisecond)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("PATCH", "/api/sessions/"+id, strings.NewReader(`{"kernel": {"name": "python3"}}`)))
		done <- rec
	}()
	for s.Requests() < 2 {
		time.Sleep(time.Millisecond)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("DELETE", "/api/sessions/"+id, nil))
	if rec.Code != http.StatusNoContent {
		t.Fatalf("delete: %d", rec.Code)
	}
	if rec := <-done; rec.Code != http.StatusNotFound {
		t.Errorf("PATCH of a session deleted meanwhile: %d %s", rec.Code, rec.Body.String())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.kernels) != 1 {
		t.Errorf("%d kernels, want the new one left running", len(s.kernels))
	}
}
