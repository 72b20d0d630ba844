package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// mainEnv makes the test binary run the program itself (main), so that a
// test can send it signals.
const mainEnv = "RUN_NOTEBOOK_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

// clearEnv unsets the variables nbserv.ConfigFromEnv reads, so that the
// test's environment decides.
func clearEnv(t *testing.T) {
	for _, v := range []string{"JUPYTER_URL", "JUPYTER_TOKEN", "JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_SERVICE_NAME", "JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"} {
		t.Setenv(v, "")
	}
}

// runProgram runs the program in-process and returns its exit status and
// output.
func runProgram(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeNotebook writes nb to a local file and returns its name.
func writeNotebook(t *testing.T, nb *nbformat.Notebook) string {
	t.Helper()
	data, err := nb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "in.ipynb")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// readNotebook reads a local notebook, checking that it is canonical
// nbformat (what nbformat's encoder writes, byte for byte).
func readNotebook(t *testing.T, name string) *nbformat.Notebook {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := nbformat.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := nb.MarshalJSON()
	if string(append(again, '\n')) != string(data) || bytes.Contains(data, []byte(`"trusted"`)) {
		t.Errorf("%s is not canonical nbformat:\n%s", name, data)
	}
	return nb
}

func staleCell(source string) nbformat.Cell {
	c := nbformat.NewCodeCell(source)
	n := 9
	c.ExecutionCount = &n
	c.Outputs = []nbformat.Output{{OutputType: nbformat.OutputStream, Name: "stdout", Text: "stale\n"}}
	return c
}

func texts(c nbformat.Cell) []string {
	var got []string
	for _, o := range c.Outputs {
		got = append(got, o.OutputType+":"+o.String())
	}
	return got
}

func TestUsageAndHelp(t *testing.T) {
	clearEnv(t)
	if code, out, _ := runProgram(t, "-h"); code != 0 || !strings.Contains(out, "usage: run-notebook") {
		t.Errorf("-h: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"-nope"}, {"one.ipynb"}, {"a", "b", "c"}, {"in.ipynb", "out.ipynb"}, {"-url", "http://127.0.0.1:1/", "-timeout", "-1s", "a", "b"}} {
		if code, _, errOut := runProgram(t, args...); code != 2 || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d, %q", args, code, errOut)
		}
	}
}

func TestDemo(t *testing.T) {
	clearEnv(t)
	code, out, errOut := runProgram(t)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	for _, want := range []string{"cell 2 done, 1 of 3", "  hello from the kernel", "  slept", "  42", "cell 4 done, 3 of 3", "  'done'"} {
		if !strings.Contains(out, want+"\n") && !strings.Contains(out, want+" (") {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// TestLocalFilesWithTheHubsVariables runs local files on a server named only
// by JupyterHub's variables, and checks what the output holds: stale outputs
// cleared, blank cells skipped, display updates across cells, the cell that
// failed, canonical nbformat with language_info; exit status 1.
func TestLocalFilesWithTheHubsVariables(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/alice/"))
	t.Setenv("JUPYTERHUB_SERVICE_URL", strings.TrimSuffix(srv.URL, "user/alice/"))
	t.Setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/alice/")
	t.Setenv("JUPYTERHUB_API_TOKEN", srv.Token)
	srv.Script("show", nbservtest.DisplayWithID("d", map[string]any{"text/plain": "'one'"}))
	srv.Script("update", nbservtest.UpdateDisplay("d", map[string]any{"text/plain": "'two'"}))
	srv.Script("fail", nbservtest.Error("ValueError", "bad input"))
	nb := nbformat.New(staleCell("show"), staleCell("  \n"), staleCell("update"), staleCell("fail"), staleCell("later"))
	in := writeNotebook(t, nb)
	outName := filepath.Join(filepath.Dir(in), "out.ipynb")
	code, out, errOut := runProgram(t, in, outName)
	if code != 1 || !strings.Contains(errOut, "cell 4 raised ValueError: bad input") {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	got := readNotebook(t, outName)
	var outs [][]string
	var counts []any
	for _, c := range got.Cells {
		outs = append(outs, texts(c))
		if c.ExecutionCount == nil {
			counts = append(counts, nil)
		} else {
			counts = append(counts, *c.ExecutionCount)
		}
	}
	want := [][]string{{"display_data:'two'"}, nil, nil, {"error:ValueError: bad input"}, nil}
	if diff := cmp.Diff(want, outs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]any{1, nil, 2, 3, nil}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if got.Metadata.LanguageInfo == nil || got.Metadata.LanguageInfo.Name == "" {
		t.Error("no language_info")
	}
	ks, err := srv.Client.Kernels.List(context.Background())
	if err != nil || len(ks) != 0 {
		t.Errorf("kernels left: %v, %v", ks, err)
	}
}

// TestLeavesAUsersSessionAlone runs a notebook someone has open: the
// program must run on a kernel of its own and leave theirs as it was.
func TestLeavesAUsersSessionAlone(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	ctx := context.Background()
	data, _ := nbformat.New(staleCell("work")).MarshalJSON()
	if err := srv.WriteFile("team/a.ipynb", data); err != nil {
		t.Fatal(err)
	}
	theirs, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "team/a.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		t.Fatal(err)
	}
	srv.Script("work", nbservtest.Stdout("worked\n"))
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-server", "team/a.ipynb", "team/out.ipynb")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	got, err := srv.Client.Contents.GetNotebook(ctx, "team/out.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if c := got.Cells[0]; c.ExecutionCount == nil || *c.ExecutionCount != 1 {
		t.Errorf("not a fresh kernel: count %v", c.ExecutionCount)
	}
	ss, err := srv.Client.Sessions.List(ctx)
	if err != nil || len(ss) != 1 || ss[0].ID != theirs.ID || ss[0].Kernel.ID != theirs.Kernel.ID {
		t.Errorf("sessions after the run: %+v, %v", ss, err)
	}
	ks, err := srv.Client.Kernels.List(ctx)
	if err != nil || len(ks) != 1 || ks[0].ID != theirs.Kernel.ID {
		t.Errorf("kernels after the run: %+v, %v", ks, err)
	}
}

// TestE2EOnAServerBesideAnOpenSession runs a notebook stored on a server while
// someone has it open: against real Jupyter when NBSERV_JUPYTER_URL and
// NBSERV_JUPYTER_TOKEN are set (scripts/with-jupyter.sh), else against the
// reference server, scripted with what ipykernel sends. The user's session
// and kernel must be left as they were: their kernel has run nothing. A -p
// parameter overrides the notebook's default.
func TestE2EOnAServerBesideAnOpenSession(t *testing.T) {
	clearEnv(t)
	base, token := os.Getenv("NBSERV_JUPYTER_URL"), os.Getenv("NBSERV_JUPYTER_TOKEN")
	if base == "" {
		srv := nbservtest.NewServer(t)
		srv.Script("greeting = \"default\"")
		srv.Script("# Parameters\ngreeting = \"from run-notebook\"\n")
		srv.Script("print(greeting)", nbservtest.Stdout("from run-notebook\n"))
		srv.Script("1", nbservtest.ResultText("1"))
		base, token = srv.URL, srv.Token
	}
	c, err := nbserv.NewClient(nbserv.Config{BaseURL: base, Token: nbserv.NewSecret(token)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections) // registered first, so run after the other cleanups
	ctx := context.Background()
	dir := fmt.Sprintf("run-notebook-%d", time.Now().UnixNano())
	if _, err := c.Contents.Mkdir(ctx, dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Contents.Delete(context.Background(), dir+"/out.ipynb")
		_ = c.Contents.Delete(context.Background(), dir+"/a.ipynb")
		_ = c.Contents.Delete(context.Background(), dir)
	})
	nb := nbformat.New(nbformat.NewCodeCell("greeting = \"default\""), nbformat.NewCodeCell("print(greeting)"))
	_ = nb.Cells[0].Metadata.Set("tags", []string{nbexec.TagParameters})
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
	if _, err := c.Contents.SaveNotebook(ctx, dir+"/a.ipynb", nb); err != nil {
		t.Fatal(err)
	}
	theirs, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: dir + "/a.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Sessions.Delete(context.Background(), theirs.ID) })
	code, out, errOut := runProgram(t, "-url", base, "-token", token, "-server", "-p", "greeting=from run-notebook", dir+"/a.ipynb", dir+"/out.ipynb")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	got, err := c.Contents.GetNotebook(ctx, dir+"/out.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Cells) != 3 || got.Cells[1].Source != "# Parameters\ngreeting = \"from run-notebook\"\n" {
		t.Fatalf("cells %+v", got.Cells)
	}
	if cell := got.Cells[2]; cell.ExecutionCount == nil || *cell.ExecutionCount != 3 || len(cell.Outputs) != 1 || cell.Outputs[0].Text != "from run-notebook\n" {
		t.Errorf("executed cell %+v", cell)
	}
	s, err := c.Sessions.Get(ctx, theirs.ID)
	if err != nil || s.Kernel == nil || s.Kernel.ID != theirs.Kernel.ID {
		t.Fatalf("their session after the run: %+v, %v", s, err)
	}
	conn, err := c.Kernels.Connect(ctx, theirs.Kernel.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if ex, err := conn.Execute(ctx, "1"); err != nil || ex.ExecutionCount != 1 {
		t.Errorf("their kernel ran something: its next count is %v (%v)", ex, err)
	}
	ks, err := c.Kernels.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ks {
		if k.ID != theirs.Kernel.ID && strings.Contains(out, short(k.ID)) {
			t.Errorf("the program's kernel %s is left", k.ID)
		}
	}
}

func TestIOPubLimitFailsTheRun(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	notice := "IOPub message rate exceeded.\nThe Jupyter server will temporarily stop sending output\nto the client in order to avoid crashing it.\n" +
		"To change this limit, set the config variable\n`--ServerApp.iopub_msg_rate_limit`.\n\nCurrent values:\nServerApp.iopub_msg_rate_limit=1000.0 (msgs/sec)\nServerApp.rate_limit_window=3.0 (secs)\n\n"
	srv.Script("flood", nbservtest.Message("stream", map[string]any{"name": "stderr", "text": notice}))
	in := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("flood")))
	code, _, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, in, in+".out")
	if code != 1 || !strings.Contains(errOut, "ServerApp.iopub_msg_rate_limit") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestTimeout(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	srv.Script("slow", nbservtest.Sleep(300*time.Millisecond), nbservtest.Stdout("slept\n"))
	srv.Script("forever", nbservtest.Sleep(time.Hour))
	in := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("slow")))
	// -timeout 0 is no limit, not an immediate interrupt.
	if code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-timeout", "0", in, in+".out"); code != 0 || !strings.Contains(out, "slept") {
		t.Errorf("-timeout 0: exit %d: %s\n%s", code, out, errOut)
	}
	in = writeNotebook(t, nbformat.New(nbformat.NewCodeCell("forever")))
	code, _, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-timeout", "200ms", in, in+".out")
	if code != 1 || !strings.Contains(errOut, nbexec.ErrCellTimeout.Error()) {
		t.Errorf("-timeout 200ms: exit %d: %s", code, errOut)
	}
}

func TestKernelspecOfTheNotebookOrTheFlag(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t, nbservtest.WithKernelSpecs("python3", "ir"))
	srv.Script("x", nbservtest.Stdout("x\n"))
	nb := nbformat.New(nbformat.NewCodeCell("x"))
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "ir", DisplayName: "R"}
	in := writeNotebook(t, nb)
	for want, args := range map[string][]string{"(ir)": nil, "(python3)": {"-k", "python3"}} {
		args = append(append([]string{"-url", srv.URL, "-token", srv.Token}, args...), in, in+".out")
		if code, out, errOut := runProgram(t, args...); code != 0 || !strings.Contains(strings.SplitN(out, "\n", 2)[0], want) {
			t.Errorf("%q: exit %d: %s\n%s", args, code, out, errOut)
		}
	}
}

// TestKernelWorkingDirectory checks the path the kernel is started in:
// INPUT's directory with -server, the server's root for local files, -cwd
// when given. A proxy in front of the reference server records what
// POST /api/kernels asks.
func TestKernelWorkingDirectory(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	srv.Script("x", nbservtest.Stdout("x\n"))
	target, _ := url.Parse(srv.URL)
	var mu sync.Mutex
	var paths []string
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/api/kernels" {
			body, _ := io.ReadAll(r.Body)
			var req struct {
				Path *string `json:"path"`
			}
			_ = json.Unmarshal(body, &req)
			mu.Lock()
			if req.Path == nil {
				paths = append(paths, "<none>")
			} else {
				paths = append(paths, *req.Path)
			}
			mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	data, _ := nbformat.New(nbformat.NewCodeCell("x")).MarshalJSON()
	if err := srv.WriteFile("team/a.ipynb", data); err != nil {
		t.Fatal(err)
	}
	local := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("x")))
	for _, args := range [][]string{
		{"-server", "team/a.ipynb", "team/out.ipynb"},
		{"-server", "-cwd", "data", "team/a.ipynb", "team/out.ipynb"},
		{local, local + ".out"},
		{"-cwd", "data", local, local + ".out"},
	} {
		if code, out, errOut := runProgram(t, append([]string{"-url", front.URL, "-token", srv.Token}, args...)...); code != 0 {
			t.Fatalf("%q: exit %d: %s\n%s", args, code, out, errOut)
		}
	}
	// A local notebook runs in the server's root, asked for as "/": no
	// path would be the server process's directory (docs/wire/nbexec.md NB1).
	if diff := cmp.Diff([]string{"team", "data", "/", "data"}, paths); diff != "" {
		t.Errorf("kernel paths (-want +got):\n%s", diff)
	}
}

// TestConsoleLinesAreShort prints a 20,000-line output and a 100,000-rune
// line: the console gets a few short lines, the notebook all of it.
func TestConsoleLinesAreShort(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	var long strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&long, "line %d\n", i)
	}
	srv.Script("many", nbservtest.Stdout(long.String()))
	srv.Script("wide", nbservtest.Stdout(strings.Repeat("é", 100000)+"\n"))
	in := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("many"), nbformat.NewCodeCell("wide")))
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, in, in+".out")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(out, "\n")
	if len(lines) > 2*(maxLines+2)+1 {
		t.Errorf("%d console lines", len(lines))
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > maxLineRunes+10 {
			t.Errorf("a console line of %d runes", n)
		}
	}
	if !strings.Contains(out, "(19992 more lines in the notebook)") {
		t.Errorf("no count of the lines left out:\n%s", out)
	}
	got := readNotebook(t, in+".out")
	if got.Cells[0].Outputs[0].Text != long.String() || len(got.Cells[1].Outputs[0].Text) != 2*100000+1 {
		t.Error("the notebook does not hold the whole outputs")
	}
}

func TestRefusedToken(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	in := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("x")))
	code, _, errOut := runProgram(t, "-url", srv.URL, "-token", "wrong", in, in+".out")
	if code != 1 || !strings.Contains(errOut, "refused the token") || strings.Contains(errOut, "Forbidden Forbidden") || strings.Contains(errOut, "wrong") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestMissingLocalInput(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	code, _, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "no-such.ipynb", "out.ipynb")
	if code != 1 || !strings.Contains(errOut, "local file no-such.ipynb") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestCancelledDuringKernelStart cancels the run while the server starts
// its kernel, which a real server completes even when the client gives up:
// the kernel must still be deleted.
func TestCancelledDuringKernelStart(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	srv.SetKernelStartDelay(time.Second)
	in := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("x")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The cancel comes while the start is under way (or, on a slow machine,
	// before it was sent: then no kernel starts; either way none is left).
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-url", srv.URL, "-token", srv.Token, in, in + ".out"}, &out, &errOut); code != 1 {
		t.Errorf("exit %d: %s\n%s", code, out.String(), errOut.String())
	}
	// A start that outlived the run would end before this one, begun
	// later with the same delay: then both would be listed.
	mine, err := srv.Client.Kernels.Start(context.Background(), nbserv.StartKernelRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 1 || ks[0].ID != mine.ID {
		t.Errorf("kernels left: %v, %v", ks, err)
	}
}

// startProgram runs the program as a process (the test binary, told by
// mainEnv to run main), for signals; ctx bounds it. It returns the
// process, its standard output by lines, and its standard error.
func startProgram(ctx context.Context, t *testing.T, args ...string) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, bufio.NewScanner(stdout), stderr
}

// TestSignalsDeleteTheKernel runs the program as a process and stops it
// with SIGTERM, SIGINT, SIGPIPE (what a closed pipe on its output sends)
// and SIGHUP (a closed terminal) mid-run: it must delete the kernel it
// started.
func TestSignalsDeleteTheKernel(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGPIPE, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			clearEnv(t)
			srv := nbservtest.NewServer(t)
			srv.Script("quick", nbservtest.Stdout("quick\n"))
			srv.Script("forever", nbservtest.Sleep(time.Hour))
			in := writeNotebook(t, nbformat.New(nbformat.NewCodeCell("quick"), nbformat.NewCodeCell("forever")))
			// Generous: the program ends within the cleanup's bound, not the hour.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd, lines, stderr := startProgram(ctx, t, "-url", srv.URL, "-token", srv.Token, in, in+".out")
			if !lines.Scan() || !strings.HasPrefix(lines.Text(), "Running ") {
				t.Fatalf("first line %q, %s", lines.Text(), stderr.String())
			}
			if !lines.Scan() || !strings.HasPrefix(lines.Text(), "cell 1 done, 1 of 2 (") {
				t.Fatalf("second line %q, %s", lines.Text(), stderr.String())
			}
			// Written after each cell: the first cell's outputs are in
			// OUTPUT while the second runs.
			if got := readNotebook(t, in+".out"); len(got.Cells[0].Outputs) != 1 || got.Cells[0].Outputs[0].Text != "quick\n" {
				t.Errorf("OUTPUT after cell 1: %+v", got.Cells[0])
			}
			if ks, err := srv.Client.Kernels.List(ctx); err != nil || len(ks) != 1 {
				t.Fatalf("kernels while running: %v, %v", ks, err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for lines.Scan() {
			}
			var exit *exec.ExitError
			if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, %s", err, stderr.String())
			}
			if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
				t.Errorf("kernels left after %v: %v, %v", sig, ks, err)
			}
		})
	}
}

// TestSignalsDeleteEveryKernel runs three notebooks two at a time as a
// process and stops it with SIGTERM and SIGINT while two run: both
// kernels must be deleted, the third notebook never started, and the
// summary printed.
func TestSignalsDeleteEveryKernel(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			clearEnv(t)
			srv := nbservtest.NewServer(t)
			srv.Script("quick", nbservtest.Stdout("quick\n"))
			srv.Script("forever", nbservtest.Sleep(time.Hour))
			dir := t.TempDir()
			var ins []string
			for _, name := range []string{"a.ipynb", "b.ipynb", "c.ipynb"} {
				ins = append(ins, writeNotebookAt(t, dir, name, nbformat.New(nbformat.NewCodeCell("quick"), nbformat.NewCodeCell("forever"))))
			}
			outDir := filepath.Join(dir, "out")
			// Generous: the program ends within the cleanup's bound, not the hour.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd, lines, stderr := startProgram(ctx, t, append([]string{"-url", srv.URL, "-token", srv.Token, "-j", "2", "-d", outDir}, ins...)...)
			// Both running notebooks are at their endless cell once each
			// has reported its first: two at once, never the third.
			firstDone := map[string]bool{}
			for len(firstDone) < 2 && lines.Scan() {
				for _, in := range ins {
					if strings.HasPrefix(lines.Text(), in+": cell 1 done, 1 of 2 (") {
						firstDone[in] = true
					}
				}
			}
			if !firstDone[ins[0]] || !firstDone[ins[1]] {
				t.Fatalf("first cells done: %v, %s", firstDone, stderr.String())
			}
			for _, in := range ins[:2] {
				if got := readNotebook(t, filepath.Join(outDir, filepath.Base(in))); len(got.Cells[0].Outputs) != 1 {
					t.Errorf("%s after cell 1: %+v", in, got.Cells[0])
				}
			}
			if ks, err := srv.Client.Kernels.List(ctx); err != nil || len(ks) != 2 {
				t.Fatalf("kernels while running: %v, %v", ks, err)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			var rest strings.Builder
			for lines.Scan() {
				rest.WriteString(lines.Text() + "\n")
			}
			var exit *exec.ExitError
			if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit: %v, %s", err, stderr.String())
			}
			if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
				t.Errorf("kernels left after %v: %v, %v", sig, ks, err)
			}
			for _, want := range []string{"Summary: 0 of 3 notebooks ran without error\n", "  not run         " + ins[2] + "\n"} {
				if !strings.Contains(rest.String(), want) {
					t.Errorf("no %q in:\n%s", want, rest.String())
				}
			}
			if _, err := os.Stat(filepath.Join(outDir, "c.ipynb")); !os.IsNotExist(err) {
				t.Errorf("c was started: %v", err)
			}
		})
	}
}
