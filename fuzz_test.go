package nbserv

import (
	"regexp"
	"testing"
)

// Response decoding must never panic, whatever a server or a proxy sends.

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

func FuzzValidID(f *testing.F) {
	route := regexp.MustCompile(`^\w+-\w+-\w+-\w+-\w+$`)
	f.Add(testSessionID)
	f.Add("a-b--c-d")
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), route.MatchString(id); got != want {
			t.Fatalf("validID(%q) = %v, Jupyter's route says %v", id, got, want)
		}
	})
}
