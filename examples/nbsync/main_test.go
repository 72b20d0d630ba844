package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// mainArgsEnv, when set, makes the test binary run main with these
// arguments (a JSON array) instead of the tests, so that a test can see the
// real exit status and send real signals.
const mainArgsEnv = "NBSYNC_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv(mainArgsEnv); ok {
		var a []string
		if err := json.Unmarshal([]byte(args), &a); err != nil {
			panic(err)
		}
		os.Args = append([]string{"nbsync"}, a...)
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

// mainCommand is the test binary set to run main with args, in an
// environment without the server variables.
func mainCommand(args ...string) *exec.Cmd {
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), mainArgsEnv+"="+string(a))
	for _, k := range serverVars {
		cmd.Env = append(cmd.Env, k+"=")
	}
	return cmd
}

const executed = `{"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
 "cells": [{"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 3, "source": ["x = 1\n", "x"],
            "outputs": [{"output_type": "execute_result", "execution_count": 3, "metadata": {}, "data": {"text/plain": ["1"]}}]}]}`

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPushThenPull(t *testing.T) {
	setEnv(t)
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	ctx := context.Background()
	local := t.TempDir()
	big := strings.Repeat("z", 70000) // more than one 16 KiB chunk
	writeTree(t, local, map[string]string{
		"a.ipynb":                               executed,
		"sub dir/b #1.ipynb":                    executed,
		"sub dir/deep/c.ipynb":                  `{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [], "big": "` + big + `"}`,
		"notes.txt":                             "not a notebook",
		".hidden/x.ipynb":                       executed,
		".ipynb_checkpoints/a-checkpoint.ipynb": executed,
	})
	var out bytes.Buffer
	err := run(ctx, []string{"-url", srv.URL, "-token", srv.Token, "push", "-chunk", "16384", local, "/projects/q3/"}, &out, &out)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out.String())
	}
	for _, name := range []string{"a.ipynb", "sub dir/b #1.ipynb", "sub dir/deep/c.ipynb"} {
		got, err := srv.ReadFile("projects/q3/" + name)
		want, _ := os.ReadFile(filepath.Join(local, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("server's %s: %d bytes, %v", name, len(got), err)
		}
	}
	for _, name := range []string{"notes.txt", ".hidden/x.ipynb"} {
		if _, err := srv.ReadFile("projects/q3/" + name); err == nil {
			t.Errorf("%s pushed", name)
		}
	}
	if !strings.Contains(out.String(), "3 file(s)") {
		t.Errorf("output:\n%s", out.String())
	}

	// Pull it back elsewhere: the same bytes.
	back := t.TempDir()
	out.Reset()
	if err := run(ctx, []string{"pull", "-url", srv.URL, "-token", srv.Token, "projects/q3", back}, &out, &out); err != nil {
		t.Fatalf("pull: %v\n%s", err, out.String())
	}
	for _, name := range []string{"a.ipynb", "sub dir/b #1.ipynb", "sub dir/deep/c.ipynb"} {
		got, err := os.ReadFile(filepath.Join(back, filepath.FromSlash(name)))
		want, _ := os.ReadFile(filepath.Join(local, filepath.FromSlash(name)))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("pulled %s: %d bytes, %v", name, len(got), err)
		}
	}
	if _, err := os.Stat(filepath.Join(back, "notes.txt")); err == nil {
		t.Error("notes.txt pulled")
	}

	// -all takes every file; the environment gives the server.
	setEnv(t, "JUPYTER_URL", srv.URL, "JUPYTER_TOKEN", srv.Token)
	if err := run(ctx, []string{"-all", "push", local, "everything"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if got, err := srv.ReadFile("everything/notes.txt"); err != nil || string(got) != "not a notebook" {
		t.Errorf("notes.txt: %q %v", got, err)
	}
}

func TestPushClearsOutputs(t *testing.T) {
	setEnv(t)
	srv := nbservtest.NewServer(t)
	local := t.TempDir()
	writeTree(t, local, map[string]string{"run.ipynb": executed})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", srv.URL, "-token", srv.Token, "-clear-outputs", "push", local, "clean"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	nb, err := srv.Client.Contents.GetNotebook(context.Background(), "clean/run.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	c := nb.Cells[0]
	if c.Source != "x = 1\nx" || len(c.Outputs) != 0 || c.ExecutionCount != nil || nb.Metadata.Kernelspec.Name != "python3" {
		t.Errorf("cleared notebook: %+v", c)
	}
}

func TestUsageAndErrors(t *testing.T) {
	setEnv(t, "JUPYTER_TOKEN", "env-token-value")
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	err := run(ctx, []string{"-h"}, &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) || exitCode(err) != 0 || !strings.HasPrefix(stdout.String(), "Usage: nbsync push") ||
		!strings.Contains(stdout.String(), "[REDACTED]") || stderr.Len() != 0 {
		t.Errorf("-h: %v, exit %d, stdout %q, stderr %q", err, exitCode(err), stdout.String(), stderr.String())
	}
	if strings.Contains(stdout.String(), "env-token-value") {
		t.Error("-h shows the token")
	}
	for _, args := range [][]string{nil, {"push", "a"}, {"sync", "a", "b"}, {"push", "a", "b"}, {"-bogus"}, {"push", "-bogus", "a", "b"},
		{"-chunk", "x", "push", "a", "b"}, {"-url", "ftp://h/", "push", "a", "b"}} {
		stdout.Reset()
		stderr.Reset()
		if err := run(ctx, args, &stdout, &stderr); exitCode(err) != 2 || stdout.Len() != 0 ||
			strings.Count(stderr.String(), "Usage: nbsync push") != 1 {
			t.Errorf("%q: %v, exit %d, stdout %q, stderr %q", args, err, exitCode(err), stdout.String(), stderr.String())
		}
	}
	setEnv(t, "JUPYTER_URL", "127.0.0.1:8888")
	stderr.Reset()
	if err := run(ctx, []string{"pull", "a", "b"}, &stdout, &stderr); exitCode(err) != 2 ||
		!strings.HasPrefix(stderr.String(), "nbsync: nbserv: invalid JUPYTER_URL: ") {
		t.Errorf("a malformed JUPYTER_URL: %v, stderr %q", err, stderr.String())
	}
	setEnv(t)
	var out bytes.Buffer
	srv := nbservtest.NewServer(t)
	err = run(ctx, []string{"-url", srv.URL, "-token", "wrong", "pull", "x", t.TempDir()}, &out, &out)
	if !errors.Is(err, nbserv.ErrUnauthorized) || exitCode(err) != 1 {
		t.Errorf("wrong token: %v", err)
	}
	err = run(ctx, []string{"-url", srv.URL, "-token", srv.Token, "pull", "nope", t.TempDir()}, &out, &out)
	if !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("missing directory: %v", err)
	}
}

// Inside a JupyterHub single-user server, the hub's variables alone name
// the server and its token.
func TestServerFromTheHubsVariables(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	if err := srv.WriteFile("work/a.ipynb", []byte(executed)); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	setEnv(t, "JUPYTERHUB_SERVICE_URL", "http://"+u.Host+"/user/alice/", "JUPYTERHUB_SERVICE_PREFIX", "/user/alice/",
		"JUPYTERHUB_API_TOKEN", srv.Token, "JUPYTERHUB_USER", "alice")
	local := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"pull", "work", local}, &out, &out); err != nil {
		t.Fatalf("pull: %v\n%s", err, out.String())
	}
	if got, err := os.ReadFile(filepath.Join(local, "a.ipynb")); err != nil || string(got) != executed {
		t.Errorf("pulled a.ipynb: %q, %v", got, err)
	}
}

// The real program's exit statuses: 0 for -h (the usage on stdout), 2 for
// a bad command line, 1 when the copy fails.
func TestExitStatus(t *testing.T) {
	srv := nbservtest.NewServer(t)
	for _, tc := range []struct {
		args []string
		code int
		in   string // in stdout for 0, stderr otherwise
	}{
		{[]string{"-h"}, 0, "Usage: nbsync push"},
		{[]string{"-no-such-flag"}, 2, "flag provided but not defined: -no-such-flag"},
		{[]string{"push", "a"}, 2, "nbsync: want push LOCALDIR REMOTEDIR"},
		{[]string{"-url", srv.URL, "-token", "wrong", "pull", "x", t.TempDir()}, 1, "nbsync: "},
	} {
		cmd := mainCommand(tc.args...)
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

// SIGTERM, like SIGINT, cancels a pull mid-download: the program exits at
// once, reporting the interruption, and leaves no partial file behind.
func TestSIGTERMCancelsCleanly(t *testing.T) {
	srv := nbservtest.NewServer(t)
	if err := srv.WriteFile("big.ipynb", []byte(executed)); err != nil {
		t.Fatal(err)
	}
	// A server whose file downloads start and then stall until the client
	// goes away.
	downloading := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/files/") {
			srv.Handler().ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", "1000000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"nbformat": 4, `))
		w.(http.Flusher).Flush()
		downloading <- struct{}{}
		<-r.Context().Done()
	}))
	defer ts.Close()

	local := t.TempDir()
	cmd := mainCommand("pull", "-url", ts.URL+"/", "-token", srv.Token, "", local)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-downloading:
	case err := <-done:
		t.Fatalf("exited before the download: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("no download within 10s")
	}
	if names := dirNames(t, local); len(names) != 1 || !strings.HasPrefix(names[0], ".nbsync-") {
		t.Errorf("mid-download, the local directory holds %q, want one temporary file", names)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatal("still running 10s after SIGTERM")
	}
	// Killed by the signal, the process would have no exit status (-1).
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.HasPrefix(stderr.String(), "nbsync: big.ipynb: ") {
		t.Errorf("after SIGTERM: exit status %d, stderr %q; want 1 and the interrupted file's error", code, stderr.String())
	}
	if names := dirNames(t, local); len(names) != 0 {
		t.Errorf("after SIGTERM, the local directory holds %q", names)
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
