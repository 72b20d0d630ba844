package nbservtest_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

func TestFailRestarts(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.FailRestarts(k.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err = srv.Client.Kernels.Restart(ctx, k.ID)
	var e *nbserv.Error
	if !errors.Is(err, nbserv.ErrServer) || errors.Is(err, nbserv.ErrNotFound) || !errors.As(err, &e) || e.Message != "Exception restarting kernel" {
		t.Errorf("failed restart: %v", err)
	}
	if _, err := srv.Client.Kernels.Interrupt(ctx, k.ID); !errors.Is(err, nbserv.ErrServer) {
		t.Errorf("interrupt with nothing running: %v", err)
	}
	if got, err := srv.Client.Kernels.Restart(ctx, k.ID); err != nil || got.ID != k.ID {
		t.Errorf("the next restart: %+v, %v", got, err)
	}
	if err := srv.FailRestarts("00000000-0000-4000-8000-000000000000", 1); err == nil {
		t.Error("FailRestarts of an unknown kernel: no error")
	}
}

func TestKillKernelLeavesTheList(t *testing.T) {
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.KillKernel(s.Kernel.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Client.Kernels.Get(ctx, s.Kernel.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Kernels.Get of a dead kernel: %v", err)
	}
	if _, err := srv.Client.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Sessions.Get on a dead kernel: %v", err)
	}
	if err := srv.KillKernel(s.Kernel.ID); err == nil {
		t.Error("a second kill: no error")
	}
}

func TestWithoutTerminals(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithoutTerminals())
	if _, err := srv.Client.Terminals.List(context.Background()); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("Terminals.List: %v", err)
	}
	on := nbservtest.NewServer(t)
	if _, err := on.Client.Terminals.List(context.Background()); err != nil {
		t.Errorf("terminals are on by default: %v", err)
	}
}

// A test of how code copes with a kernel that cannot restart.
func ExampleServer_FailRestarts() {
	srv, err := nbservtest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	k, err := srv.Client.Kernels.Start(ctx, nbserv.StartKernelRequest{})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.FailRestarts(k.ID, 1); err != nil {
		log.Fatal(err)
	}
	_, err = srv.Client.Kernels.Restart(ctx, k.ID)
	fmt.Println(errors.Is(err, nbserv.ErrServer))
	// Output: true
}
