// Command list-sessions prints a server's sessions as a table: id, path,
// name, type, kernel, state and last activity ("5m ago").
//
//	go run ./examples/list-sessions -url http://127.0.0.1:8888/ -token "$TOKEN"
//
// -url and -token default to $JUPYTER_URL and $JUPYTER_TOKEN.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, time.Now); err != nil {
		fmt.Fprintln(os.Stderr, "list-sessions:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, now func() time.Time) error {
	var server cli.ServerFlags
	fs := flag.NewFlagSet("list-sessions", flag.ContinueOnError)
	server.Register(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
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
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPATH\tNAME\tTYPE\tKERNEL\tSTATE\tLAST ACTIVITY")
	t := now()
	for _, s := range list {
		k := s.Kernel
		if k == nil {
			k = &nbserv.Kernel{}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, orDash(s.Path), orDash(s.Name), orDash(s.Type),
			orDash(k.Name), orDash(k.ExecutionState), cli.Ago(k.LastActivity, t))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d session(s)\n", len(list))
	return nil
}

// orDash shows empty (or JSON null) fields as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
