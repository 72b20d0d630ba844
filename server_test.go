package nbserv

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Server bodies as Jupyter sent them (docs/wire/server.md SV5, SV6, SV7, SV8).
const (
	wireStatus  = `{"connections": 0, "kernels": 0, "last_activity": "2026-11-27T21:29:11.350358Z", "started": "2026-11-27T21:29:11.350358Z"}`
	wireVersion = `{"version": "1.23.3"}`
	wireSpec    = "swagger: \"2.0\"\ninfo:\n  title: Jupyter Server API\n  description: Server API\n  version: \"5\"\n"
)

func TestStatus(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/alice/")
	m.on("GET", "http://jupyter.test/user/alice/api/status", 200,
		`{"connections": 3, "kernels": 2, "last_activity": "2026-11-27T21:39:15.550423Z", "started": "2026-11-27T21:29:11.350358Z"}`)
	st, err := c.Server.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := ServerStatus{Started: mustTime(t, "2026-11-27T21:29:11.350358Z"), LastActivity: mustTime(t, "2026-11-27T21:39:15.550423Z"),
		Connections: 3, Kernels: 2}
	if *st != want {
		t.Errorf("Status = %+v, want %+v", *st, want)
	}

	c, m = newMock(t, "http://jupyter.test")
	m.on("GET", "http://jupyter.test/api/status", 200, wireStatus)
	if st, err := c.Server.Status(context.Background()); err != nil || !st.Started.Equal(st.LastActivity) || st.Kernels != 0 {
		t.Errorf("Status = %+v, %v", st, err)
	}
}

func TestVersionAsksForAPIWithoutSlash(t *testing.T) {
	for base, url := range map[string]string{
		"http://jupyter.test":            "http://jupyter.test/api",
		"http://jupyter.test/user/ci/":   "http://jupyter.test/user/ci/api",
		"https://hub.example.org/user/a": "https://hub.example.org/user/a/api",
	} {
		c, m := newMock(t, base)
		m.on("GET", url, 200, wireVersion)
		v, err := c.Server.Version(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		if *v != (ServerVersion{Raw: "1.23.3", Major: 1, Minor: 23, Patch: 3}) || v.String() != "1.23.3" {
			t.Errorf("%s: Version = %+v", base, *v)
		}
	}
}

// Enterprise Gateway answers the Jupyter Server it is built on and its
// own version (docs/wire/gateway.md GW1); both are kept. A gateway_version
// of another type is a gateway the SDK does not know: refused, as an odd
// version is.
func TestVersionKeepsTheGatewayVersion(t *testing.T) {
	c, m := newMock(t, "http://gateway.test")
	m.on("GET", "http://gateway.test/api", 200, `{"version": "1.24.0", "gateway_version": "3.3.0"}`)
	v, err := c.Server.Version(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (ServerVersion{Raw: "1.24.0", Major: 1, Minor: 24, GatewayVersion: "3.3.0"}); *v != want {
		t.Errorf("Version = %+v, want %+v", *v, want)
	}
	c, m = newMock(t, "http://gateway.test")
	m.on("GET", "http://gateway.test/api", 200, `{"version": "1.24.0", "gateway_version": 3}`)
	if v, err := c.Server.Version(context.Background()); err == nil {
		t.Errorf("Version = %+v", v)
	}
}

func TestVersionRefusesOddAnswers(t *testing.T) {
	for _, body := range []string{`{}`, `{"version": null}`, `{"version": 1.23}`, `{"version": "latest"}`, `{"version": ""}`, `[]`, `<html>`} {
		c, m := newMock(t, "http://jupyter.test")
		m.on("GET", "http://jupyter.test/api", 200, body)
		if v, err := c.Server.Version(context.Background()); err == nil {
			t.Errorf("Version of %s = %+v", body, v)
		}
	}
}

func TestParseServerVersion(t *testing.T) {
	for s, want := range map[string]ServerVersion{
		"1.23.3":      {Major: 1, Minor: 23, Patch: 3},
		"2.21.1":      {Major: 2, Minor: 21, Patch: 1},
		"2.0.0rc1":    {Major: 2, Patch: 0, Suffix: "rc1"},
		"2.0.0a0":     {Major: 2, Suffix: "a0"},
		"2.15.0.dev0": {Major: 2, Minor: 15, Suffix: ".dev0"},
		"2.1":         {Major: 2, Minor: 1},
		"3":           {Major: 3},
		"1.2.3.4":     {Major: 1, Minor: 2, Patch: 3, Suffix: ".4"},
		"1.2.3+local": {Major: 1, Minor: 2, Patch: 3, Suffix: "+local"},
		"1.2.":        {Major: 1, Minor: 2, Suffix: "."},
		"10.0.0-beta": {Major: 10, Suffix: "-beta"},
	} {
		want.Raw = s
		got, err := ParseServerVersion(s)
		if err != nil || got != want {
			t.Errorf("ParseServerVersion(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "v1.2.3", "latest", ".1", " 1.2", "99999999999999999999.0"} {
		if v, err := ParseServerVersion(s); err == nil || !strings.Contains(err.Error(), "not a version number") {
			t.Errorf("ParseServerVersion(%q) = %+v, %v", s, v, err)
		}
	}
}

func TestAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v            string
		major, minor int
		want         bool
	}{
		{"1.23.3", 1, 23, true},
		{"1.23.3", 1, 24, false},
		{"1.23.3", 2, 0, false},
		{"1.23.3", 0, 99, true},
		{"2.0.0rc1", 2, 0, true}, // a pre-release carries its version's API
		{"2.21.1", 2, 0, true},
		{"2.21.1", 2, 22, false},
		{"3.0.0", 2, 99, true},
	} {
		v, err := ParseServerVersion(tc.v)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.AtLeast(tc.major, tc.minor); got != tc.want {
			t.Errorf("%s.AtLeast(%d, %d) = %v", tc.v, tc.major, tc.minor, got)
		}
	}
}

func TestSpec(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/alice/")
	m.on("GET", "http://jupyter.test/user/alice/api/spec.yaml", 200, wireSpec, "Content-Type", "text/x-yaml")
	var r Response
	spec, err := c.Server.Spec(context.Background(), WithResponse(&r))
	if err != nil {
		t.Fatal(err)
	}
	if spec.ContentType != "text/x-yaml" || string(spec.Body) != wireSpec || r.StatusCode != 200 {
		t.Errorf("Spec = %s %q (status %d)", spec.ContentType, spec.Body, r.StatusCode)
	}
}

func TestSpecIsBounded(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test", func(cfg *Config) { cfg.MaxResponseBytes = 16 })
	m.on("GET", "http://jupyter.test/api/spec.yaml", 200, wireSpec, "Content-Type", "text/x-yaml")
	if _, err := c.Server.Spec(context.Background()); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("err = %v", err)
	}
}

// Without a valid token Jupyter redirects a file to its login page
// (docs/wire/kernelspecs.md KS14; docs/wire/server.md SV9); Resource and Spec report that instead of returning the page.
func TestLoginRedirectIsUnauthorized(t *testing.T) {
	c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/user/bob/login":
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.Write([]byte("<!DOCTYPE HTML><html><body>Password or token: <input name=password></body></html>"))
		default:
			http.Redirect(w, r, "/user/bob/login?next="+r.URL.Path, http.StatusFound)
		}
	}, func(cfg *Config) {
		cfg.BaseURL += "/user/bob/"
		cfg.Token, cfg.Timeout, cfg.RetryMax = NewSecret("wrong-"+testToken), time.Minute, 0
	})
	ctx := context.Background()
	_, err := c.KernelSpecs.Resource(ctx, "python3", "logo-64x64.png")
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "/user/bob/kernelspecs/python3/logo-64x64.png") ||
		strings.Contains(err.Error(), testToken) {
		t.Errorf("Resource: %v", err)
	}
	_, err = c.Server.Spec(ctx)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "/user/bob/api/spec.yaml") {
		t.Errorf("Spec: %v", err)
	}
}

// ParseServerVersion must never panic, whatever a server reports.
func FuzzParseServerVersion(f *testing.F) {
	for _, s := range []string{"1.23.3", "2.0.0rc1", "2.15.0.dev0", "3", "1.2.", "", "v1", "1.2.3.4+x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseServerVersion(s)
		if err != nil {
			return
		}
		if v.Raw != s || v.Major < 0 || v.Minor < 0 || v.Patch < 0 || !v.AtLeast(v.Major, v.Minor) || v.AtLeast(v.Major+1, 0) {
			t.Fatalf("ParseServerVersion(%q) = %+v", s, v)
		}
		if !strings.HasSuffix(s, v.Suffix) {
			t.Fatalf("suffix %q is not the end of %q", v.Suffix, s)
		}
	})
}
