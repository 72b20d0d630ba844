package refserver

import (
	"testing"
	"time"
)

// TestActivity: what Jupyter counts in /api/status's last_activity
// (docs/wire/server.md SV4): every API answer to a
// token-authenticated request, errors included, but not /api/status itself,
// ?no_track_activity, or requests without the token; kernel activity and
// shutdowns too.
func TestActivity(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		method, path, auth string
		counts             bool
	}{
		{"GET", "/api", "token", true},
		{"GET", "/api", "", false},
		{"GET", "/api/sessions", "", false},
		{"PUT", "/api/sessions", "token", true},
		{"GET", "/api/sessions/a-b-c-d-e", "token", true},
		{"GET", "/api/status", "token", false},
		{"GET", "/api/sessions?no_track_activity", "token", false},
		{"GET", "/api/sessions?no_track_activity=0", "token", false},
		{"GET", "/nope", "token", false},
	} {
		w.ref.mu.Lock()
		w.ref.lastAct = old
		w.ref.mu.Unlock()
		w.call(c.method, c.path, "", c.auth)
		w.ref.mu.Lock()
		counted := !w.ref.lastAct.Equal(old)
		w.ref.mu.Unlock()
		if counted != c.counts {
			t.Errorf("%s %s (%q): counted %v, want %v", c.method, c.path, c.auth, counted, c.counts)
		}
	}
	k := w.ok("POST", "/api/kernels", "").obj(t)
	future := time.Now().Add(time.Hour).UTC()
	if err := w.ref.SetKernelActivity(k["id"].(string), "busy", future); err != nil {
		t.Fatal(err)
	}
	if st := w.ok("GET", "/api/status", "").obj(t); st["last_activity"] != isoformat(future) {
		t.Errorf("status last_activity %v, want the kernel's %v", st["last_activity"], isoformat(future))
	}
}
