package nbserv

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestListKeepsOddSessionsAndTheOthers(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/api/sessions", 200, "["+wireNotebookSession+", "+wireOddSession+", "+wireConsoleSession+"]")
	list, err := c.Sessions.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 {
		t.Fatalf("%d sessions, want 3", len(list))
	}
	if list[0].Name != "nb1" || list[0].Malformed != nil {
		t.Errorf("first session: %+v", list[0])
	}
	odd := list[1]
	wantBad := map[string]json.RawMessage{"name": json.RawMessage(`5`), "notebook": json.RawMessage(`{"path": null, "name": 5}`)}
	if diff := cmp.Diff(wantBad, odd.Malformed); diff != "" {
		t.Errorf("Malformed (-want +got):\n%s", diff)
	}
	if odd.ID != "0caa679e-ef6e-4c3c-bfb4-bd4706324b22" || odd.Path != "" || odd.Name != "" || odd.Type != "notebook" ||
		odd.Kernel == nil || odd.Kernel.ID != "21fa6d6d-359b-4db0-a193-4a612e88ac3a" || odd.Kernel.LastActivity.IsZero() {
		t.Errorf("odd session decoded as %+v (kernel %+v)", odd, odd.Kernel)
	}
	if list[2].Name != "" || list[2].Type != "console" || list[2].Notebook != nil {
		t.Errorf("console session: %+v", list[2])
	}
}

func TestDecodeSessionCases(t *testing.T) {
	cases := []struct {
		name string
		body string
		want *Session
	}{
		{"unknown fields ignored",
			`{"id": "a-b-c-d-e", "path": "p", "name": "n", "type": "file", "kernel": null, "extra": {"x": 1}, "owner": "me"}`,
			&Session{ID: "a-b-c-d-e", Path: "p", Name: "n", Type: "file"}},
		{"legacy notebook only fills path, name and type",
			`{"id": "a-b-c-d-e", "notebook": {"path": "old.ipynb", "name": "old"}}`,
			&Session{ID: "a-b-c-d-e", Path: "old.ipynb", Name: "old", Type: "notebook", Notebook: &NotebookRef{Path: "old.ipynb", Name: "old"}}},
		{"bad time kept raw",
			`{"id": "a-b-c-d-e", "path": "p", "type": "file", "kernel": {"id": "k", "last_activity": "yesterday", "connections": "two"}}`,
			&Session{ID: "a-b-c-d-e", Path: "p", Type: "file", Kernel: &Kernel{ID: "k"},
				Malformed: map[string]json.RawMessage{"kernel.last_activity": json.RawMessage(`"yesterday"`), "kernel.connections": json.RawMessage(`"two"`)}}},
		{"kernel not an object",
			`{"id": "a-b-c-d-e", "path": "p", "type": "file", "kernel": "k"}`,
			&Session{ID: "a-b-c-d-e", Path: "p", Type: "file", Malformed: map[string]json.RawMessage{"kernel": json.RawMessage(`"k"`)}}},
		{"2.x kernel reason",
			`{"id": "a-b-c-d-e", "path": "p", "type": "file", "kernel": {"id": "k", "execution_state": "dead", "reason": "OOM"}}`,
			&Session{ID: "a-b-c-d-e", Path: "p", Type: "file", Kernel: &Kernel{ID: "k", ExecutionState: "dead", Reason: "OOM"}}},
	}
	for _, tc := range cases {
		got, err := decodeSession([]byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestDecodeRejectsNonSessions(t *testing.T) {
	for _, body := range []string{``, `[]`, `"x"`, `{"id": `, `null x`, `null`, ` null `} {
		if s, err := decodeSession([]byte(body)); err == nil {
			t.Errorf("decodeSession(%q) = %+v, want an error", body, s)
		}
	}
	for _, body := range []string{``, `{}`, `[1]`, `[{"id": "a"}, 2]`, `[`} {
		if l, err := decodeSessions([]byte(body), 1<<40); err == nil {
			t.Errorf("decodeSessions(%q) = %+v, want an error", body, l)
		}
	}
}

func TestDecodeEmptyListIsEmptyNotNil(t *testing.T) {
	l, err := decodeSessions([]byte(`[]`), 1<<40)
	if err != nil || l == nil || len(l) != 0 {
		t.Errorf("decodeSessions([]) = %#v, %v", l, err)
	}
}

// A success that holds no session is an error, not a zero
// value: null for a list, an object without an id, an id of another type.
func TestDecodeRefusesSuccessesWithoutASession(t *testing.T) {
	for _, body := range []string{`null`, ` null `, `[{}]`, `[` + wireConsoleSession + `,{"id": 5}]`, `[null]`, `[{"id": ""}]`} {
		if l, err := decodeSessions([]byte(body), 1<<40); err == nil {
			t.Errorf("decodeSessions(%s) = %v, nil error", body, l)
		}
	}
	for _, body := range []string{`null`, `{}`, `{"id": null}`, `{"id": 7, "path": "a"}`, `{"kernel": {"id": "k"}}`} {
		if s, err := decodeSession([]byte(body)); err == nil {
			t.Errorf("decodeSession(%s) = %+v, nil error", body, s)
		}
	}
	for _, body := range []string{`null`, `{}`, `{"name": "python3"}`} {
		if k, err := decodeKernel([]byte(body)); err == nil {
			t.Errorf("decodeKernel(%s) = %+v, nil error", body, k)
		}
	}
	for _, body := range []string{`null`, `[{}]`} {
		if k, err := decodeKernels([]byte(body)); err == nil {
			t.Errorf("decodeKernels(%s) = %+v, nil error", body, k)
		}
	}
}

// A malformed field is listed in Malformed and left unset, never
// half-filled: a session whose notebook does not decode has no Notebook
// (which would otherwise make fill take its empty path for the session's).
func TestMalformedNotebookIsLeftNil(t *testing.T) {
	list, err := decodeSessions([]byte(`[{"id": "a-b-c-d-e", "path": "p.ipynb", "type": "notebook", "notebook": {"path": "q.ipynb", "name": 5}}]`), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	s := list[0]
	if s.Notebook != nil || s.Path != "p.ipynb" {
		t.Errorf("Notebook %+v, Path %q: want nil and p.ipynb", s.Notebook, s.Path)
	}
	if _, ok := s.Malformed["notebook"]; !ok {
		t.Errorf("Malformed %v: want notebook listed", s.Malformed)
	}
}

// SessionType is a plain string on the wire: a type no constant names is
// kept as sent, one that is not a string is kept raw in Malformed (not a
// failed decode), and requests encode it as the string it holds.
func TestSessionTypeKeepsWhatTheServerSent(t *testing.T) {
	s, err := decodeSession([]byte(`{"id": "a-b-c-d-e", "type": "debugger"}`))
	if err != nil || s.Type != SessionType("debugger") || s.Malformed != nil {
		t.Errorf("unknown type: %+v, %v", s, err)
	}
	s, err = decodeSession([]byte(`{"id": "a-b-c-d-e", "type": 5}`))
	if err != nil || s.Type != "" || string(s.Malformed["type"]) != "5" {
		t.Errorf("non-string type: %+v, %v", s, err)
	}
	list, err := decodeSessions([]byte(`[{"id": "a", "type": "debugger"}, {"id": "b", "type": ["x"]}]`), 1<<20)
	if err != nil || len(list) != 2 || list[0].Type != "debugger" || string(list[1].Malformed["type"]) != `["x"]` {
		t.Errorf("list: %+v, %v", list, err)
	}
	b, err := json.Marshal(UpdateSessionRequest{Type: Ptr(SessionConsole)})
	if err != nil || string(b) != `{"type":"console"}` {
		t.Errorf("encoded %s, %v", b, err)
	}
}

func TestModelsDecodeFromWire(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/api/sessions/"+testSessionID, 200, wireNotebookSession)
	got, err := c.Sessions.Get(context.Background(), testSessionID)
	if err != nil {
		t.Fatal(err)
	}
	want := &Session{
		ID: testSessionID, Path: "foo/nb1.ipynb", Name: "nb1", Type: "notebook",
		Kernel: &Kernel{ID: testKernelID, Name: "python3", LastActivity: mustTime(t, "2026-11-27T00:08:47.026443Z"),
			ExecutionState: "starting"},
		Notebook: &NotebookRef{Path: "foo/nb1.ipynb", Name: "nb1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
}

// Session decoding must never panic, whatever a server or a proxy sends.
func FuzzDecodeSession(f *testing.F) {
	for _, s := range []string{wireNotebookSession, wireConsoleSession, wireOddSession, `{}`, `null`, `[]`,
		`{"kernel": {"last_activity": 5}}`, `{"notebook": "x", "name": {"a": []}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := decodeSession(body)
		if err == nil && s == nil {
			t.Fatal("nil session without an error")
		}
	})
}

// Nor must decoding a list of sessions, on either path.
func FuzzDecodeSessions(f *testing.F) {
	for _, s := range []string{"[" + wireNotebookSession + "," + wireOddSession + "]", `[]`, `[null]`, `[{"kernel": []}]`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		list, err := decodeSessions(body, 1<<40)
		if err == nil && list == nil {
			t.Fatal("nil list without an error")
		}
		if err == nil {
			// Decoding is deterministic: the lenient path agrees with itself.
			again, _ := decodeSessions(body, 1<<40)
			if len(again) != len(list) {
				t.Fatalf("second decode gave %d sessions, first %d", len(again), len(list))
			}
		}
	})
}

// The cost estimate never undercounts what the models take: for bodies it
// lets through, the decoded list holds no more than the estimate.
func TestDecodeCostIsAnUpperBound(t *testing.T) {
	c, err := NewClient(Config{BaseURL: "http://h"})
	if err != nil {
		t.Fatal(err)
	}
	odd := `{"id":"a-b-c-d-e","name":1}`
	for _, elem := range []string{`{"id":"i"}`, `{"id":"i","kernel":{"id":"k"}}`, odd, `{"id":"i","notebook":{}}`, `{"id":"i","kernel":{"id":"k"},"notebook":{"path":"p"}}`} {
		body := repeatJSON(elem, 1<<20)
		retained, v := retainedBy(func() any {
			l, err := decodeSessions([]byte(body), 1<<40)
			if err != nil {
				t.Fatal(err)
			}
			return l
		})
		runtime.KeepAlive(v)
		est := c.t.JSONCost([]byte(body))
		if elem == odd {
			est += costMalformed * int64(strings.Count(body, `"name":1`))
		}
		if retained > est {
			t.Errorf("%s: decoded list holds %d bytes, estimate %d", elem, retained, est)
		}
	}
}
