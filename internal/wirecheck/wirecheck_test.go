package wirecheck

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cited writes a test's citations with "@/" for the records' directory, so
// that TestModuleCitations does not read them as this file's own.
func cited(s string) string { return strings.ReplaceAll(s, "@/", wireDir+"/") }

// TestModuleCitations is the check itself, over the whole module.
func TestModuleCitations(t *testing.T) {
	problems, err := check(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// The forms a citation takes in the sources: a list, a range, "and", a
// comment wrapped by gofmt, a whole record, and text that only looks like one.
func TestCitations(t *testing.T) {
	src := cited("// see @/kernels.md K7, K8; @/terminals.md T8.\n" +
		"\t// (@/server.md\n\t// SV16, SV17) and @/jupyterhub.md H1 and H7 have\n" +
		"// @/server.md SV5-SV7 and @/contents.md records it.\n" +
		"// @/server.md SV9-K2, @/server.md I think\n")
	want := []cite{
		{"kernels.md", []string{"K7", "K8"}},
		{"terminals.md", []string{"T8"}},
		{"server.md", []string{"SV16", "SV17"}},
		{"jupyterhub.md", []string{"H1", "H7"}},
		{"server.md", []string{"SV5", "SV6", "SV7"}},
		{"contents.md", nil},
		{"server.md", []string{"SV9-K2"}},
		{"server.md", nil},
	}
	if got := citations(src); !reflect.DeepEqual(got, want) {
		t.Errorf("citations:\n got %q\nwant %q", got, want)
	}
}

// A module whose sources cite a missing record and a missing id, and whose
// records define one id twice, gets one problem for each; a citation that
// resolves gets none.
func TestCheckReportsEachProblem(t *testing.T) {
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(wireDir+"/a.md", "## A1. Title\n\n| # | fact |\n|---|---|\n| A2 | x |\n| K1 | y |\n")
	write(wireDir+"/k.md", "| K1 | again |\n### K2. Section\n")
	write("x.go", cited("package x\n\n// @/a.md A1, A2; @/k.md K2 and @/a.md.\n"))
	write("y/y_test.go", cited("package y\n\n// @/gone.md A1, and @/a.md\n// A3.\n"))
	write("testdata/z.go", cited("// @/ignored.md Z1\n"))
	problems, err := check(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"K1 is defined twice: in a.md and in k.md",
		cited("y/y_test.go cites @/gone.md, which does not exist"),
		cited("y/y_test.go cites @/a.md A3, which that record does not define"),
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems:\n got %s\nwant %s", strings.Join(problems, "\n     "), strings.Join(want, "\n     "))
	}
}
