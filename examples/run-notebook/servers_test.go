package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// serversFile writes a -servers file naming srvs with their tokens, with
// a comment and a blank line, and returns its name.
func serversFile(t *testing.T, srvs ...*nbservtest.Server) string {
	t.Helper()
	lines := []string{"# the servers to spread the notebooks over", ""}
	for _, srv := range srvs {
		lines = append(lines, fmt.Sprintf("%s   %s  # a comment", srv.URL, srv.Token))
	}
	name := filepath.Join(t.TempDir(), "servers")
	if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// startServers starts n reference servers, each scripted by script.
func startServers(t *testing.T, n int, script func(*nbservtest.Server)) []*nbservtest.Server {
	t.Helper()
	var srvs []*nbservtest.Server
	for range n {
		srv := nbservtest.NewServer(t)
		script(srv)
		srvs = append(srvs, srv)
	}
	return srvs
}

// noKernelsLeft fails t if a server has a kernel.
func noKernelsLeft(t *testing.T, srvs ...*nbservtest.Server) {
	t.Helper()
	for _, srv := range srvs {
		if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
			t.Errorf("%s: kernels left: %v, %v", srv.URL, ks, err)
		}
	}
}

// TestSeveralServers runs five notebooks, three at a time, over three
// servers named in a -servers file, each with its own token; the second
// server is down. Notebook i runs on server i mod 3: those of the server
// that is down fail with an error naming it, the others run and are
// written, the summary names each notebook's server, the exit status is 1
// and no kernel is left.
func TestSeveralServers(t *testing.T) {
	clearEnv(t)
	srvs := startServers(t, 3, quietRest)
	srvs[1].Close()
	file := serversFile(t, srvs...)
	dir := t.TempDir()
	var ins []string
	for i := range 5 {
		ins = append(ins, writeNotebookAt(t, dir, fmt.Sprintf("n%d.ipynb", i), nbformat.New(nbformat.NewCodeCell("x"))))
	}
	outDir := filepath.Join(dir, "out")
	code, out, errOut := runProgram(t, append([]string{"-servers", file, "-j", "3", "-d", outDir}, ins...)...)
	if code != 1 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	summary := out[strings.Index(out, "Summary:"):]
	if !strings.HasPrefix(summary, "Summary: 3 of 5 notebooks ran without error\n") {
		t.Errorf("summary:\n%s", summary)
	}
	for i, in := range ins {
		srv := srvs[i%3]
		out := filepath.Join(outDir, filepath.Base(in))
		var re string
		if i%3 == 1 {
			re = `\n  failed +\S+  ` + regexp.QuoteMeta(in+"  ("+srv.URL+"): starting a kernel on "+srv.URL)
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s written: %v", out, err)
			}
		} else {
			re = `\n  ok +\S+  ` + regexp.QuoteMeta(out+"  ("+srv.URL+")") + `\n`
			if nb := readNotebook(t, out); nb.Cells[0].ExecutionCount == nil {
				t.Errorf("%s: not run", out)
			}
		}
		if !regexp.MustCompile(re).MatchString(summary) {
			t.Errorf("summary does not match %s:\n%s", re, summary)
		}
	}
	if !regexp.MustCompile(`Running ` + regexp.QuoteMeta(ins[2]) + ` on kernel [0-9a-f]{8} at ` + regexp.QuoteMeta(srvs[2].URL) + `\n`).MatchString(out) {
		t.Errorf("no Running line naming the server:\n%s", out)
	}
	for _, srv := range srvs {
		if strings.Contains(out+errOut, srv.Token) {
			t.Errorf("a token printed:\n%s\n%s", out, errOut)
		}
	}
	noKernelsLeft(t, srvs[0], srvs[2])
}

// TestRepeatedURL: -url given twice spreads the notebooks over both
// servers, -token going to each.
func TestRepeatedURL(t *testing.T) {
	clearEnv(t)
	a := nbservtest.NewServer(t, nbservtest.WithToken("shared-token"))
	b := nbservtest.NewServer(t, nbservtest.WithToken("shared-token"))
	quietRest(a)
	quietRest(b)
	dir := t.TempDir()
	in1 := writeNotebookAt(t, dir, "one.ipynb", nbformat.New(nbformat.NewCodeCell("x")))
	in2 := writeNotebookAt(t, dir, "two.ipynb", nbformat.New(nbformat.NewCodeCell("x")))
	code, out, errOut := runProgram(t, "-url", a.URL, "-url", b.URL, "-token", "shared-token", "-j", "2", "-d", filepath.Join(dir, "out"), in1, in2)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	for _, want := range []string{"one.ipynb  (" + a.URL + ")", "two.ipynb  (" + b.URL + ")"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	noKernelsLeft(t, a, b)
}

func TestSeveralServersUsageErrors(t *testing.T) {
	clearEnv(t)
	a, b := nbservtest.NewServer(t), nbservtest.NewServer(t)
	dir := t.TempDir()
	in := writeNotebookAt(t, dir, "a.ipynb", nbformat.New())
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte(a.URL+" s3cret-tok extra\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A token on a line of its own, or before its URL, is where a URL is
	// read: the error must not quote it as a URL either.
	split := filepath.Join(dir, "split")
	if err := os.WriteFile(split, []byte(a.URL+"\ns3cret-tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	swapped := filepath.Join(dir, "swapped")
	if err := os.WriteFile(swapped, []byte("# comment\ns3cret-tok "+a.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("# none\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-url", a.URL, "-url", b.URL, in, in + ".out"}, "give -d OUTDIR"},
		{[]string{"-servers", serversFile(t, a, b), in, in + ".out"}, "give -d OUTDIR"},
		{[]string{"-url", a.URL, "-url", b.URL, "-server", "-d", "out", "a.ipynb"}, "-server reads and writes notebooks on one server"},
		{[]string{"-servers", bad, "-d", out, in}, bad + ":1: want URL [TOKEN]"},
		{[]string{"-servers", split, "-d", out, in}, split + ":2: the first field is not an http or https URL"},
		{[]string{"-servers", swapped, "-d", out, in}, swapped + ":2: the first field is not an http or https URL"},
		{[]string{"-servers", empty, "-d", out, in}, "names no server"},
		{[]string{"-servers", filepath.Join(dir, "missing"), "-d", out, in}, "-servers: "},
		{[]string{"-kernel-env", "KERNEL_USERNAME", "-url", a.URL, in, in + ".out"}, "want NAME=VALUE"},
	} {
		// An error names the file's line, never the token on it.
		if code, _, errOut := runProgram(t, tc.args...); code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "usage:") || strings.Contains(errOut, "s3cret-tok") {
			t.Errorf("%q: exit %d: %s", tc.args, code, errOut)
		}
	}
}

// TestSignalsDeleteEveryKernelOnEveryServer runs four notebooks over two
// servers, two at a time, as a process, and stops it with SIGTERM while
// one runs on each: both kernels are deleted, one on each server.
func TestSignalsDeleteEveryKernelOnEveryServer(t *testing.T) {
	clearEnv(t)
	srvs := startServers(t, 2, func(srv *nbservtest.Server) {
		srv.Script("quick", nbservtest.Stdout("quick\n"))
		srv.Script("forever", nbservtest.Sleep(time.Hour))
	})
	dir := t.TempDir()
	var ins []string
	for i := range 4 {
		ins = append(ins, writeNotebookAt(t, dir, fmt.Sprintf("n%d.ipynb", i), nbformat.New(nbformat.NewCodeCell("quick"), nbformat.NewCodeCell("forever"))))
	}
	// Generous: the program ends within the cleanup's bound, not the hour.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd, lines, stderr := startProgram(ctx, t, append([]string{"-servers", serversFile(t, srvs...), "-j", "2", "-d", filepath.Join(dir, "out")}, ins...)...)
	firstDone := 0
	for firstDone < 2 && lines.Scan() {
		if strings.Contains(lines.Text(), ": cell 1 done, 1 of 2 (") {
			firstDone++
		}
	}
	for _, srv := range srvs {
		if ks, err := srv.Client.Kernels.List(ctx); err != nil || len(ks) != 1 {
			t.Fatalf("%s: kernels while running: %v, %v (%s)", srv.URL, ks, err, stderr)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
	}
	var exit *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, %s", err, stderr.String())
	}
	noKernelsLeft(t, srvs...)
}

// TestStartTimeout: -start-timeout bounds each kernel's start, which a
// server slower than that fails, and leaves the cells alone.
func TestStartTimeout(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	quietRest(srv)
	srv.SetKernelStartDelay(3 * time.Second)
	dir := t.TempDir()
	in := writeNotebookAt(t, dir, "a.ipynb", nbformat.New(nbformat.NewCodeCell("x")))
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-start-timeout", "100ms", "-d", filepath.Join(dir, "out"), in)
	if code != 1 || !strings.Contains(out, in+": starting a kernel on "+srv.URL) {
		t.Errorf("exit %d: %s\n%s", code, out, errOut)
	}
	if code, _, errOut := runProgram(t, "-url", srv.URL, "-start-timeout", "-1s", in, in+".out"); code != 2 || !strings.Contains(errOut, "-start-timeout must not be negative") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}
