package refserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary requests to the reference server: it must
// never panic, never leave its lock held, and answer JSON wherever it says
// it does.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "/api/sessions", `{"path": "a", "type": "notebook", "name": "n", "kernel": {"name": "python3"}}`},
		{"POST", "/api/sessions", `{"notebook": {"path": 5}}`},
		{"POST", "/api/sessions", `[]`},
		{"PATCH", "/api/sessions/a-b-c-d-e", `{"kernel": {"id": 5}}`},
		{"PATCH", "/api/sessions/SID", `{"kernel": {"name": "python3"}, "path": null, "name": 5}`},
		{"PATCH", "/api/sessions/SID", `{"notebook": {"path": "x"}, "type": true}`},
		{"DELETE", "/api/sessions/SID", ""},
		{"GET", "/api/sessions/", ""},
		{"DELETE", "/api/kernels/a-b-c-d-e", ""},
		{"GET", "/api/kernelspecs", ""},
		{"PUT", "/api", "null"},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		s := New(Options{Generation: 1})
		// A session to act on, so PATCH and DELETE reach their handlers.
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/api/sessions", strings.NewReader(`{"path": "p", "type": "notebook"}`)))
		var created struct{ ID string }
		json.Unmarshal(rec.Body.Bytes(), &created)
		path = strings.ReplaceAll(path, "SID", created.ID)

		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Type") == "application/json" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON answer %q", method, path, rec.Body.String())
		}
		// The server still answers: no lock left held.
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/sessions", nil))
		if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("list after %s %s: %d %s", method, path, rec.Code, rec.Body.String())
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
