// Command run-notebook executes a notebook's code cells, in order, in a
// session on a Jupyter Server, and saves the outputs into the notebook
// there, so that CI can run notebooks remotely:
//
//	go run ./examples/run-notebook -url http://127.0.0.1:8888/ -token T analysis.ipynb
//
// The path is the notebook's path on the server (its contents API). Like
// a notebook front end, it stops at the first cell that raises, saves the
// outputs so far (the error included) and exits with status 1. -kernel
// picks the kernelspec (default: the notebook's own, else the server's
// default); -timeout bounds each cell, after which the kernel is
// interrupted; -o also writes the executed notebook to a local file.
//
// With no -url (and no $JUPYTER_URL) it starts the SDK's embedded reference
// server, whose reference kernel runs a few Python forms, and runs the
// bundled demo.ipynb there: the reference server has no contents API (yet),
// so the result is printed, and written with -o, rather than saved on it.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/kernel"
	"github.com/nbserv/go-nbserv/nbservtest"
)

//go:embed demo.ipynb
var demo []byte

// errCellFailed makes the exit status 1 after the notebook was saved.
var errCellFailed = errors.New("a cell raised an exception")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "run-notebook:", err)
		os.Exit(1)
	}
}

type options struct {
	server  serverFlags
	kernel  string
	timeout time.Duration
	out     string
	path    string
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("run-notebook", flag.ContinueOnError)
	o.server.Register(fs, getenv)
	fs.StringVar(&o.kernel, "kernel", "", "kernelspec to run the notebook in (default: the notebook's, else the server's default)")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Minute, "longest a cell may run before the kernel is interrupted")
	fs.StringVar(&o.out, "o", "", "also write the executed notebook to this local file")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: run-notebook [-url URL -token TOKEN] [-kernel NAME] [-timeout D] [-o FILE] path.ipynb")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}

	var c *nbserv.Client
	var store notebookStore
	if o.server.URL == "" {
		if fs.NArg() > 0 {
			return errors.New("a notebook path needs a server: give -url (or set JUPYTER_URL)")
		}
		ref, err := nbservtest.Start()
		if err != nil {
			return err
		}
		defer ref.Close()
		c, o.path = ref.Client, "demo.ipynb"
		store = bundled{}
		fmt.Fprintf(out, "Using the embedded reference server at %s and the bundled demo.ipynb\n", ref.URL)
	} else {
		if fs.NArg() != 1 {
			fs.Usage()
			return errors.New("want one notebook path")
		}
		var err error
		if c, err = o.server.Client(); err != nil {
			return err
		}
		defer c.CloseIdleConnections()
		o.path = strings.TrimPrefix(fs.Arg(0), "/")
		store = &contents{base: c.BaseURL(), token: o.server.Token, http: &http.Client{Timeout: time.Minute}}
	}

	nb, err := store.load(ctx, o.path)
	if err != nil {
		return err
	}
	runErr := execute(ctx, c, nb, o, out)
	if runErr != nil && !errors.Is(runErr, errCellFailed) {
		return runErr
	}
	// Save what ran, the failing cell included, so CI shows where and why.
	if err := store.save(context.WithoutCancel(ctx), o.path, nb); err != nil {
		return err
	}
	if o.out != "" {
		if err := os.WriteFile(o.out, nb.encode(), 0o644); err != nil {
			return err
		}
	}
	return runErr
}

// execute runs nb's code cells in a new session for o.path and records
// their outputs in nb; the session and its kernel are deleted at the end.
func execute(ctx context.Context, c *nbserv.Client, nb *notebook, o options, out io.Writer) error {
	spec := o.kernel
	if spec == "" {
		spec = nb.kernelName()
	}
	req := nbserv.CreateSessionRequest{Path: o.path, Type: nbserv.SessionNotebook, Name: "run-notebook"}
	if spec != "" {
		req.Kernel = &nbserv.KernelRequest{Name: spec}
	}
	s, err := c.Sessions.Create(ctx, req)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	defer func() { _ = c.Sessions.Delete(context.WithoutCancel(ctx), s.ID) }()
	conn, err := c.Sessions.Connect(ctx, s.ID)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	fmt.Fprintf(out, "Running %s on kernel %s (%s)\n", o.path, short(s.Kernel.ID), s.Kernel.Name)

	for i, cell := range nb.codeCells() {
		ex, err := runCell(ctx, conn, cell.source(), o.timeout)
		if ex != nil {
			cell.record(ex)
		}
		var kerr *kernel.Error
		switch {
		case errors.As(err, &kerr):
			fmt.Fprintf(out, "[%d] %s: %s\n", ex.ExecutionCount, kerr.Ename, kerr.Evalue)
			fmt.Fprintln(out, kerr.PlainTraceback())
			return fmt.Errorf("cell %d: %w: %s: %s", i+1, errCellFailed, kerr.Ename, kerr.Evalue)
		case err != nil:
			return fmt.Errorf("cell %d: %w", i+1, err)
		}
		fmt.Fprintf(out, "[%d] ok%s\n", ex.ExecutionCount, summary(ex))
	}
	return nil
}

// runCell executes one cell; past timeout it interrupts the kernel and
// collects what the interrupted cell sends, waiting a little longer for a
// kernel that ignores interrupts.
func runCell(ctx context.Context, conn *kernel.Conn, code string, timeout time.Duration) (*kernel.Execution, error) {
	var interrupted atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		interrupted.Store(true)
		_ = conn.Interrupt(context.WithoutCancel(ctx))
	})
	defer timer.Stop()
	waitCtx, cancel := context.WithTimeout(ctx, timeout+30*time.Second)
	defer cancel()
	ex, err := conn.Execute(waitCtx, code)
	var kerr *kernel.Error
	if interrupted.Load() && errors.As(err, &kerr) {
		kerr.Evalue = strings.TrimSpace(kerr.Evalue + fmt.Sprintf(" (interrupted after %v)", timeout))
	}
	return ex, err
}

// summary renders an execution's outputs on one line.
func summary(ex *kernel.Execution) string {
	var parts []string
	for _, o := range ex.Displayed() {
		switch v := o.(type) {
		case *kernel.Stream:
			parts = append(parts, fmt.Sprintf("%s %q", v.Name, v.Text))
		case *kernel.ExecuteResult:
			txt, _ := v.Data.Text("text/plain")
			parts = append(parts, "Out: "+txt)
		case *kernel.DisplayData:
			parts = append(parts, "display")
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ": " + strings.Join(parts, ", ")
}

// notebook is a notebook file as JSON, kept whole so that what the program
// does not touch (metadata, other cells, unknown keys) is saved as found.
type notebook struct {
	doc map[string]any
}

func parseNotebook(b []byte) (*notebook, error) {
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("not a notebook: %w", err)
	}
	if _, ok := doc["cells"].([]any); !ok {
		return nil, errors.New("not a notebook: no cells")
	}
	return &notebook{doc}, nil
}

func (nb *notebook) encode() []byte {
	b, _ := json.MarshalIndent(nb.doc, "", " ")
	return append(b, '\n')
}

func (nb *notebook) kernelName() string {
	md, _ := nb.doc["metadata"].(map[string]any)
	ks, _ := md["kernelspec"].(map[string]any)
	name, _ := ks["name"].(string)
	return name
}

type cell map[string]any

func (nb *notebook) codeCells() []cell {
	var out []cell
	for _, c := range nb.doc["cells"].([]any) {
		if m, ok := c.(map[string]any); ok && m["cell_type"] == "code" {
			out = append(out, cell(m))
		}
	}
	return out
}

// source joins a cell's source, a string or a list of lines.
func (c cell) source() string {
	switch s := c["source"].(type) {
	case string:
		return s
	case []any:
		var b strings.Builder
		for _, line := range s {
			if l, ok := line.(string); ok {
				b.WriteString(l)
			}
		}
		return b.String()
	}
	return ""
}

// record sets the cell's outputs and execution count as a notebook front
// end would save them (nbformat 4).
func (c cell) record(ex *kernel.Execution) {
	outputs := []any{}
	for _, o := range ex.Displayed() {
		switch v := o.(type) {
		case *kernel.Stream:
			outputs = append(outputs, map[string]any{"output_type": "stream", "name": v.Name, "text": v.Text})
		case *kernel.DisplayData:
			outputs = append(outputs, map[string]any{"output_type": "display_data", "data": v.Data, "metadata": orEmpty(v.Metadata)})
		case *kernel.ExecuteResult:
			outputs = append(outputs, map[string]any{"output_type": "execute_result", "data": v.Data,
				"metadata": orEmpty(v.Metadata), "execution_count": v.ExecutionCount})
		case *kernel.Error:
			outputs = append(outputs, map[string]any{"output_type": "error", "ename": v.Ename, "evalue": v.Evalue, "traceback": v.Traceback})
		}
	}
	c["outputs"] = outputs
	if ex.ExecutionCount > 0 {
		c["execution_count"] = ex.ExecutionCount
	} else {
		c["execution_count"] = nil
	}
}

func orEmpty(m map[string]json.RawMessage) any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// notebookStore loads and saves the notebook being run.
type notebookStore interface {
	load(ctx context.Context, path string) (*notebook, error)
	save(ctx context.Context, path string, nb *notebook) error
}

// bundled is demo.ipynb, for the embedded mode.
type bundled struct{}

func (bundled) load(context.Context, string) (*notebook, error) { return parseNotebook(demo) }
func (bundled) save(context.Context, string, *notebook) error   { return nil }

// contents loads and saves through the server's contents API
// (GET and PUT /api/contents/{path}). It is written here against the plain
// REST calls because the SDK has no Contents service yet.
type contents struct {
	base, token string
	http        *http.Client
}

// maxNotebook bounds what is read of the server's answers.
const maxNotebook = 256 << 20

func (s *contents) do(ctx context.Context, method, path string, query url.Values, body []byte) ([]byte, error) {
	u := s.base + "api/contents/" + escapePath(path)
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "token "+s.token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxNotebook+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxNotebook {
		return nil, fmt.Errorf("%s %s: answer larger than %d bytes", method, path, maxNotebook)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(b, &e)
		return nil, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, e.Message)
	}
	return b, nil
}

func (s *contents) load(ctx context.Context, path string) (*notebook, error) {
	b, err := s.do(ctx, "GET", path, url.Values{"type": {"notebook"}, "content": {"1"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	var model struct {
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return parseNotebook(model.Content)
}

func (s *contents) save(ctx context.Context, path string, nb *notebook) error {
	body, err := json.Marshal(map[string]any{"type": "notebook", "format": "json", "content": nb.doc})
	if err != nil {
		return err
	}
	if _, err := s.do(ctx, "PUT", path, nil, body); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// escapePath escapes each segment of a contents path.
func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// serverFlags are the -url and -token flags, defaulting to $JUPYTER_URL
// and $JUPYTER_TOKEN (read through getenv, so tests pass their own).
type serverFlags struct{ URL, Token string }

func (f *serverFlags) Register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.URL, "url", getenv("JUPYTER_URL"), "Jupyter Server base URL, prefix included (default $JUPYTER_URL)")
	fs.StringVar(&f.Token, "token", getenv("JUPYTER_TOKEN"), "Jupyter Server token (default $JUPYTER_TOKEN)")
}

// Client returns a client for the server the flags name.
func (f *serverFlags) Client() (*nbserv.Client, error) {
	return nbserv.NewClient(nbserv.Config{BaseURL: f.URL, Token: nbserv.Secret(f.Token)})
}

// short abbreviates a UUID to its first group, as people read them.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
