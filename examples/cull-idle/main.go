// Command cull-idle deletes the sessions whose kernel has been idle for
// longer than a duration. It only prints what it would delete unless given
// -delete.
//
//	go run ./examples/cull-idle -url http://127.0.0.1:8888/ -token "$TOKEN" -idle 2h
//	go run ./examples/cull-idle -idle 2h -delete
//
// A kernel counts as idle when it is not "busy" and its last activity is
// older than -idle. -url and -token default to $JUPYTER_URL and
// $JUPYTER_TOKEN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "cull-idle:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, now func() time.Time) error {
	var server cli.ServerFlags
	fs := flag.NewFlagSet("cull-idle", flag.ContinueOnError)
	server.Register(fs, getenv)
	idle := fs.Duration("idle", time.Hour, "delete sessions idle for longer than this")
	doDelete := fs.Bool("delete", false, "really delete (default: dry run, print only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *idle <= 0 {
		return errors.New("-idle must be positive")
	}
	c, err := server.Client()
	if err != nil {
		return err
	}
	defer c.CloseIdleConnections()
	list, err := c.Sessions.List(ctx)
	if err != nil {
		return err
	}
	t := now()
	culled := 0
	var failed error
	for _, s := range list {
		if s.Kernel == nil || s.Kernel.ExecutionState == "busy" || s.Kernel.LastActivity.IsZero() {
			continue
		}
		idleFor := t.Sub(s.Kernel.LastActivity)
		if idleFor <= *idle {
			continue
		}
		what := fmt.Sprintf("%s %s (kernel %s %s, idle %s)", s.ID, s.Path, s.Kernel.ExecutionState,
			cli.Short(s.Kernel.ID), idleFor.Round(time.Second))
		if !*doDelete {
			fmt.Fprintln(out, "would delete", what)
			culled++
			continue
		}
		// The session may have ended meanwhile: that is what we wanted.
		if err := c.Sessions.Delete(ctx, s.ID); err != nil && !errors.Is(err, nbserv.ErrNotFound) {
			failed = errors.Join(failed, err)
			fmt.Fprintln(out, "failed to delete", what+":", err)
			continue
		}
		fmt.Fprintln(out, "deleted", what)
		culled++
	}
	verb := "would delete"
	if *doDelete {
		verb = "deleted"
	}
	fmt.Fprintf(out, "%d of %d session(s) idle for more than %s: %s\n", culled, len(list), *idle, verb)
	return failed
}
