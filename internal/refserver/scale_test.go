package refserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serve runs one request in-process and returns its answer.
func serve(s *Server, method, path, body string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

// BenchmarkCreateAtScale creates and deletes a session on a server already
// holding n sessions. Finding a path's session was a scan of every
// session (125 µs per create at first, 1 ms at 30k sessions); with the
// path index the cost is flat.
func BenchmarkCreateAtScale(b *testing.B) {
	for _, n := range []int{1_000, 30_000} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			s := New(Options{Generation: 1})
			for i := range n {
				if rec := serve(s, "POST", "/api/sessions", fmt.Sprintf(`{"path": "p%d", "type": "file"}`, i)); rec.Code != http.StatusCreated {
					b.Fatal(rec.Code)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				rec := serve(s, "POST", "/api/sessions", fmt.Sprintf(`{"path": "new%d", "type": "file"}`, i))
				var m struct{ ID string }
				json.Unmarshal(rec.Body.Bytes(), &m)
				if serve(s, "DELETE", "/api/sessions/"+m.ID, "").Code != http.StatusNoContent {
					b.Fatal("delete")
				}
			}
		})
	}
}

// TestPathIndex: the index answers as Jupyter's SELECT … WHERE path=?
// does: the first row by rowid, also after renames, deletes and kernel
// deaths, with SQL's equality of numbers; the list stays in rowid order.
func TestPathIndex(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	var ids []string
	for i := range 100 {
		ids = append(ids, w.create(fmt.Sprintf(`{"path": "p%d", "type": "file"}`, i))["id"].(string))
	}
	for i := 0; i < 100; i += 3 { // holes in the middle, enough to compact
		w.ok("DELETE", "/api/sessions/"+ids[i], "")
	}
	var want []string
	for i, id := range ids {
		if i%3 != 0 {
			want = append(want, id)
		}
	}
	var got []string
	for _, m := range w.ok("GET", "/api/sessions", "").json(t).([]any) {
		got = append(got, m.(map[string]any)["id"].(string))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("list after deletes is not in creation order:\n got %v\nwant %v", got, want)
	}
	// Renaming a later row onto an earlier row's path: the earlier row is found.
	w.ok("PATCH", "/api/sessions/"+ids[2], `{"path": "p1"}`)
	if m := w.create(`{"path": "p1", "type": "file"}`); m["id"] != ids[1] {
		t.Errorf("create on p1: %v, want the first row %s", m["id"], ids[1])
	}
	// Renaming the first row away leaves the second.
	w.ok("PATCH", "/api/sessions/"+ids[1], `{"path": "elsewhere"}`)
	if m := w.create(`{"path": "p1", "type": "file"}`); m["id"] != ids[2] {
		t.Errorf("create on p1 after the rename: %v, want %s", m["id"], ids[2])
	}
	// Numbers: 7, 7.0 and true (1) as SQL compares them.
	w.ok("PATCH", "/api/sessions/"+ids[4], `{"path": 7}`)
	w.ok("PATCH", "/api/sessions/"+ids[5], `{"path": true}`)
	kid := kernelOf(w.ok("GET", "/api/sessions/"+ids[4], "").obj(t))["id"].(string)
	for body, want := range map[string]string{
		`{"path": 7.0, "type": "file", "kernel": {"id": "` + kid + `"}}`: ids[4],
		`{"path": 1, "type": "file", "kernel": {"id": "` + kid + `"}}`:   ids[5],
		`{"path": 1e0, "type": "file", "kernel": {"id": "` + kid + `"}}`: ids[5],
	} {
		if m := w.ok("POST", "/api/sessions", body).obj(t); m["id"] != want {
			t.Errorf("%s: %v, want %s", body, m["id"], want)
		}
	}
	// The first row's kernel died: that row is pruned and a new session is
	// made, though a later row has the same path (as session_exists does).
	w.ok("PATCH", "/api/sessions/"+ids[7], `{"path": "p8"}`)
	if err := w.ref.KillSessionKernel(ids[7]); err != nil {
		t.Fatal(err)
	}
	if m := w.create(`{"path": "p8", "type": "file"}`); m["id"] == ids[8] || m["id"] == ids[7] {
		t.Errorf("create on p8 after its first row's kernel died: %v", m["id"])
	}
}
