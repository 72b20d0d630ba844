package nbserv_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The end-to-end tests of sessions: harness and rules in
// e2e_test.go, facts asserted in docs/wire/sessions.md.

func TestE2ELifecycle(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		path := uniquePath(t, "nb.ipynb")
		var r nbserv.Response
		s := create(t, c, nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionNotebook, Name: "nb"}, nbserv.WithResponse(&r))
		if s.Path != path || s.Name != "nb" || s.Type != "notebook" || s.Kernel == nil || s.Kernel.Name != "python3" ||
			s.Kernel.ExecutionState == "" || s.Kernel.LastActivity.IsZero() || s.Notebook == nil || s.Notebook.Path != path {
			t.Errorf("created %+v (kernel %+v)", s, s.Kernel)
		}
		u, _ := url.Parse(tg.url)
		if r.StatusCode != 201 || r.Header.Get("Location") != strings.TrimSuffix(u.Path, "/")+"/api/sessions/"+s.ID {
			t.Errorf("create answered %d, Location %q", r.StatusCode, r.Header.Get("Location"))
		}

		// The same path again returns the existing session, unchanged.
		again, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionFile, Name: "other"})
		if err != nil || again.ID != s.ID || again.Name != "nb" || again.Type != "notebook" || again.Kernel.ID != s.Kernel.ID {
			t.Errorf("create again: %+v, %v", again, err)
		}

		list, err := c.Sessions.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(list, func(x nbserv.Session) bool { return x.ID == s.ID && x.Path == path }) {
			t.Errorf("List lacks %s", s.ID)
		}

		got, err := c.Sessions.Get(ctx, s.ID)
		if err != nil || got.ID != s.ID || got.Kernel.ID != s.Kernel.ID {
			t.Errorf("Get: %+v, %v", got, err)
		}

		newPath := uniquePath(t, "renamed.ipynb")
		renamed, err := c.Sessions.Rename(ctx, s.ID, "renamed", newPath)
		if err != nil || renamed.Name != "renamed" || renamed.Path != newPath || renamed.Notebook.Path != newPath {
			t.Errorf("Rename: %+v, %v", renamed, err)
		}
		// Renaming the name only leaves the path alone.
		renamed, err = c.Sessions.Rename(ctx, s.ID, "again", "")
		if err != nil || renamed.Name != "again" || renamed.Path != newPath {
			t.Errorf("Rename name only: %+v, %v", renamed, err)
		}
		// Changing the type drops the legacy notebook model.
		console, err := c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Type: nbserv.Ptr(nbserv.SessionConsole)})
		if err != nil || console.Type != "console" || console.Notebook != nil || console.Name != "again" {
			t.Errorf("Update type: %+v, %v", console, err)
		}

		if err := c.Sessions.Delete(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Get after Delete: %v", err)
		}
		if slices.Contains(kernelIDs(t, c), s.Kernel.ID) {
			t.Errorf("kernel %s still running after Delete", s.Kernel.ID)
		}
		if err := c.Sessions.Delete(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Delete twice: %v", err)
		}
	})
}

func TestE2ESwitchKernels(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		s := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "a.py"), Type: nbserv.SessionFile})
		other := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "b.py"), Type: nbserv.SessionFile})

		byName, err := c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Kernel: &nbserv.KernelRequest{Name: "python3"}})
		if err != nil {
			t.Fatal(err)
		}
		if byName.Kernel.ID == s.Kernel.ID {
			t.Fatalf("kernel by name: still on %s", s.Kernel.ID)
		}
		ids := kernelIDs(t, c)
		if slices.Contains(ids, s.Kernel.ID) || !slices.Contains(ids, byName.Kernel.ID) {
			t.Errorf("after switch by name, kernels %v (old %s, new %s)", ids, s.Kernel.ID, byName.Kernel.ID)
		}

		// By id: move to a kernel started beforehand.
		k, err := c.Kernels.Start(ctx, nbserv.StartKernelRequest{})
		if err != nil {
			t.Fatal(err)
		}
		byID, err := c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Kernel: &nbserv.KernelRequest{ID: k.ID}})
		if err != nil || byID.Kernel.ID != k.ID {
			t.Fatalf("kernel by id: %+v, %v", byID, err)
		}
		if slices.Contains(kernelIDs(t, c), byName.Kernel.ID) {
			t.Errorf("kernel %s still running after switch by id", byName.Kernel.ID)
		}
		if got, err := c.Kernels.Get(ctx, k.ID); err != nil || got.ID != k.ID {
			t.Errorf("Kernels.Get: %+v, %v", got, err)
		}

		// An unknown kernel id is refused and changes nothing.
		_, err = c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Name: nbserv.Ptr("x"), Kernel: &nbserv.KernelRequest{ID: "00000000-0000-4000-8000-000000000000"}})
		var e *nbserv.Error
		if !errors.Is(err, nbserv.ErrBadRequest) || !errors.As(err, &e) || e.Message != "No such kernel: 00000000-0000-4000-8000-000000000000" {
			t.Errorf("unknown kernel id: %v", err)
		}
		if got, _ := c.Sessions.Get(ctx, s.ID); got == nil || got.Name != "" || got.Kernel.ID != k.ID {
			t.Errorf("refused update changed the session: %+v", got)
		}

		// Create attached to the other session's running kernel.
		shared := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "c.py"), Type: nbserv.SessionFile,
			Kernel: &nbserv.KernelRequest{ID: other.Kernel.ID}})
		if shared.Kernel.ID != other.Kernel.ID {
			t.Errorf("create by kernel id: on %s, want %s", shared.Kernel.ID, other.Kernel.ID)
		}
	})
}

func TestE2ESessionGoneWithItsKernel(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg target, c *nbserv.Client) {
		ctx := context.Background()
		s := create(t, c, nbserv.CreateSessionRequest{Path: uniquePath(t, "k.ipynb"), Type: nbserv.SessionNotebook})
		if err := c.Kernels.Delete(ctx, s.Kernel.ID); err != nil {
			t.Fatal(err)
		}
		list, err := c.Sessions.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(list, func(x nbserv.Session) bool { return x.ID == s.ID }) {
			t.Errorf("session %s listed after its kernel was deleted", s.ID)
		}
		if _, err := c.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Get: %v", err)
		}
		if _, err := c.Kernels.Get(ctx, s.Kernel.ID); !errors.Is(err, nbserv.ErrNotFound) {
			t.Errorf("Kernels.Get of a deleted kernel: %v", err)
		}
	})
}

func TestE2ELostAnswerCreateMakesOneSession(t *testing.T) {
	for _, l := range []loss{cutAfterAnswer, cutBeforeAnswer, gateway502} {
		t.Run(l.String(), func(t *testing.T) {
			forEachTarget(t, func(t *testing.T, tg target, direct *nbserv.Client) {
				before := kernelIDs(t, direct)
				c := throughProxy(t, tg, lossyProxy(t, tg.url, "POST", l))
				path := uniquePath(t, "lost.ipynb")
				var r nbserv.Response
				s, err := c.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionNotebook}, nbserv.WithResponse(&r))
				if r.Attempts != 1 {
					t.Errorf("the create was sent %d times after its answer was lost, want once", r.Attempts)
				}
				if err != nil && !errors.Is(err, nbserv.ErrOutcomeUnknown) {
					t.Errorf("Create: %v, want a session or ErrOutcomeUnknown", err)
				}
				after := settle(t, direct)
				list, lerr := direct.Sessions.List(context.Background())
				if lerr != nil {
					t.Fatal(lerr)
				}
				var at []nbserv.Session
				for _, x := range list {
					if x.Path == path {
						at = append(at, x)
						t.Cleanup(func() { direct.Sessions.Delete(context.Background(), x.ID) })
					}
				}
				if len(at) != 1 || len(after) != len(before)+1 {
					t.Errorf("after one Create: %d sessions at the path, %d new kernels; want 1 and 1", len(at), len(after)-len(before))
				}
				if err == nil && (len(at) == 0 || s.ID != at[0].ID) {
					t.Errorf("Create returned %v, not the server's session %v", s, at)
				}
			})
		})
	}
}

// A create whose answer is lost while the server is still starting its
// kernel (the window in which a re-sent create would make a second
// session on a real Jupyter, reproduced by the reference server's kernel
// start delay): Create looks instead of re-sending, and the server ends
// with one session and one kernel.
func TestLostAnswerCreateDuringASlowKernelStart(t *testing.T) {
	srv := nbservtest.NewServer(t)
	srv.SetKernelStartDelay(700 * time.Millisecond)
	tg := target{name: "refserver", url: srv.URL, token: srv.Token, generation: 1}
	c := throughProxy(t, tg, lossyProxy(t, tg.url, "POST", cutBeforeAnswer))
	var r nbserv.Response
	s, err := c.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "slow.ipynb", Type: nbserv.SessionNotebook}, nbserv.WithResponse(&r))
	if r.Attempts != 1 || err != nil && !errors.Is(err, nbserv.ErrOutcomeUnknown) {
		t.Errorf("Create: %v after %d attempts", err, r.Attempts)
	}
	time.Sleep(time.Second) // the first attempt's kernel has started by now
	list, _ := srv.Client.Sessions.List(context.Background())
	kernels, _ := srv.Client.Kernels.List(context.Background())
	if len(list) != 1 || len(kernels) != 1 {
		t.Fatalf("%d sessions and %d kernels after one Create, want 1 and 1", len(list), len(kernels))
	}
	if err == nil && s.ID != list[0].ID {
		t.Errorf("Create returned %s, the server holds %s", s.ID, list[0].ID)
	}
}

func TestE2ELostAnswerDeleteSucceeds(t *testing.T) {
	for _, l := range []loss{cutAfterAnswer, gateway502} {
		t.Run(l.String(), func(t *testing.T) {
			forEachTarget(t, func(t *testing.T, tg target, direct *nbserv.Client) {
				c := throughProxy(t, tg, lossyProxy(t, tg.url, "DELETE", l))
				s := create(t, direct, nbserv.CreateSessionRequest{Path: uniquePath(t, "d.ipynb"), Type: nbserv.SessionNotebook})
				var r nbserv.Response
				if err := c.Sessions.Delete(context.Background(), s.ID, nbserv.WithResponse(&r)); err != nil || r.Attempts != 2 || r.StatusCode != 404 {
					t.Errorf("Sessions.Delete: %v after %d attempts, last status %d; want success after a 404", err, r.Attempts, r.StatusCode)
				}
				k, err := direct.Kernels.Start(context.Background(), nbserv.StartKernelRequest{})
				if err != nil {
					t.Fatal(err)
				}
				c2 := throughProxy(t, tg, lossyProxy(t, tg.url, "DELETE", l))
				if err := c2.Kernels.Delete(context.Background(), k.ID, nbserv.WithResponse(&r)); err != nil || r.Attempts != 2 {
					t.Errorf("Kernels.Delete: %v after %d attempts; want success", err, r.Attempts)
				}
				if _, err := direct.Kernels.Get(context.Background(), k.ID); !errors.Is(err, nbserv.ErrNotFound) {
					t.Errorf("kernel still there: %v", err)
				}
			})
		})
	}
}
