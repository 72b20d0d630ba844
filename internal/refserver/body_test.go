package refserver

import (
	"bytes"
	"io"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// zeros is a JSON array of n zeros: two bytes a value, the cheapest body
// per value there is.
func zeros(n int) string {
	return "[" + strings.TrimSuffix(strings.Repeat("0,", n), ",") + "]"
}

// allocated serves one request in-process and returns the bytes allocated
// meanwhile: an upper bound of the heap the request took at its peak.
func allocated(t *testing.T, s *Server, method, path string, body []byte, chunked bool) (uint64, *httptest.ResponseRecorder) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if chunked {
		rd = io.MultiReader(rd) // hides the length: read as a chunked body is
	}
	req := httptest.NewRequest(method, path, rd)
	if chunked {
		req.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.ServeHTTP(rec, req)
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, rec
}

// TestRequestMemoryIsBounded: one request to the sessions or kernels
// routes allocates at most 2 MiB, whatever its body (a 10 MiB [0,0,…] body
// once took 300 MiB of heap). Bodies beyond 64 KiB or 10,000 JSON values
// are refused with 413 before they are decoded.
func TestRequestMemoryIsBounded(t *testing.T) {
	const bound = 2 << 20
	s := New(Options{Generation: 1})
	big := []byte(zeros(5 << 20)) // 10 MiB, 5M values
	many := []byte(zeros(10_001)) // 20 KiB, just over the value limit
	enough := []byte(`{"path": "p", "type": "file", "x": ` + zeros(9_990) + `}`)
	long := []byte(`{"path": "long", "type": "file", "name": "` + strings.Repeat("é", (64<<10-100)/2) + `"}`)
	for _, c := range []struct {
		name    string
		method  string
		path    string
		body    []byte
		chunked bool
		status  int
	}{
		{"10 MiB, with a length", "POST", "/api/sessions", big, false, 413},
		{"10 MiB, chunked", "POST", "/api/sessions", big, true, 413},
		{"10 MiB to kernels", "POST", "/api/kernels", big, true, 413},
		{"10 MiB PATCH", "PATCH", "/api/sessions/a-b-c-d-e", big, true, 413},
		{"10,001 values", "POST", "/api/sessions", many, false, 413},
		{"10,000 values", "POST", "/api/sessions", enough, false, 201},
		{"a 64 KiB name", "POST", "/api/sessions", long, false, 201},
	} {
		n, rec := allocated(t, s, c.method, c.path, c.body, c.chunked)
		if rec.Code != c.status {
			t.Errorf("%s: %d %.100s, want %d", c.name, rec.Code, rec.Body.String(), c.status)
		}
		if c.status == 413 && rec.Header().Get("Connection") != "close" {
			t.Errorf("%s: 413 leaves the connection open with its body unread", c.name)
		}
		t.Logf("%s (%d bytes): %d bytes allocated", c.name, len(c.body), n)
		if n > bound {
			t.Errorf("%s: %d bytes allocated, bound %d", c.name, n, bound)
		}
	}
}

// TestBodyAsJupyterReadsIt: the body is stripped of Python's white space
// and must be UTF-8 (Jupyter crashes otherwise).
func TestBodyAsJupyterReadsIt(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	if a := w.ok("POST", "/api/sessions", "\f\v{\"path\": \"ff\", \"type\": \"file\"}\f"); a.status != 201 {
		t.Errorf("form feeds around the body: %d %s", a.status, a.body)
	}
	expectError(t, w.ok("POST", "/api/sessions", " \n "), 400, "Invalid JSON in body of request")
	a := w.ok("POST", "/api/sessions", "{\"path\": \"\xff\", \"type\": \"file\"}")
	if m := a.obj(t); a.status != 500 || m["message"] != "Unhandled error" || !strings.Contains(m["traceback"].(string), "UnicodeDecodeError") {
		t.Errorf("not UTF-8: %d %s", a.status, a.body)
	}
}

func TestCountJSONValues(t *testing.T) {
	for in, want := range map[string]int{
		`0`: 1, `[]`: 2, `[0,0,0]`: 4, `{"a":1,"b":[2]}`: 6, `"a,b:[{"`: 1, `"\",["`: 1, `["\\",1]`: 3,
	} {
		if got := countJSONValues([]byte(in), 100); got != want {
			t.Errorf("%s: %d, want %d", in, got, want)
		}
	}
	if got := countJSONValues([]byte(zeros(1000)), 10); got != 11 {
		t.Errorf("stops past the limit: %d", got)
	}
}
