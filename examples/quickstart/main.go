// Command quickstart runs a session's whole lifecycle — create, list, get,
// rename, switch kernel, delete — printing each step.
//
// With no server named it starts the SDK's embedded reference server
// in-process, so it needs no Jupyter:
//
//	go run ./examples/quickstart
//
// With -url and -token, or with the variables nbserv.ConfigFromEnv reads
// ($JUPYTER_URL and $JUPYTER_TOKEN, or inside a JupyterHub single-user
// server the hub's), it does the same against that Jupyter Server, on a
// path of its own that it deletes at the end.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

const usage = `Usage: quickstart [-url URL] [-token TOKEN]

Runs a session's whole lifecycle (create, list, get, rename, switch kernel,
delete) and prints each step. With no server named, on the SDK's embedded
reference server: no Jupyter needed.

-url and -token default to $JUPYTER_URL and $JUPYTER_TOKEN or, inside a
JupyterHub single-user server, to the server's own address and token from
the hub's variables (see nbserv.ConfigFromEnv). The environment's token
goes only to the environment's server: a -url of another host, port or scheme
needs -token. Against a real server it
works on a path of its own and deletes its session at the end.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the program: it returns the exit status, 0 on success and for
// -h, 1 when a step fails, 2 for a usage error (printed with the usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env, envErr := nbserv.ConfigFromEnv()
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	var help bytes.Buffer // the flag package's messages and usage, printed once below
	fs.SetOutput(&help)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	baseURL := fs.String("url", env.BaseURL, "base `URL` of the Jupyter Server, prefix included (default: the embedded reference server)")
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
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		fs.SetOutput(stderr)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case !isSet(fs, "url") && envErr != nil:
		return usageError(envErr) // a malformed variable the flag did not replace
	}

	var c *nbserv.Client
	if *baseURL == "" {
		ref, err := nbservtest.Start()
		if err != nil {
			fmt.Fprintf(stderr, "quickstart: %v\n", err)
			return 1
		}
		defer ref.Close()
		c = ref.Client
		fmt.Fprintf(stdout, "Using the embedded reference server at %s (no Jupyter needed)\n", ref.URL)
	} else {
		cfg := env.Retarget(*baseURL) // the environment's token goes to the environment's server only
		if isSet(fs, "token") {
			cfg.Token = token
		}
		var err error
		if c, err = nbserv.NewClient(cfg); err != nil {
			return usageError(err)
		}
		defer c.CloseIdleConnections()
		fmt.Fprintf(stdout, "Using the Jupyter Server at %s\n", c.BaseURL())
	}
	if err := lifecycle(ctx, c, stdout); err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return 1
	}
	return 0
}

// lifecycle creates a session, lists, gets, renames it, switches its
// kernel and deletes it, printing each step.
func lifecycle(ctx context.Context, c *nbserv.Client, out io.Writer) error {
	// A path of our own: Create returns any existing session for a path,
	// and we delete the session at the end.
	dir := "nbserv-quickstart-" + rand.Text()[:8]
	path := dir + "/analysis.ipynb"

	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: path, Type: nbserv.SessionNotebook, Name: "analysis"})
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	fmt.Fprintf(out, "1. Created session %s for %s on %s\n", short(s.ID), s.Path, describe(s.Kernel))
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
	fmt.Fprintf(out, "3. Got session %s: name %q, type %s, path %s\n", short(got.ID), got.Name, got.Type, got.Path)

	renamed, err := c.Sessions.Rename(ctx, s.ID, "final-analysis", dir+"/final.ipynb")
	if err != nil {
		return fmt.Errorf("rename: %w", err)
	}
	fmt.Fprintf(out, "4. Renamed it to %q at %s\n", renamed.Name, renamed.Path)

	// Session.Kernel is nil when a server sends no kernel: then there is
	// no kernelspec to start again.
	if s.Kernel == nil || s.Kernel.Name == "" {
		fmt.Fprintf(out, "5. Did not switch kernels: the server reported none for the session\n")
	} else {
		switched, err := c.Sessions.Update(ctx, s.ID, nbserv.UpdateSessionRequest{Kernel: &nbserv.KernelRequest{Name: s.Kernel.Name}})
		if err != nil {
			return fmt.Errorf("switch kernel: %w", err)
		}
		fmt.Fprintf(out, "5. Switched from kernel %s to %s (the old one is shut down)\n", short(s.Kernel.ID), describe(switched.Kernel))
	}

	if err := c.Sessions.Delete(ctx, s.ID); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	deleted = true
	if _, err = c.Sessions.Get(ctx, s.ID); !errors.Is(err, nbserv.ErrNotFound) {
		return fmt.Errorf("get after delete: want not found, got %v", err)
	}
	fmt.Fprintf(out, "6. Deleted it; getting it again fails with ErrNotFound\n")
	return nil
}

// describe names a session's kernel, which may be nil.
func describe(k *nbserv.Kernel) string {
	if k == nil {
		return "no kernel (the server sent none)"
	}
	return fmt.Sprintf("kernel %s (%s, %s)", short(k.ID), k.Name, k.ExecutionState)
}

// short abbreviates a UUID to its first group, as people read them.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
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
