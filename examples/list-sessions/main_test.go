package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/cli"
	"github.com/nbserv/go-nbserv/nbservtest"
)

func TestListSessionsTable(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	a, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "work/a.ipynb", Type: nbserv.TypeNotebook, Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "b.py", Type: nbserv.TypeConsole})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetKernelActivity(a.Kernel.ID, "idle", now.Add(-5*time.Minute))
	srv.SetKernelActivity(b.Kernel.ID, "busy", now.Add(-3*time.Hour))

	var out bytes.Buffer
	err = run(ctx, []string{"-url", srv.URL, "-token", srv.Token}, func(string) string { return "" }, &out, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("output:\n%s", out.String())
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
	// The columns line up.
	if strings.Index(lines[1], "work/a.ipynb") != strings.Index(lines[2], "b.py") {
		t.Errorf("columns not aligned:\n%s", out.String())
	}
	if lines[3] != "2 session(s)" {
		t.Errorf("footer %q", lines[3])
	}
}

func TestListSessionsNeedsAServer(t *testing.T) {
	err := run(context.Background(), nil, func(string) string { return "" }, &bytes.Buffer{}, time.Now)
	if err != cli.ErrNoURL {
		t.Errorf("err = %v", err)
	}
}

func TestListSessionsReportsServerErrors(t *testing.T) {
	srv := nbservtest.NewServer(t)
	err := run(context.Background(), []string{"-url", srv.URL, "-token", "wrong"}, func(string) string { return "" }, &bytes.Buffer{}, time.Now)
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Errorf("err = %v", err)
	}
}
