// Command run-notebook executes a notebook on a Jupyter Server and writes
// the executed notebook, as `jupyter nbconvert --execute` and papermill do,
// but with the kernel on the server:
//
//	run-notebook [-url U -token T] [-k KERNEL] [-allow-errors] [-timeout D] [-server] [-cwd DIR] INPUT.ipynb OUTPUT.ipynb
//
// INPUT and OUTPUT are local files, or with -server paths on the server
// (its contents API). The program starts a kernel of its own (never a
// session, which could be a user's: Jupyter returns the existing session of
// a path someone has open), in the directory -cwd on the server (default:
// the server's root, or INPUT's directory with -server), runs the cells with
// package nbexec, and writes OUTPUT, as canonical nbformat, after every
// cell, so an interrupted run leaves what ran. It deletes the kernel it
// started at the end, on success, error, SIGINT and SIGTERM alike, and
// nothing else.
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

const usage = `usage: run-notebook [-url U -token T] [-k KERNEL] [-allow-errors] [-timeout D] [-server] [-cwd DIR] INPUT.ipynb OUTPUT.ipynb
       run-notebook    (the bundled demo on the embedded reference server)

Flags:
`

// cleanupTimeout bounds deleting the kernel at the end, which runs even
// after a signal cancelled everything else.
const cleanupTimeout = 30 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	url, token  string
	kernelName  string
	allowErrors bool
	timeout     time.Duration
	onServer    bool
	cwd         string
	in, out     string
}

// run is the program: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env, envErr := nbserv.ConfigFromEnv()
	var o options
	fs := flag.NewFlagSet("run-notebook", flag.ContinueOnError)
	var help bytes.Buffer // the flag package's messages and usage, printed once below
	fs.SetOutput(&help)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	fs.StringVar(&o.url, "url", env.BaseURL, "base `URL` of the Jupyter Server, prefix included (default: from the environment)")
	fs.StringVar(&o.token, "token", "", "API `TOKEN` of the server (default: from the environment)")
	fs.StringVar(&o.kernelName, "k", "", "`KERNEL`spec to run (default: the notebook's, else the server's default)")
	fs.BoolVar(&o.allowErrors, "allow-errors", false, "run every cell whatever exceptions they raise")
	fs.DurationVar(&o.timeout, "timeout", 0, "longest a cell may run before the kernel is interrupted; 0 means no limit")
	fs.BoolVar(&o.onServer, "server", false, "INPUT and OUTPUT are paths on the server, not local files")
	fs.StringVar(&o.cwd, "cwd", "", "the kernel's working `DIR`ectory on the server (default: its root, or INPUT's directory with -server)")
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
	cfg := env.Retarget(o.url) // the environment's token goes to the environment's server only
	if isSet(fs, "token") {
		cfg.Token = nbserv.Secret(o.token)
	}
	switch {
	case fs.NArg() == 0:
		return runDemo(ctx, stdout, stderr)
	case fs.NArg() != 2:
		return usageError(errors.New("want INPUT.ipynb and OUTPUT.ipynb"))
	case o.url == "" && envErr != nil:
		return usageError(envErr)
	case o.url == "":
		return usageError(errors.New("no server: give -url, or set JUPYTER_URL (inside JupyterHub, the hub's variables name it)"))
	case o.timeout < 0:
		return usageError(errors.New("-timeout must not be negative"))
	}
	o.in, o.out = fs.Arg(0), fs.Arg(1)
	c, err := nbserv.NewClient(cfg)
	if err != nil {
		return usageError(err)
	}
	defer c.CloseIdleConnections()
	st := store(localFiles{})
	if o.onServer {
		st = serverFiles{c}
		o.in, o.out = strings.TrimPrefix(o.in, "/"), strings.TrimPrefix(o.out, "/")
		if !isSet(fs, "cwd") {
			if o.cwd = path.Dir(o.in); o.cwd == "." {
				o.cwd = ""
			}
		}
	}
	return report(execute(ctx, c, st, o, stdout), stderr)
}

// isSet reports whether the flag name was given.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// report prints err for people and returns the exit status.
func report(err error, stderr io.Writer) int {
	var kerr *kernel.Error
	var limit *nbexec.IOPubLimitError
	var ce *nbexec.CellError
	atCell := errors.As(err, &ce)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, nbserv.ErrUnauthorized):
		fmt.Fprintf(stderr, "run-notebook: the server refused the token (give -token, or set JUPYTER_TOKEN): %v\n", err)
	case atCell && errors.As(err, &limit):
		fmt.Fprintf(stderr, "run-notebook: cell %d: outputs were lost: %v\n", ce.Index+1, limit)
	case atCell && errors.As(err, &kerr):
		fmt.Fprintf(stderr, "run-notebook: cell %d raised %s: %s\n%s\n", ce.Index+1, kerr.Ename, kerr.Evalue, shorten(kerr.PlainTraceback()))
	case atCell:
		fmt.Fprintf(stderr, "run-notebook: cell %d: %v\n", ce.Index+1, ce.Err)
	default:
		fmt.Fprintf(stderr, "run-notebook: %v\n", err)
	}
	return 1
}

// execute runs the notebook o.in on a kernel of its own and writes o.out
// after each cell and at the end.
func execute(ctx context.Context, c *nbserv.Client, st store, o options, out io.Writer) (err error) {
	nb, err := st.load(ctx, o.in)
	if err != nil {
		return err
	}
	name := o.kernelName
	if name == "" && nb.Metadata.Kernelspec != nil {
		name = nb.Metadata.Kernelspec.Name
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Not cut short by a signal: a start the server goes on with would
	// leave a kernel nobody deletes. The client's timeout bounds it.
	k, err := c.Kernels.Start(context.WithoutCancel(ctx), nbserv.StartKernelRequest{Name: name, Path: o.cwd})
	if err != nil {
		return fmt.Errorf("starting a kernel: %w", err)
	}
	defer func() {
		// Bounded, and not cut short by the signal that ended the run.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if derr := c.Kernels.Delete(cctx, k.ID); derr != nil && !errors.Is(derr, nbserv.ErrNotFound) {
			err = errors.Join(err, fmt.Errorf("deleting kernel %s: %w", k.ID, derr))
		}
	}()
	if err := ctx.Err(); err != nil {
		return err // the deferred delete removes the kernel
	}
	conn, err := c.Kernels.Connect(ctx, k.ID)
	if err != nil {
		return fmt.Errorf("connecting to kernel %s: %w", k.ID, err)
	}
	defer conn.Close()
	fmt.Fprintf(out, "Running %s on kernel %s (%s)\n", o.in, short(k.ID), k.Name)
	runErr := nbexec.Run(ctx, conn, nb, nbexec.Options{
		AllowErrors: o.allowErrors,
		CellTimeout: o.timeout,
		OnCell: func(ctx context.Context, p nbexec.Progress) error {
			if err := st.save(ctx, o.out, p.Notebook); err != nil {
				return err
			}
			// Cells are numbered as in the notebook (and the errors), markdown
			// included; the count is of the cells to run.
			fmt.Fprintf(out, "cell %d done, %d of %d (%s)\n", p.Index+1, p.Done, p.Total, p.Elapsed.Round(time.Millisecond))
			printOutputs(out, p.Notebook.Cells[p.Index])
			return nil
		},
	})
	if runErr != nil {
		var ce *nbexec.CellError
		if errors.As(runErr, &ce) {
			printOutputs(out, nb.Cells[ce.Index])
		}
	}
	// What ran, the cell that stopped the run included, even after a signal.
	if serr := st.save(context.WithoutCancel(ctx), o.out, nb); serr != nil {
		return errors.Join(runErr, serr)
	}
	return runErr
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
func runDemo(ctx context.Context, stdout, stderr io.Writer) int {
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
	o := options{onServer: true, in: "demo.ipynb", out: "demo-executed.ipynb"}
	return report(execute(ctx, ref.Client, serverFiles{ref.Client}, o, stdout), stderr)
}
