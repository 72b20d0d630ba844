package nbserv_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The end-to-end tests of server information: harness and rules in
// e2e_test.go, facts asserted in docs/wire/server.md.

func TestE2EServerInfo(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		st, err := c.Server.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Started.IsZero() || st.LastActivity.Before(st.Started) || st.Connections != 0 || st.Kernels != len(kernelIDs(t, c)) {
			t.Errorf("Status: %+v", st)
		}
		// Asking for the status is not activity; listing sessions is.
		st1, err := c.Server.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st2, err := c.Server.Status(ctx)
		if err != nil || !st2.LastActivity.Equal(st1.LastActivity) || !st2.Started.Equal(st.Started) {
			t.Errorf("Status twice: %+v then %+v, %v", st1, st2, err)
		}
		if _, err := c.Sessions.List(ctx); err != nil {
			t.Fatal(err)
		}
		if st3, err := c.Server.Status(ctx); err != nil || !st3.LastActivity.After(st2.LastActivity) {
			t.Errorf("Status after a List: %+v (before %v), %v", st3, st2.LastActivity, err)
		}
		k := startKernel(t, c)
		if st4, err := c.Server.Status(ctx); err != nil || st4.Kernels != st.Kernels+1 {
			t.Errorf("Status with kernel %s: %+v, %v", k.ID, st4, err)
		}

		v, err := c.Server.Version(ctx)
		if err != nil || v.Major < 1 || v.Raw == "" || !v.AtLeast(1, 0) || v.AtLeast(v.Major+1, 0) {
			t.Errorf("Version: %+v, %v", v, err)
		}
		// The version needs no token.
		if v2, err := newClient(t, tg.url, "").Server.Version(ctx); err != nil || v2.Raw != v.Raw {
			t.Errorf("Version without a token: %+v, %v", v2, err)
		}

		spec, err := c.Server.Spec(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if spec.ContentType != "text/x-yaml" || !bytes.HasPrefix(spec.Body, []byte("swagger: \"2.0\"\n")) ||
			!bytes.Contains(spec.Body, []byte("\n  /api/sessions:\n")) || !bytes.Contains(spec.Body, []byte("\n  /api/terminals:\n")) {
			t.Errorf("Spec: %s, %d bytes: %.60q", spec.ContentType, len(spec.Body), spec.Body)
		}
		if _, err := newClient(t, tg.url, "").Server.Spec(ctx); !errors.Is(err, nbserv.ErrUnauthorized) {
			t.Errorf("Spec without a token: %v", err)
		}
		if _, err := newClient(t, tg.url, "").Server.Status(ctx); !errors.Is(err, nbserv.ErrUnauthorized) {
			t.Errorf("Status without a token: %v", err)
		}
	})
}

func TestVersionOfTheReferenceServer(t *testing.T) {
	for _, tc := range []struct {
		opts []nbservtest.Option
		want string
		v2   bool
	}{
		{nil, "2.21.1", true},
		{[]nbservtest.Option{nbservtest.WithGeneration(1)}, "1.23.3", false},
		{[]nbservtest.Option{nbservtest.WithVersion("2.21.1")}, "2.21.1", true},
	} {
		srv := nbservtest.NewServer(t, tc.opts...)
		v, err := srv.Client.Server.Version(context.Background())
		if err != nil || v.Raw != tc.want || v.AtLeast(2, 0) != tc.v2 {
			t.Errorf("Version = %+v, %v; want %s", v, err, tc.want)
		}
	}
}
