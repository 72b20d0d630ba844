// Command nbsync copies notebooks between a local directory and a Jupyter
// Server, recursively, in either direction.
//
//	nbsync push [flags] LOCALDIR REMOTEDIR   # upload LOCALDIR's notebooks into REMOTEDIR
//	nbsync pull [flags] REMOTEDIR LOCALDIR   # download REMOTEDIR's notebooks into LOCALDIR
//
// Files are streamed: push uploads in chunks and pull downloads from
// /files, so memory stays small whatever the size of the files. Missing
// directories are created on either side; existing files are replaced.
// Hidden files and directories (names starting with ".", such as
// .ipynb_checkpoints) are skipped, as Jupyter hides them.
//
// Flags may come before the command, after it, or both:
//
//	-url, -token      the server (default: what nbserv.ConfigFromEnv reads)
//	-all              every file, not only notebooks (*.ipynb)
//	-clear-outputs    push: upload notebooks with their outputs and execution counts cleared
//	-chunk BYTES      push: the upload chunk size (default 4 MiB)
//
// -url and -token default to $JUPYTER_URL and $JUPYTER_TOKEN or, inside a
// JupyterHub single-user server, to the variables the hub set, so there
// it needs no flags at all. SIGINT or SIGTERM stops it between two
// requests or mid-transfer; a file being pulled is never left half written.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbformat"
)

const usage = `Usage: nbsync push [flags] LOCALDIR REMOTEDIR
       nbsync pull [flags] REMOTEDIR LOCALDIR

Copies notebooks between a local directory and a Jupyter Server,
recursively: push uploads LOCALDIR's notebooks into REMOTEDIR, pull
downloads REMOTEDIR's notebooks into LOCALDIR. Missing directories are
created on either side; existing files are replaced; hidden files and
directories are skipped. Flags may come before the command, after it, or
both.

-url and -token default to $JUPYTER_URL and $JUPYTER_TOKEN or, inside a
JupyterHub single-user server, to the server's own address and token from
the hub's variables (see nbserv.ConfigFromEnv). The environment's token
goes only to the environment's server: a -url of another host, port or scheme
needs -token.

Flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var u usageError
	if err != nil && !errors.Is(err, flag.ErrHelp) && !errors.As(err, &u) { // run has printed those
		fmt.Fprintln(os.Stderr, "nbsync:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode is 0 for success and for -h, 2 for a usage error, else 1.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &u):
		return 2
	}
	return 1
}

// usageError is a command line nbsync refuses; run has printed it with
// the usage.
type usageError struct{ error }

type options struct {
	all, clear bool
	chunk      int
	out        io.Writer
}

// run is the program. -h prints the usage to stdout and returns
// flag.ErrHelp; a bad command line prints its error and the usage, once,
// to stderr and returns a usageError; anything else is returned unprinted.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	env, envErr := nbserv.ConfigFromEnv()
	fs := flag.NewFlagSet("nbsync", flag.ContinueOnError)
	var help bytes.Buffer // the flag package's messages and usage, printed once below
	fs.SetOutput(&help)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage); fs.PrintDefaults() }
	baseURL := fs.String("url", env.BaseURL, "base `URL` of the Jupyter Server, prefix included")
	token := env.Token
	fs.Var((*secretFlag)(&token), "token", "API `TOKEN` of the Jupyter Server or JupyterHub")
	o := options{out: stdout}
	fs.BoolVar(&o.all, "all", false, "copy every file, not only notebooks (*.ipynb)")
	fs.BoolVar(&o.clear, "clear-outputs", false, "push: clear outputs and execution counts of the notebooks uploaded")
	fs.IntVar(&o.chunk, "chunk", nbserv.DefaultChunkSize, "push: upload chunk size in `BYTES`")
	// Flags may come before the command, after it, or both.
	err := fs.Parse(args)
	args = fs.Args()
	if err == nil && len(args) > 0 {
		cmd := args[0]
		err = fs.Parse(args[1:])
		args = append([]string{cmd}, fs.Args()...)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(help.Bytes())
		return err
	case err != nil:
		_, _ = stderr.Write(help.Bytes())
		return usageError{err}
	}
	refuse := func(err error) error {
		fmt.Fprintf(stderr, "nbsync: %v\n", err)
		fs.SetOutput(stderr)
		fs.Usage()
		return usageError{err}
	}
	switch {
	case len(args) != 3 || (args[0] != "push" && args[0] != "pull"):
		return refuse(errors.New("want push LOCALDIR REMOTEDIR or pull REMOTEDIR LOCALDIR"))
	case !isSet(fs, "url") && envErr != nil:
		return refuse(envErr) // a malformed variable the flag did not replace
	case *baseURL == "":
		return refuse(errors.New("no server: give -url or set JUPYTER_URL"))
	}
	cfg := env.Retarget(*baseURL) // the environment's token goes to the environment's server only
	if isSet(fs, "token") {
		cfg.Token = token
	}
	cfg.Timeout = nbserv.NoTimeout
	c, err := nbserv.NewClient(cfg)
	if err != nil {
		return refuse(err)
	}
	defer c.CloseIdleConnections()
	if args[0] == "push" {
		return push(ctx, c, args[1], args[2], o)
	}
	return pull(ctx, c, args[1], args[2], o)
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

// wanted reports whether a file of this name is copied.
func (o options) wanted(name string) bool {
	return !strings.HasPrefix(name, ".") && (o.all || strings.HasSuffix(name, ".ipynb"))
}

// mkdirAll creates a remote directory and its parents.
func mkdirAll(ctx context.Context, c *nbserv.Client, dir string) error {
	var p string
	for _, seg := range strings.Split(strings.Trim(dir, "/"), "/") {
		if seg == "" {
			continue
		}
		p = path.Join(p, seg)
		if _, err := c.Contents.Mkdir(ctx, p); err != nil {
			return fmt.Errorf("creating %s: %w", p, err)
		}
	}
	return nil
}

func push(ctx context.Context, c *nbserv.Client, local, remote string, o options) error {
	if err := mkdirAll(ctx, c, remote); err != nil {
		return err
	}
	var files, total int64
	err := filepath.WalkDir(local, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(local, p)
		if err != nil || rel == "." {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		dst := path.Join(remote, filepath.ToSlash(rel))
		if d.IsDir() {
			_, err := c.Contents.Mkdir(ctx, dst)
			return err
		}
		if !d.Type().IsRegular() || !o.wanted(d.Name()) {
			return nil
		}
		n, err := pushFile(ctx, c, p, dst, o)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		files++
		total += n
		fmt.Fprintf(o.out, "pushed %s (%d bytes)\n", dst, n)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%d file(s), %d bytes\n", files, total)
	return nil
}

func pushFile(ctx context.Context, c *nbserv.Client, src, dst string, o options) (int64, error) {
	if o.clear && strings.HasSuffix(src, ".ipynb") {
		data, err := os.ReadFile(src)
		if err != nil {
			return 0, err
		}
		nb, err := nbformat.Parse(data)
		if err != nil {
			return 0, err
		}
		for i := range nb.Cells {
			if nb.Cells[i].CellType == nbformat.CellCode {
				nb.Cells[i].Outputs = []nbformat.Output{}
				nb.Cells[i].ExecutionCount = nil
			}
		}
		m, err := c.Contents.SaveNotebook(ctx, dst, nb)
		if err != nil {
			return 0, err
		}
		if m.Message != "" {
			fmt.Fprintf(o.out, "warning: %s: %s\n", dst, firstLine(m.Message))
		}
		return sizeOf(m), nil
	}
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	m, err := c.Contents.Upload(ctx, dst, f, nbserv.TransferOptions{ChunkSize: o.chunk})
	if err != nil {
		return 0, err
	}
	return sizeOf(m), nil
}

func sizeOf(m *nbserv.Contents) int64 {
	if m.Size == nil {
		return 0
	}
	return *m.Size
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func pull(ctx context.Context, c *nbserv.Client, remote, local string, o options) error {
	var files, total int64
	var walk func(dir string) error
	walk = func(dir string) error {
		entries, err := c.Contents.List(ctx, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			rel := strings.TrimPrefix(strings.TrimPrefix(e.Path, strings.Trim(remote, "/")), "/")
			dst := filepath.Join(local, filepath.FromSlash(rel))
			if e.Type == nbserv.ContentsDirectory {
				if err := walk(e.Path); err != nil {
					return err
				}
				continue
			}
			if !o.wanted(e.Name) {
				continue
			}
			n, err := pullFile(ctx, c, e.Path, dst)
			if err != nil {
				return fmt.Errorf("%s: %w", e.Path, err)
			}
			files++
			total += n
			fmt.Fprintf(o.out, "pulled %s (%d bytes)\n", dst, n)
		}
		return nil
	}
	if err := walk(remote); err != nil {
		return err
	}
	fmt.Fprintf(o.out, "%d file(s), %d bytes\n", files, total)
	return nil
}

// pullFile downloads to a temporary file beside dst and renames it into
// place, so dst is never left half written.
func pullFile(ctx context.Context, c *nbserv.Client, src, dst string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".nbsync-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := c.Contents.Download(ctx, src, tmp, nbserv.TransferOptions{})
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(tmp.Name(), dst)
}
