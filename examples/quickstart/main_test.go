package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

func noEnv(string) string { return "" }

func TestQuickstartEmbedded(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, noEnv, &out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`^Using the embedded reference server at http://127\.0\.0\.1:\d+/ \(no Jupyter needed\)$`,
		`^1\. Created session [0-9a-f]{8} for nbserv-quickstart-\w+/analysis\.ipynb on kernel python3 \([0-9a-f]{8}, starting\)$`,
		`^2\. Listed 1 session\(s\) on the server$`,
		`^3\. Got session [0-9a-f]{8}: name "analysis", type notebook, path nbserv-quickstart-\w+/analysis\.ipynb$`,
		`^4\. Renamed it to "final-analysis" at nbserv-quickstart-\w+/final\.ipynb$`,
		`^5\. Switched to a new python3 kernel: ([0-9a-f]{8}) -> ([0-9a-f]{8}) \(the old one is shut down\)$`,
		`^6\. Deleted it; getting it again fails with ErrNotFound$`,
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("output:\n%s", out.String())
	}
	for i, re := range want {
		m := regexp.MustCompile(re).FindStringSubmatch(lines[i])
		if m == nil {
			t.Errorf("line %d = %q, want %s", i+1, lines[i], re)
		} else if len(m) == 3 && m[1] == m[2] {
			t.Errorf("kernel did not change: %s", lines[i])
		}
	}
}

func TestQuickstartAgainstAServerLeavesNothing(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	env := map[string]string{"JUPYTER_URL": srv.URL, "JUPYTER_TOKEN": srv.Token}
	var out bytes.Buffer
	if err := run(context.Background(), nil, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Using the Jupyter Server at "+srv.URL+"\n") {
		t.Errorf("output:\n%s", out.String())
	}
	assertEmpty(t, srv.Client)
}

func TestQuickstartCleansUpAfterAFailure(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.FailNext(1, nbservtest.Fault{Method: "PATCH", Status: 400})
	var out bytes.Buffer
	err := run(context.Background(), []string{"-url", srv.URL, "-token", srv.Token}, noEnv, &out)
	if err == nil || !strings.Contains(err.Error(), "rename") {
		t.Fatalf("err = %v", err)
	}
	assertEmpty(t, srv.Client)
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
