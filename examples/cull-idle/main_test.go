package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// mainArgsEnv, when set, makes the test binary run main with these
// arguments (a JSON array) instead of the tests, so that a test can see the
// real exit status.
const mainArgsEnv = "CULL_IDLE_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainArgsEnv); ok {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"cull-idle"}, a...)
		main() // exits
	}
	goleak.VerifyTestMain(m)
}

// serverVars are the variables nbserv.ConfigFromEnv reads.
var serverVars = []string{"JUPYTER_URL", "JUPYTER_TOKEN", "JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_SERVICE_PREFIX",
	"JUPYTERHUB_SERVICE_NAME", "JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"}

// setEnv clears the server variables (the developer's shell may run inside
// a hub) and sets env.
func setEnv(t *testing.T, env ...string) {
	for _, k := range serverVars {
		t.Setenv(k, "")
	}
	for i := 0; i+1 < len(env); i += 2 {
		t.Setenv(env[i], env[i+1])
	}
}

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// server is a reference server behind a proxy that reports connections
// to kernels (the reference server has no kernel channels, so its kernels
// never have any) and can act after each GET /api/kernels.
type server struct {
	*nbservtest.Server
	URL string // the proxy's

	mu          sync.Mutex
	connections map[string]int // by kernel id
	afterList   func()
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{Server: nbservtest.NewServer(t), connections: map[string]int{}}
	proxy := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(proxy.Close)
	t.Cleanup(proxy.CloseClientConnections)
	s.URL = proxy.URL + "/"
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	var v any
	if r.Method == "GET" && json.Unmarshal(body, &v) == nil {
		s.mu.Lock()
		s.connect(v)
		s.mu.Unlock()
		body, _ = json.Marshal(v)
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
	s.mu.Lock()
	after := s.afterList
	s.mu.Unlock()
	if r.Method == "GET" && r.URL.Path == "/api/kernels" && after != nil {
		after()
	}
}

// connect sets "connections" in every kernel model within v; the caller
// holds s.mu.
func (s *server) connect(v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			s.connect(e)
		}
	case map[string]any:
		if id, ok := v["id"].(string); ok {
			if _, ok := v["connections"]; ok {
				v["connections"] = s.connections[id]
			}
		}
		s.connect(v["kernel"])
	}
}

func (s *server) setConnections(kernelID string, n int) {
	s.mu.Lock()
	s.connections[kernelID] = n
	s.mu.Unlock()
}

// kernel is one kernel of the fixture, by its role in the tests.
type kernel struct {
	name        string // its session's path, or "-" for none
	state       string
	ago         time.Duration // since its last activity; -1: none reported
	connections int
}

// fixture has a kernel for every rule (timeout 1h).
var fixture = []kernel{
	{"idle-3h", "idle", 3 * time.Hour, 0},
	{"busy-3h", "busy", 3 * time.Hour, 0},
	{"idle-10m", "idle", 10 * time.Minute, 0},
	{"starting-2h", "starting", 2 * time.Hour, 0},
	{"-", "idle", 3 * time.Hour, 0}, // no session
	{"connected-3h", "idle", 3 * time.Hour, 2},
	{"dead-1m", "dead", time.Minute, 0},
	{"idle-exactly-1h", "idle", time.Hour, 0},
	{"no-activity", "idle", -1, 0},
	{"busy-connected-3h", "busy", 3 * time.Hour, 1},
}

// setup creates the fixture's kernels, returning their ids by name ("-"
// for the one with no session).
func setup(t *testing.T) (*server, map[string]string) {
	t.Helper()
	srv := newServer(t)
	ctx := context.Background()
	ids := map[string]string{}
	for _, k := range fixture {
		var id string
		if k.name == "-" {
			kern, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
			if err != nil {
				t.Fatal(err)
			}
			id = kern.ID
		} else {
			s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: k.name, Type: nbserv.SessionNotebook})
			if err != nil {
				t.Fatal(err)
			}
			id = s.Kernel.ID
		}
		last := now.Add(-k.ago)
		if k.ago < 0 {
			last = time.Time{}
		}
		if err := srv.SetKernelActivity(id, k.state, last); err != nil {
			t.Fatal(err)
		}
		srv.setConnections(id, k.connections)
		ids[k.name] = id
	}
	return srv, ids
}

type result struct {
	code           int
	stdout, stderr string
}

// cull runs cull-idle against srv with a timeout of 1h and the clock at
// now.
func cull(t *testing.T, srv *server, extra ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	p := program{stdout: &stdout, stderr: &stderr, now: func() time.Time { return now },
		wait: func(context.Context, time.Duration) error {
			t.Error("waited with -cull-interval 0")
			return context.Canceled
		}}
	args := append([]string{"-url", srv.URL, "-token", srv.Token, "-cull-idle-timeout", "1h"}, extra...)
	code := p.run(context.Background(), args)
	return result{code, stdout.String(), stderr.String()}
}

// culledNames returns the fixture names of the kernels out reports as
// culled (or that it would cull).
func culledNames(out string, ids map[string]string) []string {
	var names []string
	for name, id := range ids {
		for _, line := range strings.Split(out, "\n") {
			if (strings.HasPrefix(line, "culled kernel "+id[:8]) || strings.HasPrefix(line, "would cull kernel "+id[:8])) && !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestCullIdleRules(t *testing.T) {
	setEnv(t)
	for _, tc := range []struct {
		flags []string
		want  []string
	}{
		// Jupyter's defaults: idle, starting and dead kernels, with a
		// session or not; busy and connected ones are kept, and so are
		// those inactive for exactly the timeout or with no activity time.
		{nil, []string{"-", "dead-1m", "idle-3h", "starting-2h"}},
		{[]string{"-cull-busy"}, []string{"-", "busy-3h", "dead-1m", "idle-3h", "starting-2h"}},
		{[]string{"-cull-connected"}, []string{"-", "connected-3h", "dead-1m", "idle-3h", "starting-2h"}},
		{[]string{"-cull-busy", "-cull-connected"}, []string{"-", "busy-3h", "busy-connected-3h", "connected-3h", "dead-1m", "idle-3h", "starting-2h"}},
		// Seconds, as Jupyter's config writes it: 2h keeps starting-2h.
		{[]string{"-cull-idle-timeout", "7200"}, []string{"-", "dead-1m", "idle-3h"}},
	} {
		t.Run(strings.Join(tc.flags, " "), func(t *testing.T) {
			srv, ids := setup(t)
			r := cull(t, srv, tc.flags...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("%+v", r)
			}
			if got := culledNames(r.stdout, ids); !slices.Equal(got, tc.want) {
				t.Errorf("would cull %q, want %q; output:\n%s", got, tc.want, r.stdout)
			}
			if ks, _ := srv.Client.Kernels.List(context.Background()); len(ks) != len(fixture) {
				t.Errorf("a dry run shut %d kernel(s) down", len(fixture)-len(ks))
			}
		})
	}
}

func TestCullIdleDeletes(t *testing.T) {
	setEnv(t)
	srv, ids := setup(t)
	r := cull(t, srv, "-delete")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{
		"culled kernel " + ids["idle-3h"][:8] + " (python3, idle, 0 connection(s), inactive 3h0m0s) of session idle-3h\n",
		"culled kernel " + ids["-"][:8] + " (python3, idle, 0 connection(s), inactive 3h0m0s) of no session\n",
		"culled kernel " + ids["dead-1m"][:8] + " (python3, dead, 0 connection(s), inactive 1m0s) of session dead-1m\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no line %q in\n%s", want, r.stdout)
		}
	}
	if !strings.HasSuffix(r.stdout, "\nculled 4 of 10 kernel(s): inactive for more than 1h0m0s\n") {
		t.Errorf("summary:\n%s", r.stdout)
	}

	ctx := context.Background()
	ks, err := srv.Client.Kernels.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, k := range ks {
		left = append(left, k.ID)
	}
	for _, name := range []string{"busy-3h", "idle-10m", "connected-3h", "idle-exactly-1h", "no-activity", "busy-connected-3h"} {
		if !slices.Contains(left, ids[name]) {
			t.Errorf("kernel %s was shut down", name)
		}
	}
	if len(left) != 6 {
		t.Errorf("%d kernels left, want 6", len(left))
	}
	// The sessions of culled kernels end with them, as in Jupyter.
	sessions, err := srv.Client.Sessions.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		if s.Path == "idle-3h" || s.Path == "starting-2h" || s.Path == "dead-1m" {
			t.Errorf("session %s outlived its kernel", s.Path)
		}
	}
	if len(sessions) != 6 {
		t.Errorf("%d sessions left, want 6", len(sessions))
	}
}

// TestCullIdleRechecksBeforeShuttingDown: kernels that became busy or got
// a connection after the list are kept, as Jupyter decides on the
// kernel's state when it shuts it down.
func TestCullIdleRechecksBeforeShuttingDown(t *testing.T) {
	setEnv(t)
	srv, ids := setup(t)
	var once sync.Once
	srv.mu.Lock()
	srv.afterList = func() {
		once.Do(func() {
			srv.SetKernelActivity(ids["idle-3h"], "busy", now.Add(-3*time.Hour))
			srv.setConnections(ids["-"], 1)
			srv.SetKernelActivity(ids["starting-2h"], "idle", now.Add(-time.Minute))
		})
	}
	srv.mu.Unlock()
	r := cull(t, srv, "-delete")
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{
		"kept kernel " + ids["idle-3h"][:8] + ": busy since it was listed\n",
		"kept kernel " + ids["-"][:8] + ": 1 connection(s) since it was listed\n",
		"kept kernel " + ids["starting-2h"][:8] + ": active since it was listed\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no line %q in\n%s", want, r.stdout)
		}
	}
	if got := culledNames(r.stdout, ids); !slices.Equal(got, []string{"dead-1m"}) {
		t.Errorf("culled %q", got)
	}
	for _, name := range []string{"idle-3h", "-", "starting-2h"} {
		if _, err := srv.Client.Kernels.Get(context.Background(), ids[name]); err != nil {
			t.Errorf("kernel %s: %v", name, err)
		}
	}
}

func TestCullIdleFailures(t *testing.T) {
	setEnv(t)
	t.Run("a failed shutdown fails the run, the others go on", func(t *testing.T) {
		srv, ids := setup(t)
		srv.FailNext(1, nbservtest.Fault{Method: "DELETE", Path: "/api/kernels/" + ids["idle-3h"], Status: 500})
		r := cull(t, srv, "-delete")
		if r.code != 1 || !strings.Contains(r.stdout, "failed to cull kernel "+ids["idle-3h"][:8]) ||
			!strings.HasPrefix(r.stderr, "cull-idle: nbserv: DELETE /api/kernels/"+ids["idle-3h"]+": 500") {
			t.Errorf("%+v", r)
		}
		if got := culledNames(r.stdout, ids); !slices.Equal(got, []string{"-", "dead-1m", "starting-2h"}) {
			t.Errorf("culled %q", got)
		}
	})
	t.Run("a kernel gone meanwhile is no failure", func(t *testing.T) {
		srv, ids := setup(t)
		srv.FailNext(1, nbservtest.Fault{Method: "GET", Path: "/api/kernels/" + ids["idle-3h"], Status: 404})
		srv.FailNext(1, nbservtest.Fault{Method: "DELETE", Path: "/api/kernels/" + ids["dead-1m"], Status: 404})
		r := cull(t, srv, "-delete")
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%+v", r)
		}
		if got := culledNames(r.stdout, ids); !slices.Equal(got, []string{"-", "dead-1m", "starting-2h"}) {
			t.Errorf("culled %q", got)
		}
	})
	t.Run("the server refuses the list", func(t *testing.T) {
		srv, _ := setup(t)
		r := cull(t, srv, "-token", "wrong")
		if r.code != 1 || !strings.Contains(r.stderr, "403 Forbidden") {
			t.Errorf("%+v", r)
		}
	})
}

// TestCullIdleInterval: with -cull-interval the passes repeat, each on a
// fresh list, until interrupted; a failed pass does not end them.
func TestCullIdleInterval(t *testing.T) {
	setEnv(t)
	srv, ids := setup(t)
	srv.FailNext(1, nbservtest.Fault{Method: "GET", Path: "/api/kernels", Status: 500}) // not retried
	var stdout, stderr bytes.Buffer
	var waits []time.Duration
	p := program{stdout: &stdout, stderr: &stderr, now: func() time.Time { return now },
		wait: func(_ context.Context, d time.Duration) error {
			waits = append(waits, d)
			switch len(waits) {
			case 2: // after the first pass that worked: idle-10m goes idle
				srv.SetKernelActivity(ids["idle-10m"], "idle", now.Add(-2*time.Hour))
			case 3:
				return context.Canceled // interrupted
			}
			return nil
		}}
	code := p.run(context.Background(), []string{"-url", srv.URL, "-token", srv.Token, "-cull-idle-timeout", "3600", "-cull-interval", "300", "-delete"})
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if !slices.Equal(waits, []time.Duration{5 * time.Minute, 5 * time.Minute, 5 * time.Minute}) {
		t.Errorf("waits %v", waits)
	}
	if !strings.HasPrefix(stderr.String(), "cull-idle: nbserv: GET /api/kernels: 500") {
		t.Errorf("stderr %q", stderr.String())
	}
	passes := strings.SplitAfter(stdout.String(), "inactive for more than 1h0m0s\n")
	if len(passes) != 3 || passes[2] != "" {
		t.Fatalf("output:\n%s", stdout.String())
	}
	if got := culledNames(passes[0], ids); !slices.Equal(got, []string{"-", "dead-1m", "idle-3h", "starting-2h"}) {
		t.Errorf("first pass culled %q", got)
	}
	if got := culledNames(passes[1], ids); !slices.Equal(got, []string{"idle-10m"}) {
		t.Errorf("second pass culled %q", got)
	}
}

func TestCullIdleUsage(t *testing.T) {
	setEnv(t, "JUPYTER_TOKEN", "env-token-value", "JUPYTER_URL", "http://127.0.0.1:1/")
	var stdout, stderr bytes.Buffer
	p := program{stdout: &stdout, stderr: &stderr, now: time.Now, wait: sleep}
	if code := p.run(context.Background(), []string{"-h"}); code != 0 || stderr.Len() != 0 {
		t.Errorf("-h: exit %d, stderr %q", code, stderr.String())
	}
	help := stdout.String()
	for _, want := range []string{"Usage: cull-idle", "MappingKernelManager.cull_idle_timeout, cull_busy, cull_connected", "-cull-busy",
		"-cull-connected", "-cull-interval INTERVAL", "Jupyter's is 300", "-cull-idle-timeout TIMEOUT", "Jupyter's default, disables culling",
		`"starting" counts as idle`, "-token TOKEN\n", "[REDACTED]"} {
		if !strings.Contains(help, want) {
			t.Errorf("-h lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "env-token-value") {
		t.Error("-h shows the token")
	}
	for _, args := range [][]string{
		{"-bogus"}, {"-cull-idle-timeout"}, {"-cull-idle-timeout", "abc"}, {"-cull-idle-timeout", "1.5"},
		{"-cull-idle-timeout", "99999999999999999"}, {}, {"-cull-idle-timeout", "0"}, {"-cull-idle-timeout", "-60"},
		{"-cull-idle-timeout", "1h", "-cull-interval", "-1"}, {"-cull-idle-timeout", "1h", "extra"},
	} {
		stdout.Reset()
		stderr.Reset()
		code := p.run(context.Background(), args)
		if code != 2 || stdout.Len() != 0 || strings.Count(stderr.String(), "Usage: cull-idle") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr:\n%s", args, code, stdout.String(), stderr.String())
		}
	}
}

func TestSeconds(t *testing.T) {
	for in, want := range map[string]time.Duration{"3600": time.Hour, "0": 0, "-5": -5 * time.Second, "90m": 90 * time.Minute, "1h30m": 90 * time.Minute} {
		var s seconds
		if err := s.Set(in); err != nil || time.Duration(s) != want {
			t.Errorf("%q: %v, %v", in, time.Duration(s), err)
		}
	}
}

func TestCullIdleExitStatus(t *testing.T) {
	srv := nbservtest.NewServer(t)
	for _, tc := range []struct {
		args []string
		code int
		in   string // in stdout for 0, stderr otherwise
	}{
		{[]string{"-h"}, 0, "Usage: cull-idle"},
		{[]string{"-url", srv.URL, "-token", srv.Token, "-cull-idle-timeout", "60"}, 0, "would cull 0 of 0 kernel(s)"},
		{[]string{"-url", srv.URL, "-token", "wrong", "-cull-idle-timeout", "60"}, 1, "403 Forbidden"},
		{[]string{"-url", srv.URL}, 2, "give -cull-idle-timeout"},
		{[]string{"-no-such-flag"}, 2, "flag provided but not defined: -no-such-flag"},
	} {
		args, _ := json.Marshal(tc.args)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(args))
		for _, k := range serverVars {
			cmd.Env = append(cmd.Env, k+"=")
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != tc.code {
			t.Errorf("%q: exit status %d (%v), want %d; stderr:\n%s", tc.args, code, err, tc.code, stderr.String())
		}
		got := stdout.String()
		if tc.code != 0 {
			got = stderr.String()
		}
		if !strings.Contains(got, tc.in) {
			t.Errorf("%q: stdout %q, stderr %q, want %q", tc.args, stdout.String(), stderr.String(), tc.in)
		}
	}
}
