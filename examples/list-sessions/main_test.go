package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
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
const mainArgsEnv = "LIST_SESSIONS_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainArgsEnv); ok {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"list-sessions"}, a...)
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

type result struct {
	code           int
	stdout, stderr string
}

func runIt(t *testing.T, now time.Time, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, func() time.Time { return now })
	return result{code, stdout.String(), stderr.String()}
}

func TestListSessionsTable(t *testing.T) {
	setEnv(t)
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	a, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "work/a.ipynb", Type: nbserv.SessionNotebook, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "b.py", Type: nbserv.SessionConsole})
	if err != nil {
		t.Fatal(err)
	}
	for id, act := range map[string]struct {
		state string
		ago   time.Duration
	}{a.Kernel.ID: {"idle", 5 * time.Minute}, b.Kernel.ID: {"busy", 3 * time.Hour}} {
		if err := srv.SetKernelActivity(id, act.state, now.Add(-act.ago)); err != nil {
			t.Fatal(err)
		}
	}

	r := runIt(t, now, "-url", srv.URL, "-token", srv.Token)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("output:\n%s", r.stdout)
	}
	if f := strings.Fields(lines[0]); strings.Join(f, " ") != "ID PATH NAME TYPE KERNEL STATE LAST ACTIVITY" {
		t.Errorf("header %q", lines[0])
	}
	for i, want := range [][]string{
		{a.ID, "work/a.ipynb", "a", "notebook", "python3", "idle", "5m", "ago"},
		{b.ID, "b.py", "-", "console", "python3", "busy", "3h", "ago"},
	} {
		if got := strings.Fields(lines[i+1]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("row %d = %q, want %q", i+1, got, want)
		}
	}
	if strings.Index(lines[1], "work/a.ipynb") != strings.Index(lines[2], "b.py") {
		t.Errorf("columns not aligned:\n%s", r.stdout)
	}
	if lines[3] != "2 session(s)" {
		t.Errorf("footer %q", lines[3])
	}
}

func TestListSessionsFromTheEnvironment(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	if _, err := srv.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook}); err != nil {
		t.Fatal(err)
	}
	t.Run("JUPYTER_URL and JUPYTER_TOKEN", func(t *testing.T) {
		setEnv(t, "JUPYTER_URL", srv.URL, "JUPYTER_TOKEN", srv.Token)
		if r := runIt(t, time.Now()); r.code != 0 || !strings.HasSuffix(r.stdout, "1 session(s)\n") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("-token beats the environment", func(t *testing.T) {
		setEnv(t, "JUPYTER_URL", srv.URL, "JUPYTER_TOKEN", srv.Token)
		if r := runIt(t, time.Now(), "-token", "wrong"); r.code != 1 || !strings.Contains(r.stderr, "403 Forbidden") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("-url beats a malformed JUPYTER_URL", func(t *testing.T) {
		setEnv(t, "JUPYTER_URL", "not a url", "JUPYTERHUB_API_TOKEN", srv.Token)
		if r := runIt(t, time.Now(), "-url", srv.URL, "-token", srv.Token); r.code != 0 {
			t.Errorf("%+v", r)
		}
		// The environment's token names no server: it goes to none unasked.
		if r := runIt(t, time.Now(), "-url", srv.URL); r.code != 1 || !strings.Contains(r.stderr, "403 Forbidden") {
			t.Errorf("%+v", r)
		}
	})
	t.Run("-url of the environment's origin keeps its token", func(t *testing.T) {
		setEnv(t, "JUPYTER_URL", strings.TrimSuffix(srv.URL, "user/alice/"), "JUPYTER_TOKEN", srv.Token)
		if r := runIt(t, time.Now(), "-url", srv.URL); r.code != 0 {
			t.Errorf("%+v", r)
		}
	})
	t.Run("a malformed JUPYTER_URL is a usage error", func(t *testing.T) {
		setEnv(t, "JUPYTER_URL", "127.0.0.1:8888")
		r := runIt(t, time.Now())
		if r.code != 2 || !strings.HasPrefix(r.stderr, "list-sessions: nbserv: invalid JUPYTER_URL: ") ||
			strings.Count(r.stderr, "Usage:") != 1 || r.stdout != "" {
			t.Errorf("%+v", r)
		}
	})
}

func TestListSessionsShowsSessionsWithoutAKernel(t *testing.T) {
	setEnv(t)
	// Jupyter always sends the kernel; a server that sends null must not
	// crash the listing.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `[{"id": "5210a8a9-f65c-4142-bf8f-32a2ff60a6a9", "path": "a.ipynb", "name": null, "type": "notebook", "kernel": null}]`)
	}))
	defer srv.Close()
	r := runIt(t, time.Now(), "-url", srv.URL)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	if f := strings.Fields(strings.Split(r.stdout, "\n")[1]); strings.Join(f, " ") != "5210a8a9-f65c-4142-bf8f-32a2ff60a6a9 a.ipynb - notebook - - -" {
		t.Errorf("row %q", f)
	}
}

func TestListSessionsUsage(t *testing.T) {
	setEnv(t, "JUPYTER_TOKEN", "env-token-value")
	r := runIt(t, time.Now(), "-h")
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: list-sessions") ||
		!strings.Contains(r.stdout, "-token") || !strings.Contains(r.stdout, "[REDACTED]") {
		t.Errorf("-h: %+v", r)
	}
	if strings.Contains(r.stdout, "env-token-value") {
		t.Error("-h shows the token")
	}
	for _, args := range [][]string{{"-bogus"}, {"-url"}, {"extra"}, {}, {"-url", "ftp://h/"}} {
		r := runIt(t, time.Now(), args...)
		if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "Usage: list-sessions") != 1 {
			t.Errorf("%q: %+v", args, r)
		}
	}
}

func TestListSessionsExitStatus(t *testing.T) {
	srv := nbservtest.NewServer(t)
	for _, tc := range []struct {
		args []string
		code int
		in   string // in stdout for 0, stderr otherwise
	}{
		{[]string{"-h"}, 0, "Usage: list-sessions"},
		{[]string{"-url", srv.URL, "-token", srv.Token}, 0, "0 session(s)"},
		{[]string{"-url", srv.URL, "-token", "wrong"}, 1, "403 Forbidden"},
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

// The environment's token belongs to the server the environment names:
// a -url naming another server (another host, port or scheme) gets
// neither it nor any Authorization, unless -token gives one on purpose.
func TestEnvironmentTokenNeverGoesToAnotherServer(t *testing.T) {
	var got []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "[]")
	}))
	defer other.Close()
	for _, env := range [][]string{
		{"JUPYTER_URL", "http://127.0.0.1:1/", "JUPYTER_TOKEN", "env-token-value"},
		{"JUPYTER_URL", "http://127.0.0.1:1/", "JUPYTERHUB_API_TOKEN", "env-token-value"},
		{"JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:1/", "JUPYTERHUB_SERVICE_PREFIX", "/user/a/", "JUPYTERHUB_API_TOKEN", "env-token-value"},
		{"JUPYTER_TOKEN", "env-token-value"},
	} {
		setEnv(t, env...)
		if r := runIt(t, time.Now(), "-url", other.URL); r.code != 0 {
			t.Fatalf("%v: %+v", env, r)
		}
	}
	setEnv(t, "JUPYTER_URL", "http://127.0.0.1:1/", "JUPYTER_TOKEN", "env-token-value")
	if r := runIt(t, time.Now(), "-url", other.URL, "-token", "given"); r.code != 0 {
		t.Fatalf("%+v", r)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"", "", "", "", "token given"}; !slices.Equal(got, want) {
		t.Errorf("Authorization sent: %q, want %q", got, want)
	}
}
