package refserver

import (
	"strings"
	"testing"
)

// TestNulInContentsPath: a NUL byte in a contents path is answered as each
// generation answers it (docs/wire/contents.md C42), on the in-memory tree
// and a real directory alike, and makes no file: not through the URL, nor
// through a rename or copy that names one in the body.
func TestNulInContentsPath(t *testing.T) {
	for _, gen := range []int{1, 2} {
		for _, backend := range []string{"memory", "directory"} {
			t.Run(map[int]string{1: "gen1", 2: "gen2"}[gen]+"/"+backend, func(t *testing.T) {
				root := ""
				if backend == "directory" {
					root = t.TempDir()
				}
				s := New(Options{ContentsRoot: root, Generation: gen})
				if rec, _ := call(t, s, "PUT", "/api/contents/a.txt", `{"type":"file","format":"text","content":"x"}`); rec.Code != 201 {
					t.Fatalf("PUT a.txt: %d", rec.Code)
				}
				for _, target := range []string{"/api/contents/n%00ul.txt", "/api/contents/d%00/x.txt", "/api/contents/%00"} {
					for _, method := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
						body := ""
						if method != "GET" && method != "DELETE" {
							body = `{"type":"file","format":"text","content":"x"}`
						}
						rec, m := call(t, s, method, target, body)
						p := strings.Trim(strings.ReplaceAll(strings.TrimPrefix(target, "/api/contents"), "%00", "\x00"), "/")
						switch {
						case gen == 2:
							if want := p + " is not a valid path"; rec.Code != 404 || m["message"] != want {
								t.Errorf("%s %s: %d %v, want 404 %q", method, target, rec.Code, m, want)
							}
						case method == "POST": // 1.23.3's dir_exists is False for it
							if want := "No such directory: " + p; rec.Code != 404 || m["message"] != want {
								t.Errorf("%s %s: %d %v, want 404 %q", method, target, rec.Code, m, want)
							}
						case rec.Code != 500 || m["message"] != "Unhandled error" || !strings.Contains(m["traceback"].(string), "ValueError: embedded null byte"):
							t.Errorf("%s %s: %d %v, want 500 ValueError", method, target, rec.Code, m)
						}
					}
				}
				wantFiles := map[int]int{1: 404, 2: 500}[gen]
				if rec, _ := call(t, s, "GET", "/files/n%00ul.txt", ""); rec.Code != wantFiles {
					t.Errorf("GET /files/n%%00ul.txt: %d, want %d", rec.Code, wantFiles)
				}
				// Names from the body: the same answers, and nothing is made.
				for _, tc := range []struct{ method, target, body, name string }{
					{"PATCH", "/api/contents/a.txt", `{"path": "r\u0000n.txt"}`, "r\x00n.txt"},
					{"POST", "/api/contents", `{"copy_from": "a\u0000.txt"}`, "a\x00.txt"},
				} {
					rec, m := call(t, s, tc.method, tc.target, tc.body)
					if gen == 2 && (rec.Code != 404 || m["message"] != tc.name+" is not a valid path") ||
						gen == 1 && (rec.Code != 500 || !strings.Contains(m["traceback"].(string), "ValueError: embedded null byte")) {
						t.Errorf("%s %s %s: %d %v", tc.method, tc.target, tc.body, rec.Code, m)
					}
				}
				rec, m := call(t, s, "GET", "/api/contents", "")
				list, _ := m["content"].([]any)
				if rec.Code != 200 || len(list) != 1 || list[0].(map[string]any)["name"] != "a.txt" {
					t.Errorf("the root after NUL paths: %d %v", rec.Code, m["content"])
				}
			})
		}
	}
}
