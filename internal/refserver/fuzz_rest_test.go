package refserver

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRESTHandler throws arbitrary requests at the routes beyond sessions
// (kernel actions, kernelspec files, config sections, terminals): no
// panic, JSON answers are valid JSON, and the server answers afterwards.
// KID in the path stands for a running kernel's id.
func FuzzRESTHandler(f *testing.F) {
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "/api/kernels/KID/restart", ""},
		{"POST", "/api/kernels/KID/interrupt", ""},
		{"GET", "/api/kernelspecs/py%2520thon", ""},
		{"GET", "/kernelspecs/python3/%2e%2e/%2e%2e/x", ""},
		{"HEAD", "/kernelspecs/PYTHON3/logo-64x64.png", ""},
		{"PATCH", "/api/config/s", `{"a": {"b": null, "c": [1]}, "d": {}}`},
		{"PATCH", "/api/config/s", `{"a": 1e400, "b": -0}`},
		{"PUT", "/api/config/s", `{"a": null}`},
		{"POST", "/api/terminals", `{"name": 5.0, "width": 1e400}`},
		{"POST", "/api/terminals", `{"cwd": "x", "winwidth": 1, "winheight": "a"}`},
		{"DELETE", "/api/terminals/1", ""},
		{"GET", "/login?next=%2F%2Fx", ""},
		{"GET", "/api/spec.yaml", ""},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") {
			return
		}
		s := New(Options{Generation: 1})
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/api/kernels", nil))
		var k struct{ ID string }
		_ = json.Unmarshal(rec.Body.Bytes(), &k)
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/terminals", nil))
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PATCH", "/api/config/s", strings.NewReader(`{"x": {"y": 1}}`)))
		path = strings.ReplaceAll(path, "KID", k.ID)

		req, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Header().Get("Content-Type") == "application/json" && rec.Body.Len() > 0 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON answer %q", method, path, rec.Body.String())
		}
		for _, p := range []string{"/api/config/s", "/api/terminals", "/api/kernels"} {
			rec = httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
			if rec.Code != 200 || !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("GET %s after %s %s: %d %s", p, method, path, rec.Code, rec.Body.String())
			}
		}
	})
}
