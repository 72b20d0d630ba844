package refserver

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Kernel interrupt and restart, and the kernel fault controls, as recorded
// in docs/wire/kernels.md K2-K13.

func (w *wire) startKernel() map[string]any {
	w.t.Helper()
	a := w.ok("POST", w.ref.Prefix()+"api/kernels", "")
	if a.status != 201 {
		w.t.Fatalf("start kernel: %d %s", a.status, a.body)
	}
	return a.obj(w.t)
}

func TestKernelInterrupt(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	k := w.startKernel()
	id := k["id"].(string)
	a := w.ok("POST", "/api/kernels/"+id+"/interrupt", "")
	if a.status != 204 || a.body != "" || a.header.Get("Content-Type") != "" {
		t.Errorf("interrupt: %d %q %q", a.status, a.header.Get("Content-Type"), a.body)
	}
	if after := w.ok("GET", "/api/kernels/"+id, "").obj(t); !cmp.Equal(after, k) {
		t.Errorf("interrupt changed the model: %v, was %v", after, k)
	}
	expectError(t, w.ok("POST", "/api/kernels/a-b-c-d-e/interrupt", ""), 404, "Kernel does not exist: a-b-c-d-e")
}

func TestKernelRestart(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	k := w.startKernel()
	id := k["id"].(string)
	before := time.Now().Add(-time.Hour)
	if err := w.ref.SetKernelActivity(id, "starting", before); err != nil {
		t.Fatal(err)
	}
	a := w.ok("POST", "/api/kernels/"+id+"/restart", "")
	m := a.obj(t)
	if a.status != 200 || a.header.Get("Location") != "" || m["id"] != id || m["name"] != "python3" || m["execution_state"] != "idle" {
		t.Fatalf("restart: %d %s", a.status, a.body)
	}
	if after, _ := time.Parse(time.RFC3339Nano, m["last_activity"].(string)); !after.After(before) || !isoRE.MatchString(m["last_activity"].(string)) {
		t.Errorf("last_activity %v, before the restart %v", m["last_activity"], before)
	}
	if got := w.ok("GET", "/api/kernels/"+id, "").obj(t); !cmp.Equal(got, m) {
		t.Errorf("GET after restart %v, restart answered %v", got, m)
	}

	// An unknown kernel: a 500 with a traceback list and no reason.
	u := w.ok("POST", "/api/kernels/a-b-c-d-e/restart", "")
	um := u.obj(t)
	tb, _ := um["traceback"].([]any)
	if _, hasReason := um["reason"]; u.status != 500 || um["message"] != "Exception restarting kernel" || len(tb) == 0 || hasReason ||
		u.header.Get("Content-Type") != "application/json" {
		t.Errorf("restart of an unknown kernel: %d %s", u.status, u.body)
	}
	if !strings.Contains(tb[len(tb)-1].(string), "Kernel does not exist: a-b-c-d-e") {
		t.Errorf("traceback %v does not say why", tb)
	}
}

func TestKernelActionRouting(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	id := w.startKernel()["id"].(string)
	for _, action := range []string{"interrupt", "restart"} {
		path := "/api/kernels/" + id + "/" + action
		// Reads are refused before the token is checked; writes fail the
		// XSRF check first.
		expectError(t, w.call("GET", path, "", ""), 405, "Method Not Allowed")
		if a := w.call("HEAD", path, "", ""); a.status != 405 {
			t.Errorf("HEAD %s: %d", path, a.status)
		}
		expectError(t, w.call("POST", path, "", ""), 403, "'_xsrf' argument missing from POST")
		expectError(t, w.call("DELETE", path, "", ""), 403, "'_xsrf' argument missing from POST")
		expectError(t, w.ok("DELETE", path, ""), 405, "Method Not Allowed")
		if a := w.ok("GET", path+"/", ""); a.status != 302 || a.header.Get("Location") != path {
			t.Errorf("trailing slash: %d %q", a.status, a.header.Get("Location"))
		}
	}
	expectHTML404(t, w.ok("POST", "/api/kernels/"+id+"/foo", ""))
	expectHTML404(t, w.ok("POST", "/api/kernels/abc/restart", ""))
}

func TestFailRestarts(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	id := w.startKernel()["id"].(string)
	if err := w.ref.FailRestarts(id, 1); err != nil {
		t.Fatal(err)
	}
	a := w.ok("POST", "/api/kernels/"+id+"/restart", "")
	if m := a.obj(t); a.status != 500 || m["message"] != "Exception restarting kernel" {
		t.Fatalf("failed restart: %d %s", a.status, a.body)
	}
	// Still listed, idle, and its last_activity is the failed restart's.
	k := w.ok("GET", "/api/kernels/"+id, "").obj(t)
	if k["execution_state"] != "idle" {
		t.Errorf("after a failed restart: %v", k)
	}
	if st := w.ok("GET", "/api/status", "").obj(t); st["kernels"] != 1.0 {
		t.Errorf("status %v", st)
	}
	// Nothing runs: an interrupt crashes.
	i := w.ok("POST", "/api/kernels/"+id+"/interrupt", "")
	if m := i.obj(t); i.status != 500 || m["message"] != "Unhandled error" || !strings.Contains(m["traceback"].(string), "No kernel is running") {
		t.Errorf("interrupt with no process: %d %s", i.status, i.body)
	}
	// The next restart succeeds; with no old process to shut down, the
	// model does not move.
	r := w.ok("POST", "/api/kernels/"+id+"/restart", "")
	if r.status != 200 || !cmp.Equal(r.obj(t), k) {
		t.Errorf("restart after a failure: %d %s, before %v", r.status, r.body, k)
	}
	if i := w.ok("POST", "/api/kernels/"+id+"/interrupt", ""); i.status != 204 {
		t.Errorf("interrupt after a good restart: %d", i.status)
	}

	// Several failures; n <= 0 cancels them.
	_ = w.ref.FailRestarts(id, 2)
	for range 2 {
		if a := w.ok("POST", "/api/kernels/"+id+"/restart", ""); a.status != 500 {
			t.Errorf("restart %d", a.status)
		}
	}
	_ = w.ref.FailRestarts(id, 3)
	_ = w.ref.FailRestarts(id, -1)
	if a := w.ok("POST", "/api/kernels/"+id+"/restart", ""); a.status != 200 {
		t.Errorf("restart after FailRestarts(-1): %d", a.status)
	}
	if err := w.ref.FailRestarts("nope", 1); !errors.Is(err, ErrNoSuchKernel) {
		t.Errorf("FailRestarts of an unknown kernel: %v", err)
	}
}

func TestKillKernelLeavesTheList(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	s := w.create(`{"path": "k.ipynb", "type": "notebook"}`)
	kid := kernelOf(s)["id"].(string)
	if err := w.ref.KillKernel(kid); err != nil {
		t.Fatal(err)
	}
	expectError(t, w.ok("GET", "/api/kernels/"+kid, ""), 404, "Kernel does not exist: "+kid)
	if a := w.ok("GET", "/api/sessions/"+s["id"].(string), ""); a.status != 404 {
		t.Errorf("the session outlived its kernel: %d %s", a.status, a.body)
	}
	if err := w.ref.KillKernel(kid); !errors.Is(err, ErrNoSuchKernel) {
		t.Errorf("second kill: %v", err)
	}
	if err := w.ref.SetKernelActivity(kid, "busy", time.Now()); !errors.Is(err, ErrNoSuchKernel) {
		t.Errorf("SetKernelActivity of a dead kernel: %v", err)
	}
}

func TestKernelNamesIgnoreCase(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	a := w.ok("POST", "/api/kernels", `{"name": "PYTHON3"}`)
	if m := a.obj(t); a.status != http.StatusCreated || m["name"] != "PYTHON3" {
		t.Errorf("start PYTHON3: %d %s", a.status, a.body)
	}
}
