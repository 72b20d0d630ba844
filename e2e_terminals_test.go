package nbserv_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The end-to-end tests of terminals: harness and rules in
// e2e_test.go, facts asserted in docs/wire/terminals.md.

// createTerminal starts a terminal and ends it when the test ends.
func createTerminal(t *testing.T, c *nbserv.Client, cwd string) *nbserv.Terminal {
	t.Helper()
	term, err := c.Terminals.Create(context.Background(), cwd)
	if err != nil {
		t.Fatalf("Terminals.Create(%q): %v", cwd, err)
	}
	t.Cleanup(func() {
		if err := c.Terminals.Delete(context.Background(), term.Name); err != nil && !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("cleanup: Terminals.Delete %s: %v", term.Name, err)
		}
	})
	return term
}

func TestE2ETerminals(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		var r nbserv.Response
		t1, err := c.Terminals.Create(ctx, "", nbserv.WithResponse(&r))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Terminals.Delete(context.Background(), t1.Name) })
		if t1.Name == "" || t1.LastActivity.IsZero() || r.StatusCode != 200 {
			t.Errorf("Create: %+v, status %d", t1, r.StatusCode)
		}
		t2 := createTerminal(t, c, "/")
		if t2.Name == t1.Name {
			t.Errorf("two terminals named %q", t1.Name)
		}

		list, err := c.Terminals.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		i1 := slices.IndexFunc(list, func(x nbserv.Terminal) bool { return x.Name == t1.Name })
		i2 := slices.IndexFunc(list, func(x nbserv.Terminal) bool { return x.Name == t2.Name })
		if i1 < 0 || i2 < i1 {
			t.Errorf("List: %+v", list)
		}
		// The shell's first prompt is activity on Jupyter Server 2.x.
		if got, err := c.Terminals.Get(ctx, t1.Name); err != nil || got.Name != t1.Name || got.LastActivity.Before(t1.LastActivity) {
			t.Errorf("Get: %+v, %v", got, err)
		}

		if err := c.Terminals.Delete(ctx, t1.Name); err != nil {
			t.Fatal(err)
		}
		var e *nbserv.Error
		if _, err := c.Terminals.Get(ctx, t1.Name); !errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) ||
			e.Message != "Terminal not found: "+t1.Name {
			t.Errorf("Get after Delete: %v", err)
		}
		if err := c.Terminals.Delete(ctx, t1.Name); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Delete twice: %v", err)
		}
		// The lowest free number is reused.
		t3 := createTerminal(t, c, "")
		if t3.Name != t1.Name {
			t.Errorf("after deleting %q, Create named %q", t1.Name, t3.Name)
		}
		if _, err := c.Terminals.Get(ctx, "a-b"); !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("Get a-b: %v", err)
		}
		if _, err := newClient(t, tg.url, "").Terminals.Create(ctx, ""); !errors.Is(err, nbserv.ErrUnauthorized) {
			t.Errorf("Create without a token: %v", err)
		}
	})
}

// A server without terminals, which only the reference server stages on
// demand (docs/wire/terminals.md T8).
func TestTerminalsDisabledOnTheReferenceServer(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithoutTerminals(), nbservtest.WithBaseURL("/user/ci/"), nbservtest.WithGeneration(1))
	ctx := context.Background()
	_, err := srv.Client.Terminals.Create(ctx, "")
	var ns *nbserv.NotSupportedError
	if !errors.Is(err, nbserv.ErrNotSupported) || !errors.As(err, &ns) || ns.ServerVersion != "1.23.3" || ns.Feature != "POST /api/terminals" {
		t.Errorf("Create: %v", err)
	}
	if _, err := srv.Client.Terminals.List(ctx); !errors.Is(err, nbserv.ErrNotSupported) {
		t.Errorf("List: %v", err)
	}
}
