package nbserv_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// What the SDK makes of the failures only the reference server can stage
// on demand (docs/wire/kernels.md K7, K8; docs/wire/terminals.md T8): a kernel that cannot be
// restarted, a kernel that died for good, a server without terminals.

func TestRestartFailureKeepsTheKernel(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	k := startKernel(t, srv.Client)
	if err := srv.FailRestarts(k.ID, 1); err != nil {
		t.Fatal(err)
	}
	// The kernel exists: a failed restart is a server error, not "not found".
	_, err := srv.Client.Kernels.Restart(ctx, k.ID)
	var e *nbserv.Error
	if !errors.Is(err, nbserv.ErrServer) || errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) ||
		e.StatusCode != 500 || e.Message != "Exception restarting kernel" {
		t.Fatalf("failed restart: %v", err)
	}
	// Nothing runs in it until a restart succeeds: interrupting fails.
	if _, err := srv.Client.Kernels.Interrupt(ctx, k.ID); !errors.Is(err, nbserv.ErrServer) {
		t.Errorf("Interrupt of a kernel with no process: %v", err)
	}
	got, err := srv.Client.Kernels.Restart(ctx, k.ID)
	if err != nil || got.ID != k.ID {
		t.Fatalf("restart after the failure: %+v, %v", got, err)
	}
	if _, err := srv.Client.Kernels.Interrupt(ctx, k.ID); err != nil {
		t.Errorf("Interrupt after a good restart: %v", err)
	}
}

func TestActionsOnADeadKernelAreNotFound(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	k := startKernel(t, srv.Client)
	if err := srv.KillKernel(k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Kernels.Interrupt(ctx, k.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Interrupt: %v", err)
	}
	// Jupyter's 500, which the SDK's check turns into not found.
	_, err := srv.Client.Kernels.Restart(ctx, k.ID)
	if !errors.Is(err, nbserv.ErrNotFound) || !errors.Is(err, nbserv.ErrServer) || !strings.Contains(err.Error(), k.ID) {
		t.Errorf("Restart: %v", err)
	}
}

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
