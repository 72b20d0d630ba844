// Command list-sessions prints a Jupyter Server's sessions as a table: id,
// path, name, type, kernel, state and last activity ("5m ago").
//
//	go run ./examples/list-sessions -url http://127.0.0.1:8888/ -token "$TOKEN"
//
// -url and -token default to what nbserv.ConfigFromEnv reads: $JUPYTER_URL
// and $JUPYTER_TOKEN, or inside a JupyterHub single-user server the
// variables the hub set, so there it needs no flags at all.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
)

const usage = `Usage: list-sessions [-url URL] [-token TOKEN]

Prints the sessions of a Jupyter Server as a table: id, path, name, type,
kernel, execution state and last activity.

-url and -token default to $JUPYTER_URL and $JUPYTER_TOKEN or, inside a
JupyterHub single-user server, to the server's own address and token from
the hub's variables (see nbserv.ConfigFromEnv). The environment's token
goes only to the environment's server: a -url of another host, port or scheme
needs -token.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, time.Now)
	stop()
	os.Exit(code)
}

// run is the program: it returns the exit status, 0 on success and for
// -h, 1 when listing fails, 2 for a usage error (printed with the usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	env, envErr := nbserv.ConfigFromEnv()
	fs := flag.NewFlagSet("list-sessions", flag.ContinueOnError)
	var help bytes.Buffer // the flag package's messages and usage, printed once below
	fs.SetOutput(&help)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	baseURL := fs.String("url", env.BaseURL, "base `URL` of the Jupyter Server, prefix included")
	token := env.Token
	fs.Var((*secretFlag)(&token), "token", "API `TOKEN` of the Jupyter Server or JupyterHub")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(help.Bytes())
		return 0
	case err != nil:
		_, _ = stderr.Write(help.Bytes())
		return 2
	}
	usageError := func(err error) int {
		fmt.Fprintf(stderr, "list-sessions: %v\n", err)
		fs.SetOutput(stderr)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case !isSet(fs, "url") && envErr != nil:
		return usageError(envErr) // a malformed variable the flag did not replace
	case *baseURL == "":
		return usageError(errors.New("no server: give -url or set JUPYTER_URL"))
	}
	cfg := env.Retarget(*baseURL) // the environment's token goes to the environment's server only
	if isSet(fs, "token") {
		cfg.Token = token
	}
	c, err := nbserv.NewClient(cfg)
	if err != nil {
		return usageError(err)
	}
	defer c.CloseIdleConnections()
	if err := list(ctx, c, stdout, now()); err != nil {
		fmt.Fprintf(stderr, "list-sessions: %v\n", err)
		return 1
	}
	return 0
}

// list prints the table.
func list(ctx context.Context, c *nbserv.Client, out io.Writer, now time.Time) error {
	sessions, err := c.Sessions.List(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPATH\tNAME\tTYPE\tKERNEL\tSTATE\tLAST ACTIVITY")
	for _, s := range sessions {
		k := s.Kernel
		if k == nil { // a server may send a session without its kernel
			k = &nbserv.Kernel{}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, orDash(s.Path), orDash(s.Name), orDash(string(s.Type)),
			orDash(k.Name), orDash(k.ExecutionState), ago(k.LastActivity, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d session(s)\n", len(sessions))
	return nil
}

// orDash shows empty (or JSON null) fields as "-".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// ago renders how long before now t was, coarsely: "just now", "45s ago",
// "5m ago", "3h ago", "2d ago"; "-" for an unknown time.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	switch d := now.Sub(t); {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
	}
}

// isSet reports whether the flag was given on the command line.
func isSet(fs *flag.FlagSet, name string) (set bool) {
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// secretFlag is a flag holding an nbserv.Secret, so that -h shows
// "[REDACTED]" rather than a token taken from the environment.
type secretFlag nbserv.Secret

func (s *secretFlag) String() string     { return (*nbserv.Secret)(s).String() }
func (s *secretFlag) Set(v string) error { *s = secretFlag(nbserv.NewSecret(v)); return nil }
