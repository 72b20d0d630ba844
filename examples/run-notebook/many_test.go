package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// writeNotebookAt writes nb to dir/name and returns the file's name.
func writeNotebookAt(t *testing.T, dir, name string, nb *nbformat.Notebook) string {
	t.Helper()
	data, err := nb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestSeveralNotebooks runs three notebooks from two directories, two at
// a time, one failing: each is written to OUTDIR under its base name, the
// summary gives each outcome, the exit status is 1, no kernel is left.
func TestSeveralNotebooks(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	srv.Script("a", nbservtest.Stdout("from a\n"))
	srv.Script("b", nbservtest.Error("ValueError", "b is bad"))
	srv.Script("c", nbservtest.Stdout("from c\n"))
	quietRest(srv)
	dir := t.TempDir()
	a := writeNotebookAt(t, filepath.Join(dir, "one"), "a.ipynb", nbformat.New(staleCell("a")))
	b := writeNotebookAt(t, filepath.Join(dir, "one"), "b.ipynb", nbformat.New(staleCell("b"), staleCell("after b")))
	c := writeNotebookAt(t, filepath.Join(dir, "two"), "c.ipynb", nbformat.New(staleCell("c")))
	outDir := filepath.Join(dir, "out", "new") // created
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-j", "2", "-d", outDir, a, b, c)
	if code != 1 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	for name, want := range map[string][]string{"a.ipynb": {"stream:from a\n"}, "b.ipynb": {"error:ValueError: b is bad"}, "c.ipynb": {"stream:from c\n"}} {
		got := readNotebook(t, filepath.Join(outDir, name))
		if g := texts(got.Cells[0]); strings.Join(g, "|") != strings.Join(want, "|") {
			t.Errorf("%s: %q, want %q", name, g, want)
		}
	}
	if got := readNotebook(t, filepath.Join(outDir, "b.ipynb")); len(got.Cells[1].Outputs) != 0 || got.Cells[1].ExecutionCount != nil {
		t.Errorf("b's cell after the failure is not clean: %+v", got.Cells[1])
	}
	summary := out[strings.Index(out, "Summary:"):]
	for _, re := range []string{
		`Summary: 2 of 3 notebooks ran without error\n`,
		`\n  ok +\d+(\.\d+)?[mµn]?s  ` + regexp.QuoteMeta(filepath.Join(outDir, "a.ipynb")) + `\n`,
		`\n  failed +\d+(\.\d+)?[mµn]?s  ` + regexp.QuoteMeta(b) + `: cell 1 raised ValueError: b is bad\n`,
		`\n  ok +\d+(\.\d+)?[mµn]?s  ` + regexp.QuoteMeta(filepath.Join(outDir, "c.ipynb")) + `\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(summary) {
			t.Errorf("summary does not match %s:\n%s", re, summary)
		}
	}
	if !strings.Contains(errOut, "run-notebook: "+b+": cell 1 raised ValueError: b is bad") {
		t.Errorf("stderr: %s", errOut)
	}
	// Several at once: the cells' outputs stay off the console, every
	// line of progress names its notebook.
	if strings.Contains(out, "  from a") {
		t.Errorf("outputs on the console:\n%s", out)
	}
	if !strings.Contains(out, a+": cell 1 done, 1 of 1 (") {
		t.Errorf("no progress line for a:\n%s", out)
	}
	if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
		t.Errorf("kernels left: %v, %v", ks, err)
	}
}

// TestSeveralNotebooksOnTheServer runs notebooks stored on the server, the
// outputs written to a server directory, each kernel in its notebook's
// directory.
func TestSeveralNotebooksOnTheServer(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	quietRest(srv)
	data, _ := nbformat.New(nbformat.NewCodeCell("x")).MarshalJSON()
	for _, p := range []string{"team/a.ipynb", "other/b.ipynb"} {
		if err := srv.WriteFile(p, data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := srv.Client.Contents.Mkdir(context.Background(), "results"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-server", "-d", "/results", "/team/a.ipynb", "other/b.ipynb")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	for _, p := range []string{"results/a.ipynb", "results/b.ipynb"} {
		if nb, err := srv.Client.Contents.GetNotebook(context.Background(), p); err != nil || nb.Cells[0].ExecutionCount == nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestSeveralNotebooksUsageErrors(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	dir := t.TempDir()
	a1 := writeNotebookAt(t, filepath.Join(dir, "one"), "a.ipynb", nbformat.New())
	a2 := writeNotebookAt(t, filepath.Join(dir, "two"), "a.ipynb", nbformat.New())
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-d", filepath.Join(dir, "out"), a1, a2}, "would both be written to"},
		{[]string{"-d", filepath.Join(dir, "one"), a1}, "would overwrite it"},
		{[]string{"-d", filepath.Join(dir, "one", ".", "..", "one"), a1}, "would overwrite it"},
		{[]string{"-server", "-d", "one", "/one/a.ipynb"}, "would overwrite it"},
		{[]string{"-d", filepath.Join(dir, "out")}, "at least one INPUT"},
		{[]string{"-j", "2", a1, a1 + ".out"}, "give -d OUTDIR"},
		{[]string{"-j", "0", "-d", filepath.Join(dir, "out"), a1}, "-j must be at least 1"},
	} {
		args := append([]string{"-url", srv.URL, "-token", srv.Token}, tc.args...)
		if code, _, errOut := runProgram(t, args...); code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d: %s", tc.args, code, errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !os.IsNotExist(err) {
		t.Errorf("OUTDIR created on a usage error: %v", err)
	}
}

// statusLines returns the status lines drawn on a terminal: the text after
// each "\r\x1b[K".
func statusLines(stderr string) []string {
	var lines []string
	for _, part := range strings.Split(stderr, "\r\x1b[K")[1:] {
		if line, _, _ := strings.Cut(part, "\n"); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestStatusLineOnATerminal: with stderr a terminal, a status line says
// which cell of how many runs and for how long, in short lines, and is
// cleared at the end; with several notebooks it names each; without a
// terminal there is none.
func TestStatusLineOnATerminal(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	quietRest(srv)
	dir := t.TempDir()
	in := writeNotebookAt(t, dir, "report.ipynb", nbformat.New(nbformat.NewCodeCell("x"), nbformat.NewMarkdownCell("m"), nbformat.NewCodeCell("y")))
	long := writeNotebookAt(t, dir, strings.Repeat("long-name-", 12)+".ipynb", nbformat.New(nbformat.NewCodeCell("x")))
	runTerm := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := runOn(context.Background(), append([]string{"-url", srv.URL, "-token", srv.Token}, args...), &out, &errOut, true)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := runTerm(in, in+".out")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	lines := statusLines(errOut)
	if len(lines) < 2 || !regexp.MustCompile(`^cell 1 of 2, \d+s$`).MatchString(lines[0]) || !regexp.MustCompile(`^cell 2 of 2, \d+s$`).MatchString(lines[len(lines)-1]) {
		t.Errorf("status lines %q", lines)
	}
	if !strings.HasSuffix(errOut, "\r\x1b[K") {
		t.Errorf("the status line is not cleared at the end: %q", errOut)
	}
	if strings.ContainsAny(out, "\r\x1b") {
		t.Errorf("status on stdout: %q", out)
	}

	code, out, errOut = runTerm("-j", "2", "-d", filepath.Join(dir, "out"), in, long)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	lines = statusLines(errOut)
	if len(lines) == 0 {
		t.Error("no status line")
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > maxStatusRunes {
			t.Errorf("a status line of %d runes: %q", n, l)
		}
		if !strings.HasPrefix(l, "report.ipynb cell ") && !regexp.MustCompile(`^long-name-.{13}… cell 1 of 1, `).MatchString(l) {
			t.Errorf("a status line that names no notebook: %q", l)
		}
	}

	// Not a terminal: no status line.
	if code, _, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, in, in+".out2"); code != 0 || strings.Contains(errOut, "\x1b[K") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}
