// Command quickstart runs a session's whole lifecycle — create, list, get,
// rename, switch kernel, delete — printing each step.
//
// With no flags it starts the SDK's embedded reference server in-process,
// so it needs no Jupyter:
//
//	go run ./examples/quickstart
//
// With -url and -token (or $JUPYTER_URL and $JUPYTER_TOKEN) it does the
// same against a real Jupyter Server, on a path of its own that it deletes
// at the end.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/cli"
	"github.com/nbserv/go-nbserv/nbservtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	var server cli.ServerFlags
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	server.Register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}

	var c *nbserv.Client
	if server.URL == "" {
		ref, err := nbservtest.Start()
		if err != nil {
			return err
		}
		defer ref.Close()
		c = ref.Client
		fmt.Fprintf(out, "Using the embedded reference server at %s (no Jupyter needed)\n", ref.URL)
	} else {
		var err error
		if c, err = server.Client(); err != nil {
			return err
		}
		defer c.CloseIdleConnections()
		fmt.Fprintf(out, "Using the Jupyter Server at %s\n", c.BaseURL())
	}

	// A path of our own: Create returns any existing session for a path,
	// and we delete the session at the end.
	dir := "nbserv-quickstart-" + rand.Text()[:8]
	path := dir + "/analysis.ipynb"

	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: path, Type: nbserv.TypeNotebook, Name: "analysis"})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(out, "1. Created session %s for %s on kernel %s (%s, %s)\n",
		cli.Short(s.ID), s.Path, s.Kernel.Name, cli.Short(s.Kernel.ID), s.Kernel.ExecutionState)
	deleted := false
	defer func() {
		if !deleted { // leave nothing running if a later step fails
			_ = c.Sessions.Delete(context.WithoutCancel(ctx), s.ID)
		}
	}()

	list, err := c.Sessions.List(ctx)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	fmt.Fprintf(out, "2. Listed %d session(s) on the server\n", len(list))

	got, err := c.Sessions.Get(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("get: %w", err)
	}
	fmt.Fprintf(out, "3. Got session %s: name %q, type %s, path %s\n", cli.Short(got.ID), got.Name, got.Type, got.Path)

	renamed, err := c.Sessions.Rename(ctx, s.ID, "final-analysis", dir+"/final.ipynb")
	if err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	fmt.Fprintf(out, "4. Renamed it to %q at %s\n", renamed.Name, renamed.Path)

	switched, err := c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Kernel: &nbserv.KernelRequest{Name: s.Kernel.Name}})
	if err != nil {
		return fmt.Errorf("switch kernel: %w", err)
	}
	fmt.Fprintf(out, "5. Switched to a new %s kernel: %s -> %s (the old one is shut down)\n",
		switched.Kernel.Name, cli.Short(s.Kernel.ID), cli.Short(switched.Kernel.ID))

	if err := c.Sessions.Delete(ctx, s.ID); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	deleted = true
	_, err = c.Sessions.Get(ctx, s.ID)
	if !errors.Is(err, nbserv.ErrNotFound) {
		return fmt.Errorf("get after delete: want not found, got %v", err)
	}
	fmt.Fprintf(out, "6. Deleted it; getting it again fails with ErrNotFound\n")
	return nil
}
