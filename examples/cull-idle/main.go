// Command cull-idle shuts down a Jupyter Server's kernels that have been
// inactive for too long, by the rules of Jupyter Server's own idle culler
// (MappingKernelManager's cull_idle_timeout, cull_busy, cull_connected and
// cull_interval), for a server that does not run it or a fleet of servers
// culled from one place. It only prints what it would cull unless given
// -delete.
//
//	go run ./examples/cull-idle -url http://127.0.0.1:8888/ -token "$TOKEN" -cull-idle-timeout 2h
//	go run ./examples/cull-idle -cull-idle-timeout 7200 -delete
//	go run ./examples/cull-idle -cull-idle-timeout 2h -cull-interval 300 -delete   # keep culling, as Jupyter does
//
// The rules, each checked against Jupyter Server 1.23's culler and recorded
// in docs/wire/kernels.md K16, K17, K18:
//
//   - A kernel is culled when its last activity is more than
//     -cull-idle-timeout ago, unless it is "busy" (-cull-busy culls those
//     too) or has connections, such as an open notebook tab
//     (-cull-connected culls those too).
//   - "starting" counts as idle: a kernel that no client ever connected to
//     stays "starting", and Jupyter culls it like an idle one.
//   - A "dead" kernel is culled whatever its last activity.
//   - A kernel whose last activity the server does not report is kept
//     (Jupyter skips a kernel it has no activity time for).
//
// Like Jupyter's culler it acts on kernels, not sessions: it shuts each
// culled kernel down (DELETE /api/kernels/{id}), the session(s) on it end
// with it, and kernels with no session (started with POST /api/kernels)
// are culled too. Just before shutting a kernel down it reads the kernel
// again and keeps it if it no longer qualifies, as Jupyter decides on the
// kernel's state at that moment.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
)

const usage = `Usage: cull-idle -cull-idle-timeout TIMEOUT [flags]

Shuts down the kernels of a Jupyter Server that have been inactive for longer
than -cull-idle-timeout, by the rules of Jupyter Server's own idle culler: the
flags -cull-idle-timeout, -cull-busy, -cull-connected and -cull-interval mean
what MappingKernelManager.cull_idle_timeout, cull_busy, cull_connected and
cull_interval mean, with the same defaults except -cull-interval (see below).

A kernel is culled when its last activity is older than the timeout, unless it
is busy or has connections (an open notebook tab, a console), which
-cull-busy and -cull-connected cull too. "starting" counts as idle, as in
Jupyter (a kernel no client ever connected to stays "starting"); a dead kernel
is culled whatever its activity. Each culled kernel is shut down
(DELETE /api/kernels/{id}) and its sessions end with it; kernels with no
session are culled too. Nothing is shut down without -delete.

-url and -token default to $JUPYTER_URL and $JUPYTER_TOKEN or, inside a
JupyterHub single-user server, to the server's own address and token from the
hub's variables (see nbserv.ConfigFromEnv). The environment's token
goes only to the environment's server: a -url of another host, port or scheme
needs -token.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	p := program{stdout: os.Stdout, stderr: os.Stderr, now: time.Now, wait: sleep}
	code := p.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// program is cull-idle with its outside world: where it writes, its clock,
// and how it waits between passes.
type program struct {
	stdout, stderr io.Writer
	now            func() time.Time
	wait           func(ctx context.Context, d time.Duration) error
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rules are Jupyter's culling settings.
type rules struct {
	timeout                 time.Duration // cull_idle_timeout
	cullBusy, cullConnected bool          // cull_busy, cull_connected
}

// run is the program: it returns the exit status, 0 on success, for -h
// and when interrupted between passes, 1 when a pass fails (with
// -cull-interval 0), 2 for a usage error (printed with the usage).
func (p program) run(ctx context.Context, args []string) int {
	env, envErr := nbserv.ConfigFromEnv()
	fs := flag.NewFlagSet("cull-idle", flag.ContinueOnError)
	var help bytes.Buffer // the flag package's messages and usage, printed once below
	fs.SetOutput(&help)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	baseURL := fs.String("url", env.BaseURL, "base `URL` of the Jupyter Server, prefix included")
	token := env.Token
	fs.Var((*secretFlag)(&token), "token", "API `TOKEN` of the Jupyter Server or JupyterHub")
	var r rules
	var interval time.Duration
	fs.Var((*seconds)(&r.timeout), "cull-idle-timeout",
		"cull kernels inactive for longer than `TIMEOUT`: seconds, as Jupyter's cull_idle_timeout (3600), or a duration (1h);\n"+
			"0 or less, Jupyter's default, disables culling, so this program then refuses to run")
	fs.BoolVar(&r.cullBusy, "cull-busy", false, "cull busy kernels too (Jupyter's cull_busy)")
	fs.BoolVar(&r.cullConnected, "cull-connected", false, "cull kernels with connections too, such as an open notebook (Jupyter's cull_connected)")
	fs.Var((*seconds)(&interval), "cull-interval",
		"check again every `INTERVAL` (seconds or a duration) until interrupted, as Jupyter's cull_interval;\n"+
			"0 (the default here; Jupyter's is 300) makes one pass and exits")
	doDelete := fs.Bool("delete", false, "really shut kernels down (default: a dry run that prints what it would cull)")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		_, _ = p.stdout.Write(help.Bytes())
		return 0
	case err != nil:
		_, _ = p.stderr.Write(help.Bytes())
		return 2
	}
	usageError := func(err error) int {
		fmt.Fprintf(p.stderr, "cull-idle: %v\n", err)
		fs.SetOutput(p.stderr)
		fs.Usage()
		return 2
	}
	switch {
	case fs.NArg() > 0:
		return usageError(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	case r.timeout <= 0:
		return usageError(errors.New("give -cull-idle-timeout: at 0, Jupyter's default, culling is off"))
	case interval < 0:
		return usageError(errors.New("-cull-interval must not be negative"))
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

	cu := culler{c: c, rules: r, delete: *doDelete, out: p.stdout, now: p.now}
	for {
		err := cu.pass(ctx)
		if interval == 0 {
			if err != nil {
				fmt.Fprintf(p.stderr, "cull-idle: %v\n", err)
				return 1
			}
			return 0
		}
		if err != nil { // Jupyter's culler, too, logs a failed check and carries on
			fmt.Fprintf(p.stderr, "cull-idle: %v\n", err)
		}
		if p.wait(ctx, interval) != nil {
			return 0 // interrupted
		}
	}
}

// culler makes passes over one server's kernels.
type culler struct {
	c      *nbserv.Client
	rules  rules
	delete bool
	out    io.Writer
	now    func() time.Time
}

// pass culls the server's kernels once, printing one line per culled
// kernel and a summary. Failing to shut one kernel down does not stop the
// others; the failures are returned together.
func (cu culler) pass(ctx context.Context) error {
	kernels, err := cu.c.Kernels.List(ctx)
	if err != nil {
		return err
	}
	sessions, err := cu.c.Sessions.List(ctx)
	if err != nil {
		return err
	}
	paths := map[string][]string{} // kernel id -> paths of its sessions, for the report
	for _, s := range sessions {
		if s.Kernel != nil { // a server may send a session without its kernel
			paths[s.Kernel.ID] = append(paths[s.Kernel.ID], s.Path)
		}
	}

	verb := "would cull"
	if cu.delete {
		verb = "culled"
	}
	culled := 0
	var failed error
	for _, k := range kernels {
		now := cu.now()
		if ok, _ := cu.rules.cull(&k, now); !ok {
			continue
		}
		if !cu.delete {
			fmt.Fprintln(cu.out, verb, describe(&k, now, paths[k.ID]))
			culled++
			continue
		}
		// Jupyter decides on the kernel's state when it shuts it down; the
		// list may be stale by now (a cell started, a tab opened).
		fresh, err := cu.c.Kernels.Get(ctx, k.ID)
		if errors.Is(err, nbserv.ErrNotFound) {
			continue // gone meanwhile: nothing to cull
		}
		if err != nil {
			failed = errors.Join(failed, err)
			fmt.Fprintf(cu.out, "failed to cull kernel %s: %v\n", short(k.ID), err)
			continue
		}
		now = cu.now()
		if ok, why := cu.rules.cull(fresh, now); !ok {
			fmt.Fprintf(cu.out, "kept kernel %s: %s since it was listed\n", short(k.ID), why)
			continue
		}
		if err := cu.c.Kernels.Delete(ctx, k.ID); err != nil && !errors.Is(err, nbserv.ErrNotFound) {
			failed = errors.Join(failed, err)
			fmt.Fprintf(cu.out, "failed to cull %s: %v\n", describe(fresh, now, paths[k.ID]), err)
			continue
		}
		fmt.Fprintln(cu.out, verb, describe(fresh, now, paths[k.ID]))
		culled++
	}
	fmt.Fprintf(cu.out, "%s %d of %d kernel(s): inactive for more than %s\n", verb, culled, len(kernels), cu.rules.timeout)
	return failed
}

// cull reports whether Jupyter's culler would shut k down at now, and if
// not, why not. It is MappingKernelManager.cull_kernel_if_idle.
func (r rules) cull(k *nbserv.Kernel, now time.Time) (bool, string) {
	switch {
	case k.ExecutionState == nbserv.StateDead:
		return true, ""
	case k.LastActivity.IsZero():
		return false, "no last activity reported"
	case now.Sub(k.LastActivity) <= r.timeout:
		return false, "active"
	case k.ExecutionState == nbserv.StateBusy && !r.cullBusy:
		return false, "busy"
	case k.Connections > 0 && !r.cullConnected:
		return false, fmt.Sprintf("%d connection(s)", k.Connections)
	}
	return true, ""
}

// describe is a kernel as the report shows it.
func describe(k *nbserv.Kernel, now time.Time, paths []string) string {
	inactive := "unknown"
	if !k.LastActivity.IsZero() {
		inactive = now.Sub(k.LastActivity).Round(time.Second).String()
	}
	of := "no session"
	if len(paths) > 0 {
		of = "session " + strings.Join(paths, ", ")
	}
	return fmt.Sprintf("kernel %s (%s, %s, %d connection(s), inactive %s) of %s",
		short(k.ID), k.Name, k.ExecutionState, k.Connections, inactive, of)
}

// short abbreviates a UUID to its first group, as people read them.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// seconds is a duration flag that also takes a plain number of seconds,
// as Jupyter's cull_* settings are written.
type seconds time.Duration

func (s *seconds) String() string { return time.Duration(*s).String() }

func (s *seconds) Set(v string) error {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return errors.New("out of range")
		}
		*s = seconds(time.Duration(n) * time.Second)
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("want seconds (3600) or a duration (1h)")
	}
	*s = seconds(d)
	return nil
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
