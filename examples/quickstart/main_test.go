package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// mainArgsEnv, when set, makes the test binary run main with these
// arguments (a JSON array) instead of the tests, so that a test can see the
// real exit status.
const mainArgsEnv = "QUICKSTART_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainArgsEnv); ok {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"quickstart"}, a...)
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

func runIt(args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// steps are the lines of a successful run after the first, as patterns.
var steps = []string{
	`^1\. Created session [0-9a-f]{8} for nbserv-quickstart-\w+/analysis\.ipynb on kernel ([0-9a-f]{8}) \(python3, starting\)$`,
	`^2\. Listed 1 session\(s\) on the server$`,
	`^3\. Got session [0-9a-f]{8}: name "analysis", type notebook, path nbserv-quickstart-\w+/analysis\.ipynb$`,
	`^4\. Renamed it to "final-analysis" at nbserv-quickstart-\w+/final\.ipynb$`,
	`^5\. Switched from kernel ([0-9a-f]{8}) to kernel ([0-9a-f]{8}) \(python3, starting\) \(the old one is shut down\)$`,
	`^6\. Deleted it; getting it again fails with ErrNotFound$`,
}

// checkSteps checks the output after its first line against want.
func checkSteps(t *testing.T, out string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(want)+1 {
		t.Fatalf("output:\n%s", out)
	}
	var first string
	for i, re := range want {
		m := regexp.MustCompile(re).FindStringSubmatch(lines[i+1])
		switch {
		case m == nil:
			t.Errorf("line %d = %q, want %s", i+2, lines[i+1], re)
		case len(m) == 2:
			first = m[1]
		case len(m) == 3 && (m[1] != first || m[1] == m[2]):
			t.Errorf("kernel did not change from %s: %s", first, lines[i+1])
		}
	}
}

func TestQuickstartEmbedded(t *testing.T) {
	setEnv(t)
	r := runIt()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("%+v", r)
	}
	if !regexp.MustCompile(`^Using the embedded reference server at http://127\.0\.0\.1:\d+/ \(no Jupyter needed\)\n`).MatchString(r.stdout) {
		t.Errorf("output:\n%s", r.stdout)
	}
	checkSteps(t, r.stdout, steps)
}

func TestQuickstartAgainstAServerLeavesNothing(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	t.Run("flags", func(t *testing.T) {
		setEnv(t)
		r := runIt("-url", srv.URL, "-token", srv.Token)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "Using the Jupyter Server at "+srv.URL+"\n") {
			t.Errorf("%+v", r)
		}
		checkSteps(t, r.stdout, steps)
		assertEmpty(t, srv.Client)
	})
	t.Run("JUPYTER_URL and JUPYTER_TOKEN", func(t *testing.T) {
		setEnv(t, "JUPYTER_URL", srv.URL, "JUPYTER_TOKEN", srv.Token)
		if r := runIt(); r.code != 0 || !strings.HasPrefix(r.stdout, "Using the Jupyter Server at "+srv.URL+"\n") {
			t.Errorf("%+v", r)
		}
		assertEmpty(t, srv.Client)
	})
	t.Run("inside a JupyterHub single-user server", func(t *testing.T) {
		u, _ := url.Parse(srv.URL)
		setEnv(t, "JUPYTERHUB_SERVICE_URL", "http://"+u.Host+"/user/alice/", "JUPYTERHUB_SERVICE_PREFIX", "/user/alice/",
			"JUPYTERHUB_API_TOKEN", srv.Token, "JUPYTERHUB_USER", "alice")
		if r := runIt(); r.code != 0 || !strings.HasPrefix(r.stdout, "Using the Jupyter Server at "+srv.URL+"\n") {
			t.Errorf("%+v", r)
		}
		assertEmpty(t, srv.Client)
	})
}

func TestQuickstartCleansUpAfterAFailure(t *testing.T) {
	setEnv(t)
	srv := nbservtest.NewServer(t)
	srv.FailNext(1, nbservtest.Fault{Method: "PATCH", Status: 400})
	r := runIt("-url", srv.URL, "-token", srv.Token)
	if r.code != 1 || !strings.HasPrefix(r.stderr, "quickstart: rename: ") {
		t.Fatalf("%+v", r)
	}
	assertEmpty(t, srv.Client)
}

// TestQuickstartWithoutAKernel runs against a server that sends sessions
// with "kernel": null: Session.Kernel is nil, and quickstart says so
// instead of crashing.
func TestQuickstartWithoutAKernel(t *testing.T) {
	setEnv(t)
	srv := nbservtest.NewServer(t)
	noKernels := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		var v any
		if strings.HasPrefix(r.URL.Path, "/api/sessions") && json.Unmarshal(body, &v) == nil {
			dropKernels(v)
			body, _ = json.Marshal(v)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	defer noKernels.Close()
	defer noKernels.CloseClientConnections()

	r := runIt("-url", noKernels.URL, "-token", srv.Token)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	want := append([]string{
		`^1\. Created session [0-9a-f]{8} for nbserv-quickstart-\w+/analysis\.ipynb on no kernel \(the server sent none\)$`,
	}, steps[1:4]...)
	want = append(want, `^5\. Did not switch kernels: the server reported none for the session$`, steps[5])
	checkSteps(t, r.stdout, want)
	assertEmpty(t, srv.Client)
}

// dropKernels sets "kernel" to null in a session or a list of them.
func dropKernels(v any) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			dropKernels(e)
		}
	case map[string]any:
		if _, ok := v["kernel"]; ok {
			v["kernel"] = nil
		}
	}
}

func TestQuickstartUsage(t *testing.T) {
	setEnv(t, "JUPYTER_TOKEN", "env-token-value")
	r := runIt("-h")
	if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "Usage: quickstart") || !strings.Contains(r.stdout, "[REDACTED]") {
		t.Errorf("-h: %+v", r)
	}
	if strings.Contains(r.stdout, "env-token-value") {
		t.Error("-h shows the token")
	}
	for _, args := range [][]string{{"-bogus"}, {"-url"}, {"extra"}, {"-url", "ftp://h/"}} {
		r := runIt(args...)
		if r.code != 2 || r.stdout != "" || strings.Count(r.stderr, "Usage: quickstart") != 1 {
			t.Errorf("%q: %+v", args, r)
		}
	}
	setEnv(t, "JUPYTER_URL", "127.0.0.1:8888")
	if r := runIt(); r.code != 2 || !strings.HasPrefix(r.stderr, "quickstart: nbserv: invalid JUPYTER_URL: ") || r.stdout != "" {
		t.Errorf("malformed JUPYTER_URL: %+v", r)
	}
}

func TestQuickstartExitStatus(t *testing.T) {
	srv := nbservtest.NewServer(t)
	for _, tc := range []struct {
		args []string
		code int
		in   string // in stdout for 0, stderr otherwise
	}{
		{[]string{"-h"}, 0, "Usage: quickstart"},
		{nil, 0, "6. Deleted it"},
		{[]string{"-url", srv.URL, "-token", "wrong"}, 1, "quickstart: create: "},
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

func assertEmpty(t *testing.T, c *nbserv.Client) {
	t.Helper()
	list, err := c.Sessions.List(context.Background())
	if err != nil || len(list) != 0 {
		t.Errorf("sessions left: %v, %v", list, err)
	}
	ks, err := c.Kernels.List(context.Background())
	if err != nil || len(ks) != 0 {
		t.Errorf("kernels left: %v, %v", ks, err)
	}
}
