// Command run-notebook executes a notebook on a Jupyter Server and writes
// the executed notebook, as `jupyter nbconvert --execute` and papermill do,
// but with the kernel on the server:
//
//	run-notebook [-url U -token T] [-k KERNEL] [-allow-errors] [-timeout D] [-server] [-cwd DIR] [-p NAME=VALUE]... [-r NAME=VALUE]... INPUT.ipynb OUTPUT.ipynb
//	run-notebook [flags] -d OUTDIR [-j N] [-url U]... [-servers FILE] INPUT.ipynb...
//
// INPUT and OUTPUT are local files, or with -server paths on the server
// (its contents API). The program starts a kernel of its own (never a
// session, which could be a user's: Jupyter returns the existing session of
// a path someone has open), in the directory -cwd on the server (default:
// the server's root, or INPUT's directory with -server), runs the cells with
// package nbexec, and writes OUTPUT, as canonical nbformat, after every
// cell, so an interrupted run leaves what ran. It deletes the kernel it
// started at the end, on success, error, SIGINT, SIGTERM, SIGPIPE and
// SIGHUP alike, and nothing else.
//
// -p NAME=VALUE and -r NAME=VALUE parameterise the notebook as papermill
// does (package nbexec's InjectParameters): a cell tagged
// injected-parameters after the cell tagged parameters (first, with a
// warning, when there is none) assigns each NAME, a -p VALUE typed as
// papermill types it (True, False, None, an int, a float, else a string),
// a -r VALUE as a string; -p values first, then -r, a NAME given again
// keeping its place and taking the later value. Parameters need a Python
// kernel: the language is -k's kernelspec's, else the notebook's, else
// the server's default kernelspec's.
//
// With -d OUTDIR, every argument is an INPUT, run on a kernel of its own,
// -j at a time (default 1), and written to OUTDIR/<INPUT's base name> after
// every cell (OUTDIR is created when local; on the server it must exist);
// a summary at the end gives each notebook's outcome and time, and the exit
// status is 1 when any failed. Two INPUTs with the same base name, or an
// INPUT that its output would overwrite, are usage errors. The notebooks
// run through nbexec.RunMany.
//
// Several servers: -url given more than once, or -servers FILE (one server
// a line: its URL, then optionally its token, so that tokens stay off the
// command line, where ps shows them), spread the notebooks of -d over the
// servers, round robin in the order given: a hub user's named servers, or
// several Jupyter Servers. A server that is down fails its notebooks (the
// summary names each notebook's server) and the others run. -token, or the
// environment's token for the environment's server, goes to every server
// given without one. The server may be Jupyter Enterprise Gateway itself,
// which has no contents: the notebooks are then local files (no -server),
// -kernel-env NAME=VALUE sets what the gateway reads from each kernel's
// environment (KERNEL_USERNAME, KERNEL_NAMESPACE, ...), and -start-timeout
// bounds a kernel's start where a cluster needs minutes.
//
// When standard error is a terminal (a character device), a status line
// there shows the cell running, "cell n of m", and the time so far,
// redrawn every second and cleared at the end.
//
// Exit status: 0 when every cell ran (or raised only allowed errors), 1 when
// a cell failed or anything else went wrong, 2 for a usage error; -h exits
// 0. -timeout bounds each cell (0, the default, means no limit; past it the
// kernel is interrupted). The server and token come from -url and -token,
// else from what nbserv.ConfigFromEnv reads (JUPYTER_URL and JUPYTER_TOKEN,
// or inside a JupyterHub single-user server the hub's variables).
//
// With no arguments it runs the bundled demo.ipynb on the SDK's embedded
// reference server, whose kernel is scripted to answer the demo's cells.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

//go:embed demo.ipynb
var demo []byte

const usage = `usage: run-notebook [-url U -token T] [-k KERNEL] [-allow-errors] [-timeout D] [-server] [-cwd DIR] [-p NAME=VALUE]... [-r NAME=VALUE]... INPUT.ipynb OUTPUT.ipynb
       run-notebook [flags] -d OUTDIR [-j N] [-url U]... [-servers FILE] INPUT.ipynb...
       run-notebook    (the bundled demo on the embedded reference server)

Flags:
`

// cleanupTimeout bounds deleting the kernel at the end, which runs even
// after a signal cancelled everything else.
const cleanupTimeout = 30 * time.Second

func main() {
	// SIGPIPE too: a reader of the output that goes away (run-notebook |
	// head) would otherwise kill the program before it deletes its kernel;
	// caught, it ends the run the same way, and the writes fail quietly.
	// And SIGHUP, which a closed terminal or SSH session sends.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE, syscall.SIGHUP)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	url, token string
	// urls are the -url flags given, in order; url is the first.
	urls []string
	// serversFile is -servers: a file of servers, one a line.
	serversFile string
	// kernelEnv is the -kernel-env values, sent with every kernel start.
	kernelEnv   map[string]string
	kernelName  string
	allowErrors bool
	timeout     time.Duration
	// startTimeout bounds each kernel start; zero: the client's Timeout.
	startTimeout time.Duration
	onServer     bool
	cwd          string
	// params are the -p values, typed, then the -r values.
	params []nbexec.Parameter
	// outDir and jobs are -d and -j: several INPUTs, each written to
	// outDir, jobs at a time.
	outDir string
	jobs   int
	// quiet leaves the cells' outputs off the console, where several
	// notebooks running at once would interleave them.
	quiet bool
}

// paramFlag parses a -p or -r NAME=VALUE.
func paramFlag(dst *[]nbexec.Parameter, typed bool) func(string) error {
	return func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			return errors.New("want NAME=VALUE")
		}
		p := nbexec.Parameter{Name: name, Value: value}
		if typed {
			p.Value = nbexec.ParseValue(value)
		}
		// The name is checked now, a usage error, by injecting into an
		// empty Python notebook: nbexec says what Python can assign.
		if _, err := nbexec.InjectParameters(nbformat.New(), "python", p); err != nil {
			return err
		}
		*dst = append(*dst, p)
		return nil
	}
}

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runOn(ctx, args, stdout, stderr, isTerminal(stderr))
}

// runOn is run with terminal saying whether stderr is a terminal, where
// the status line goes.
func runOn(ctx context.Context, args []string, stdout, stderr io.Writer, terminal bool) int {
	env, envErr := nbserv.ConfigFromEnv()
	var o options
	fs := flag.NewFlagSet("run-notebook", flag.ContinueOnError)
	var help bytes.Buffer // the flag package's messages and usage, printed once below
	fs.SetOutput(&help)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	fs.Func("url", "base `URL` of the Jupyter Server (or Enterprise Gateway), prefix included (default: from the environment); repeatable with -d: the notebooks are spread over the servers", func(u string) error {
		o.urls = append(o.urls, u)
		return nil
	})
	fs.StringVar(&o.serversFile, "servers", "", "with -d, a `FILE` of servers to spread the notebooks over, one a line: URL, or URL and its TOKEN, separated by spaces; # starts a comment")
	o.kernelEnv = map[string]string{}
	fs.Func("kernel-env", "`NAME=VALUE` in every kernel's environment, as Enterprise Gateway reads it (KERNEL_USERNAME, ...); Jupyter Server ignores it; repeatable", func(s string) error {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return errors.New("want NAME=VALUE")
		}
		o.kernelEnv[name] = value
		return nil
	})
	fs.StringVar(&o.token, "token", "", "API `TOKEN` of the server (default: the environment's, only when -url names the environment's server)")
	fs.StringVar(&o.kernelName, "k", "", "`KERNEL`spec to run (default: the notebook's, else the server's default)")
	fs.BoolVar(&o.allowErrors, "allow-errors", false, "run every cell whatever exceptions they raise")
	fs.DurationVar(&o.timeout, "timeout", 0, "longest a cell may run before the kernel is interrupted; 0 means no limit")
	fs.DurationVar(&o.startTimeout, "start-timeout", 0, "longest a kernel's start may take (default: the client's, 30s); kernels on a gateway's cluster may take minutes")
	fs.BoolVar(&o.onServer, "server", false, "INPUT and OUTPUT are paths on the server, not local files")
	fs.StringVar(&o.cwd, "cwd", "", "the kernel's working `DIR`ectory on the server (default: its root, or INPUT's directory with -server)")
	var typed, raw []nbexec.Parameter
	fs.Func("p", "set a parameter, `NAME=VALUE`, the value typed as papermill's -p types it (int, float, True/False/None, else a string); repeatable", paramFlag(&typed, true))
	fs.Func("r", "set a parameter, `NAME=VALUE`, the value a string, as papermill's -r; repeatable", paramFlag(&raw, false))
	fs.StringVar(&o.outDir, "d", "", "run every argument as an INPUT and write each to `OUTDIR`/<its base name>")
	fs.IntVar(&o.jobs, "j", 1, "with -d, how many notebooks (`N`) run at once, each on its own kernel")
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(help.Bytes())
		return 0
	case err != nil:
		_, _ = stderr.Write(help.Bytes())
		return 2
	}
	usageError := func(err error) int {
		fmt.Fprintf(stderr, "run-notebook: %v\n", err)
		fs.SetOutput(stderr)
		fs.Usage()
		return 2
	}
	o.url = env.BaseURL
	if len(o.urls) > 0 {
		o.url = o.urls[0]
	}
	// target is the configuration for one server: the environment's token
	// goes to the environment's server only, -token to every -url.
	target := func(u string) nbserv.Config {
		cfg := env.Retarget(u)
		if isSet(fs, "token") {
			cfg.Token = nbserv.NewSecret(o.token)
		}
		return cfg
	}
	var cfgs []nbserv.Config
	for _, u := range o.urls {
		cfgs = append(cfgs, target(u))
	}
	if o.serversFile != "" {
		listed, err := readServers(o.serversFile, target)
		if err != nil {
			return usageError(err)
		}
		if len(listed) == 0 {
			return usageError(fmt.Errorf("%s names no server", o.serversFile))
		}
		cfgs = append(cfgs, listed...)
		if len(o.urls) == 0 {
			o.url = listed[0].BaseURL
		}
	}
	if len(cfgs) == 0 {
		cfgs = []nbserv.Config{target(o.url)}
	}
	o.params = append(typed, raw...) // papermill applies -p, then -r
	switch {
	case o.outDir != "" && fs.NArg() == 0:
		return usageError(errors.New("-d wants at least one INPUT.ipynb"))
	case o.outDir == "" && isSet(fs, "j"):
		return usageError(errors.New("-j runs several notebooks: give -d OUTDIR"))
	case o.outDir == "" && len(cfgs) > 1:
		return usageError(errors.New("several servers run several notebooks: give -d OUTDIR"))
	case o.onServer && len(cfgs) > 1:
		return usageError(errors.New("-server reads and writes notebooks on one server: name one"))
	case o.jobs < 1:
		return usageError(errors.New("-j must be at least 1"))
	case fs.NArg() == 0 && len(o.params) > 0:
		return usageError(errors.New("parameters want an INPUT.ipynb (the demo takes none)"))
	case fs.NArg() == 0:
		return runDemo(ctx, stdout, stderr, terminal)
	case o.outDir == "" && fs.NArg() != 2:
		return usageError(errors.New("want INPUT.ipynb and OUTPUT.ipynb (or -d OUTDIR and INPUTs)"))
	case o.url == "" && envErr != nil:
		return usageError(envErr)
	case o.url == "":
		return usageError(errors.New("no server: give -url, or set JUPYTER_URL (inside JupyterHub, the hub's variables name it)"))
	case o.timeout < 0:
		return usageError(errors.New("-timeout must not be negative"))
	case o.startTimeout < 0:
		return usageError(errors.New("-start-timeout must not be negative"))
	}
	jobs, err := plan(o, fs.Args(), isSet(fs, "cwd"))
	if err != nil {
		return usageError(err)
	}
	var sources []nbexec.KernelSource
	var c *nbserv.Client // the first server's
	for _, cfg := range cfgs {
		sc, err := nbserv.NewClient(cfg)
		if err != nil {
			return usageError(err)
		}
		defer sc.CloseIdleConnections()
		if c == nil {
			c = sc
		}
		src := nbserv.KernelSource{Client: sc, Env: o.kernelEnv}
		if o.startTimeout > 0 {
			src.StartOptions = []nbserv.CallOption{nbserv.WithTimeout(o.startTimeout)}
		}
		sources = append(sources, src)
	}
	st := store(localFiles{})
	if o.onServer {
		st = serverFiles{c}
	} else if o.outDir != "" {
		if err := os.MkdirAll(o.outDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "run-notebook: %v\n", err)
			return 1
		}
	}
	con := newConsole(stdout, stderr, terminal, o.outDir != "")
	defer con.close()
	if o.outDir == "" {
		return report(execute(ctx, c, sources, st, jobs, o, con)[0].Err, con.stderr())
	}
	o.quiet = true
	return summarize(execute(ctx, c, sources, st, jobs, o, con), jobs, len(sources) > 1, con)
}

// job is one notebook to run: where to read it, where to write it, and
// the kernel's working directory.
type job struct{ in, out, cwd string }

// plan turns the arguments into jobs: INPUT and OUTPUT, or with -d each
// argument an INPUT written to OUTDIR under its base name. cwdSet says
// whether -cwd was given; without it a notebook on the server runs in its
// own directory.
func plan(o options, args []string, cwdSet bool) ([]job, error) {
	clean, base, join := filepath.Clean, filepath.Base, filepath.Join
	if o.onServer {
		trim := func(p string) string { return strings.TrimPrefix(p, "/") }
		clean = func(p string) string { return path.Clean(trim(p)) }
		base = path.Base
		join = func(elem ...string) string { return trim(path.Join(elem...)) }
	}
	var jobs []job
	if o.outDir == "" {
		jobs = []job{{in: args[0], out: args[1]}}
	} else {
		seen := map[string]string{}
		for _, in := range args {
			name := base(clean(in))
			if other, dup := seen[name]; dup {
				return nil, fmt.Errorf("%s and %s would both be written to %s", other, in, join(o.outDir, name))
			}
			seen[name] = in
			out := join(o.outDir, name)
			if same, err := samePath(o.onServer, clean(in), out); err != nil || same {
				return nil, fmt.Errorf("the output of %s would overwrite it: give another -d", in)
			}
			jobs = append(jobs, job{in: in, out: out})
		}
	}
	for i := range jobs {
		j := &jobs[i]
		j.cwd = o.cwd
		if o.onServer {
			j.in, j.out = strings.TrimPrefix(j.in, "/"), strings.TrimPrefix(j.out, "/")
			if !cwdSet {
				j.cwd = path.Dir(j.in)
			}
		}
		if j.cwd == "" || j.cwd == "." {
			// The root: a kernel started without a path runs in the
			// server process's directory instead (docs/wire/nbexec.md NB1).
			j.cwd = "/"
		}
	}
	return jobs, nil
}

// samePath reports whether two paths name one file: on the server, when
// they are equal once cleaned; locally, when they resolve to the same
// absolute path.
func samePath(onServer bool, a, b string) (bool, error) {
	if onServer {
		return a == b, nil
	}
	absA, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	absB, err := filepath.Abs(b)
	return absA == absB, err
}

// readServers reads a -servers file: one server a line, its URL and
// optionally its token, separated by spaces; blank lines and text after #
// are ignored. A line without a token gets target's (-token, or the
// environment's for the environment's server). The tokens stay in the
// file, off the command line, where ps would show them to every user.
func readServers(name string, target func(string) nbserv.Config) ([]nbserv.Config, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("-servers: %w", err)
	}
	var cfgs []nbserv.Config
	for n, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		fields := strings.Fields(line)
		switch len(fields) {
		case 0:
			continue
		case 1, 2:
		default:
			return nil, fmt.Errorf("%s:%d: want URL [TOKEN]", name, n+1)
		}
		// The client would quote a malformed URL in its error; what stands
		// there may be a token (on a line of its own, or before its URL),
		// so the file's error names the line only.
		if u, err := url.Parse(fields[0]); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("%s:%d: the first field is not an http or https URL; want URL [TOKEN]", name, n+1)
		}
		cfg := target(fields[0])
		if len(fields) == 2 {
			cfg.Token = nbserv.NewSecret(fields[1])
		}
		cfgs = append(cfgs, cfg)
	}
	return cfgs, nil
}

// isSet reports whether the flag name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// report prints err for people and returns the exit status.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "run-notebook: %s\n", describe(err))
	return 1
}

// describe says what err means for people; a cell's exception comes with
// its traceback, shortened, on the following lines.
func describe(err error) string {
	var kerr *kernel.Error
	var limit *nbexec.IOPubLimitError
	var lang *nbexec.LanguageError
	var ce *nbexec.CellError
	atCell := errors.As(err, &ce)
	switch {
	case errors.Is(err, nbserv.ErrUnauthorized):
		return fmt.Sprintf("the server refused the token (give -token, or set JUPYTER_TOKEN): %v", err)
	case errors.As(err, &lang):
		return fmt.Sprintf("cannot set parameters: %v", lang)
	case atCell && errors.As(err, &limit):
		return fmt.Sprintf("cell %d: outputs were lost: %v", ce.Index+1, limit)
	case atCell && errors.Is(err, kernel.ErrOutputMayBeLost):
		// Before the exception: it stopped the run even where the
		// exception was allowed, and the output it lost is why.
		return fmt.Sprintf("cell %d: %v", ce.Index+1, ce.Err)
	case atCell && errors.As(err, &kerr):
		return fmt.Sprintf("cell %d raised %s: %s\n%s", ce.Index+1, kerr.Ename, kerr.Evalue, shorten(kerr.PlainTraceback()))
	case atCell:
		return fmt.Sprintf("cell %d: %v", ce.Index+1, ce.Err)
	}
	return err.Error()
}

// execute runs the jobs, o.jobs at a time, each on a kernel of its own
// from sources (round robin: nbexec.RunMany), writing each job's output
// after each cell and at the end. c is the first server's client, which
// tells the kernel's language for parameters and, with -server, holds the
// notebooks (st).
func execute(ctx context.Context, c *nbserv.Client, sources []nbexec.KernelSource, st store, jobs []job, o options, con *console) []nbexec.Result {
	out := con.stdout()
	// docs[i] is job i's notebook once loaded, for the status line's
	// count and the failing cell's outputs.
	docs := make([]*nbformat.Notebook, len(jobs))
	many := make([]nbexec.Job, len(jobs))
	for i, j := range jobs {
		many[i] = nbexec.Job{
			Name:   j.in,
			Kernel: o.kernelName,
			Path:   j.cwd,
			Load: func(ctx context.Context) (*nbformat.Notebook, error) {
				nb, err := load(ctx, c, st, j, o, con)
				docs[i] = nb
				return nb, err
			},
			Save: func(ctx context.Context, nb *nbformat.Notebook) error { return st.save(ctx, j.out, nb) },
		}
	}
	prefix := func(i int) string {
		if o.outDir == "" {
			return ""
		}
		return jobs[i].in + ": "
	}
	results, _ := nbexec.RunMany(ctx, many, sources, nbexec.ManyOptions{
		Workers: o.jobs,
		Options: nbexec.Options{AllowErrors: o.allowErrors, CellTimeout: o.timeout},
		OnStart: func(r nbexec.Result) {
			i, what := r.Index, short(r.KernelID)
			if r.KernelName != "" {
				what += " (" + r.KernelName + ")"
			}
			if len(sources) > 1 {
				what += " at " + r.Source
			}
			fmt.Fprintf(out, "Running %s on kernel %s\n", jobs[i].in, what)
			total := 0
			for k := range docs[i].Cells {
				if nbexec.Runnable(&docs[i].Cells[k]) {
					total++
				}
			}
			con.begin(jobs[i].in, total)
		},
		OnCell: func(ctx context.Context, i int, p nbexec.Progress) error {
			if err := st.save(ctx, jobs[i].out, p.Notebook); err != nil {
				return err
			}
			con.advance(jobs[i].in, p.Done)
			// Cells are numbered as in the notebook (and the errors), markdown
			// included; the count is of the cells to run.
			fmt.Fprintf(out, "%scell %d done, %d of %d (%s)\n", prefix(i), p.Index+1, p.Done, p.Total, p.Elapsed.Round(time.Millisecond))
			if !o.quiet {
				printOutputs(out, p.Notebook.Cells[p.Index])
			}
			return nil
		},
		OnDone: func(r nbexec.Result) {
			con.end(jobs[r.Index].in)
			var ce *nbexec.CellError
			if r.Err != nil && !o.quiet && docs[r.Index] != nil && errors.As(r.Err, &ce) {
				printOutputs(out, docs[r.Index].Cells[ce.Index])
			}
			if r.Err != nil && o.outDir != "" {
				fmt.Fprintf(con.stderr(), "run-notebook: %s: %s\n", jobs[r.Index].in, describe(r.Err))
			}
		},
		CleanupTimeout: cleanupTimeout,
	})
	return results
}

// load reads job j's notebook and sets its parameters.
func load(ctx context.Context, c *nbserv.Client, st store, j job, o options, con *console) (*nbformat.Notebook, error) {
	nb, err := st.load(ctx, j.in)
	if err != nil || len(o.params) == 0 {
		return nb, err
	}
	name := o.kernelName
	if name == "" && nb.Metadata.Kernelspec != nil {
		name = nb.Metadata.Kernelspec.Name
	}
	lang, err := kernelLanguage(ctx, c, nb, o.kernelName, name)
	if err != nil {
		return nil, err
	}
	inj, err := nbexec.InjectParameters(nb, lang, o.params...)
	if err != nil {
		return nil, err
	}
	if inj.NoParametersCell {
		fmt.Fprintf(con.stderr(), "run-notebook: warning: %s has no cell tagged %q; the parameters went first\n", j.in, nbexec.TagParameters)
	}
	return nb, nil
}

// kernelLanguage is the language the parameters are written for: that of
// the kernelspec -k names (flagKernel), else the notebook's, else that of
// the kernelspec the kernel will be started from (name, or the server's
// default).
func kernelLanguage(ctx context.Context, c *nbserv.Client, nb *nbformat.Notebook, flagKernel, name string) (string, error) {
	if flagKernel == "" {
		if lang := nbexec.NotebookLanguage(nb); lang != "" {
			return lang, nil
		}
	}
	specs, err := c.KernelSpecs.List(ctx)
	if err != nil {
		return "", fmt.Errorf("finding the kernel's language: %w", err)
	}
	if name == "" {
		name = specs.Default
	}
	spec, ok := specs.KernelSpecs[name]
	if !ok || spec == nil {
		return "", fmt.Errorf("finding the kernel's language: the server has no kernelspec %q", name)
	}
	return spec.Language, nil
}

// summarize prints the summary of several notebooks and returns the exit
// status.
func summarize(results []nbexec.Result, jobs []job, several bool, con *console) int {
	code, ok := 0, 0
	var lines []string
	for i, r := range results {
		where := ""
		if several {
			where = "  (" + r.Source + ")"
		}
		var line string
		switch {
		case !r.Ran:
			line = fmt.Sprintf("  not run         %s", jobs[i].in)
			code = 1
		case r.Err != nil:
			first, _, _ := strings.Cut(describe(r.Err), "\n")
			line = fmt.Sprintf("  failed %8s  %s%s: %s", r.Elapsed.Round(time.Millisecond), jobs[i].in, where, first)
			code = 1
		default:
			line = fmt.Sprintf("  ok     %8s  %s%s", r.Elapsed.Round(time.Millisecond), jobs[i].out, where)
			ok++
		}
		lines = append(lines, shorten(line))
	}
	out := con.stdout()
	fmt.Fprintf(out, "Summary: %d of %d notebooks ran without error\n", ok, len(jobs))
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return code
}

// Console limits: a cell's outputs are shown in a few short lines; the
// notebook written holds them all.
const (
	maxLines     = 8
	maxLineRunes = 160
)

// printOutputs shows a cell's outputs on the console, shortened.
func printOutputs(out io.Writer, cell nbformat.Cell) {
	for _, o := range cell.Outputs {
		text := o.String()
		if o.OutputType == nbformat.OutputError {
			text = o.EName + ": " + o.EValue
		}
		for _, line := range strings.Split(shorten(text), "\n") {
			fmt.Fprintf(out, "  %s\n", line)
		}
	}
}

// shorten keeps the first maxLines lines of text, each cut at maxLineRunes
// runes, and says how many lines it left out.
func shorten(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	more := 0
	if len(lines) > maxLines {
		lines, more = lines[:maxLines], len(lines)-maxLines
	}
	for i, l := range lines {
		if r := []rune(l); len(r) > maxLineRunes {
			lines[i] = string(r[:maxLineRunes]) + "…"
		}
	}
	if more > 0 {
		lines = append(lines, fmt.Sprintf("… (%d more lines in the notebook)", more))
	}
	return strings.Join(lines, "\n")
}

// short abbreviates a UUID to its first group, as people read them.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

// store reads and writes notebooks: local files, or the server's contents.
type store interface {
	load(ctx context.Context, name string) (*nbformat.Notebook, error)
	save(ctx context.Context, name string, nb *nbformat.Notebook) error
}

type localFiles struct{}

func (localFiles) load(_ context.Context, name string) (*nbformat.Notebook, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("reading the local file %s (-server reads paths on the server): %w", name, err)
	}
	nb, err := nbformat.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return nb, nil
}

// save writes the notebook through a temporary file renamed into place, so
// that OUTPUT is always a whole notebook, even if the program is killed.
func (localFiles) save(_ context.Context, name string, nb *nbformat.Notebook) error {
	data, err := nb.MarshalJSON()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing to remove
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

type serverFiles struct{ c *nbserv.Client }

func (s serverFiles) load(ctx context.Context, name string) (*nbformat.Notebook, error) {
	nb, err := s.c.Contents.GetNotebook(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading %s on the server: %w", name, err)
	}
	return nb, nil
}

func (s serverFiles) save(ctx context.Context, name string, nb *nbformat.Notebook) error {
	if _, err := s.c.Contents.SaveNotebook(ctx, name, nb); err != nil {
		return fmt.Errorf("saving %s on the server: %w", name, err)
	}
	return nil
}

// runDemo runs the bundled demo.ipynb on the embedded reference server,
// whose kernel is scripted with what ipykernel answers to its cells, and
// writes the executed notebook to the server's in-memory contents.
func runDemo(ctx context.Context, stdout, stderr io.Writer, terminal bool) int {
	ref, err := nbservtest.Start()
	if err != nil {
		fmt.Fprintf(stderr, "run-notebook: %v\n", err)
		return 1
	}
	defer ref.Close()
	nb, err := nbformat.Parse(demo)
	if err != nil {
		fmt.Fprintf(stderr, "run-notebook: %v\n", err)
		return 1
	}
	ref.Script(nb.Cells[1].Source, nbservtest.Stdout("hello from the kernel\n"))
	ref.Script(nb.Cells[2].Source, nbservtest.Sleep(100*time.Millisecond), nbservtest.Stdout("slept\n"), nbservtest.ResultText("42"))
	ref.Script(nb.Cells[3].Source, nbservtest.ResultText("'done'"))
	if err := ref.WriteFile("demo.ipynb", demo); err != nil {
		fmt.Fprintf(stderr, "run-notebook: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Using the embedded reference server at %s and the bundled demo.ipynb\n", ref.URL)
	con := newConsole(stdout, stderr, terminal, false)
	defer con.close()
	j := job{in: "demo.ipynb", out: "demo-executed.ipynb"}
	sources := []nbexec.KernelSource{nbserv.KernelSource{Client: ref.Client}}
	return report(execute(ctx, ref.Client, sources, serverFiles{ref.Client}, []job{j}, options{onServer: true, jobs: 1}, con)[0].Err, con.stderr())
}
