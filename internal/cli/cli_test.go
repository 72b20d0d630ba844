package cli

import (
	"flag"
	"testing"
	"time"
)

func TestAgo(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		0: "just now", 45 * time.Second: "45s ago", 5*time.Minute + 30*time.Second: "5m ago",
		3 * time.Hour: "3h ago", 47 * time.Hour: "47h ago", 72 * time.Hour: "3d ago",
	} {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(-%v) = %q, want %q", d, got, want)
		}
	}
	if got := Ago(time.Time{}, now); got != "never" {
		t.Errorf("zero time: %q", got)
	}
}

func TestServerFlags(t *testing.T) {
	env := map[string]string{"JUPYTER_URL": "http://env:1/", "JUPYTER_TOKEN": "envtok"}
	var f ServerFlags
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	f.Register(fs, func(k string) string { return env[k] })
	if err := fs.Parse([]string{"-token", "flagtok"}); err != nil {
		t.Fatal(err)
	}
	if f.URL != "http://env:1/" || f.Token != "flagtok" {
		t.Errorf("flags %+v", f)
	}
	if _, err := (&ServerFlags{}).Client(); err != ErrNoURL {
		t.Errorf("no URL: %v", err)
	}
}
