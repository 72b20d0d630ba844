package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// setup creates four sessions: idle 3h, busy 3h, idle 10m, starting 2h.
func setup(t *testing.T) (*nbservtest.Server, []*nbserv.Session) {
	srv := nbservtest.NewServer(t)
	var ss []*nbserv.Session
	for i, k := range []struct {
		state string
		ago   time.Duration
	}{{"idle", 3 * time.Hour}, {"busy", 3 * time.Hour}, {"idle", 10 * time.Minute}, {"starting", 2 * time.Hour}} {
		s, err := srv.Client.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "nb" + string(rune('a'+i)), Type: "notebook"})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.SetKernelActivity(s.Kernel.ID, k.state, now.Add(-k.ago)); err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	return srv, ss
}

func cull(t *testing.T, srv *nbservtest.Server, extra ...string) (string, error) {
	var out bytes.Buffer
	args := append([]string{"-url", srv.URL, "-token", srv.Token, "-idle", "1h"}, extra...)
	err := run(context.Background(), args, func(string) string { return "" }, &out, func() time.Time { return now })
	return out.String(), err
}

func remaining(t *testing.T, srv *nbservtest.Server) []string {
	list, err := srv.Client.Sessions.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestCullIdleDryRunDeletesNothing(t *testing.T) {
	srv, ss := setup(t)
	out, err := cull(t, srv)
	if err != nil {
		t.Fatal(err)
	}
	want := "would delete " + ss[0].ID + " nba (kernel idle " + ss[0].Kernel.ID[:8] + ", idle 3h0m0s)\n" +
		"would delete " + ss[3].ID + " nbd (kernel starting " + ss[3].Kernel.ID[:8] + ", idle 2h0m0s)\n" +
		"2 of 4 session(s) idle for more than 1h0m0s: would delete\n"
	if out != want {
		t.Errorf("output\n%s\nwant\n%s", out, want)
	}
	if got := remaining(t, srv); len(got) != 4 {
		t.Errorf("dry run deleted sessions: %d left", len(got))
	}
}

func TestCullIdleDeletes(t *testing.T) {
	srv, ss := setup(t)
	out, err := cull(t, srv, "-delete")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "deleted "+ss[0].ID) || !strings.HasSuffix(out, "2 of 4 session(s) idle for more than 1h0m0s: deleted\n") {
		t.Errorf("output:\n%s", out)
	}
	got := remaining(t, srv)
	if len(got) != 2 || !slices.Contains(got, ss[1].ID) || !slices.Contains(got, ss[2].ID) {
		t.Errorf("left %v, want the busy and the recent session", got)
	}
}

func TestCullIdleReportsDeleteFailures(t *testing.T) {
	srv, ss := setup(t)
	if err := srv.GoneOnDelete(ss[0].ID); err != nil {
		t.Fatal(err)
	}
	out, err := cull(t, srv, "-delete")
	if err == nil || !strings.Contains(out, "failed to delete "+ss[0].ID) || !strings.Contains(out, "deleted "+ss[3].ID) {
		t.Errorf("err %v, output:\n%s", err, out)
	}
}

func TestCullIdleRejectsBadIdle(t *testing.T) {
	srv, _ := setup(t)
	if _, err := cull(t, srv, "-idle", "0s"); err == nil {
		t.Error("no error for -idle 0s")
	}
}
