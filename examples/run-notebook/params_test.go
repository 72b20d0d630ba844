package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// taggedCell is a code cell with tags.
func taggedCell(source string, tags ...string) nbformat.Cell {
	c := nbformat.NewCodeCell(source)
	_ = c.Metadata.Set("tags", tags)
	return c
}

// quietRest makes every code no script names do nothing, so that no
// test depends on the reference kernel's own language.
func quietRest(srv *nbservtest.Server) {
	srv.ScriptFunc(func(string) ([]nbservtest.Step, bool) { return nil, true })
}

// pythonNotebook is a notebook whose kernelspec names Python.
func pythonNotebook(cells ...nbformat.Cell) *nbformat.Notebook {
	nb := nbformat.New(cells...)
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
	return nb
}

// papermillParameters returns a notebook's metadata.papermill.parameters,
// its keys and values, spaces removed.
func papermillParameters(t *testing.T, nb *nbformat.Notebook) string {
	t.Helper()
	var pm struct {
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(nb.Metadata.Extra["papermill"], &pm); err != nil {
		t.Fatalf("metadata.papermill: %v", err)
	}
	return strings.Join(strings.Fields(string(pm.Parameters)), "")
}

// TestParameters runs a notebook with -p and -r: the kernel runs the
// injected cell after the parameters cell, with -p values typed as
// papermill types them and -r values as strings, -p before -r, a name
// given twice in its first place with its last value.
func TestParameters(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	injected := "# Parameters\nn = 5\nf = 1e+16\nok = True\nnothing = None\nword = \"it's \\\"ok\\\"\"\nraw = \"42\"\n"
	srv.Script(injected, nbservtest.Stdout("injected ran\n"))
	srv.Script("print(n)", nbservtest.Stdout("5\n"))
	quietRest(srv)
	in := writeNotebook(t, pythonNotebook(taggedCell("n = 1", "parameters"), nbformat.NewCodeCell("print(n)")))
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token,
		"-p", "n=1", "-r", "raw=42", "-p", "f=1e16", "-p", "ok=True", "-p", "nothing=None", "-p", `word=it's "ok"`, "-p", "n=5", in, in+".out")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	got := readNotebook(t, in+".out")
	if diff := cmp.Diff([]string{"n = 1", injected, "print(n)"}, []string{got.Cells[0].Source, got.Cells[1].Source, got.Cells[2].Source}); diff != "" {
		t.Errorf("cells (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{nil, {"stream:injected ran\n"}, {"stream:5\n"}}, [][]string{texts(got.Cells[0]), texts(got.Cells[1]), texts(got.Cells[2])}); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if p := papermillParameters(t, got); p != `{"n":5,"f":1e+16,"ok":true,"nothing":null,"word":"it's\"ok\"","raw":"42"}` {
		t.Errorf("metadata.papermill.parameters %s", p)
	}
	if strings.Contains(errOut, "warning") {
		t.Errorf("a warning: %s", errOut)
	}
}

// TestParametersWithoutAParametersCell: the injected cell goes first and
// the program warns.
func TestParametersWithoutAParametersCell(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	quietRest(srv)
	in := writeNotebook(t, pythonNotebook(nbformat.NewCodeCell("x")))
	code, out, errOut := runProgram(t, "-url", srv.URL, "-token", srv.Token, "-p", "a=b", in, in+".out")
	if code != 0 || !strings.Contains(errOut, "warning: "+in+" has no cell tagged \"parameters\"; the parameters went first") {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	if got := readNotebook(t, in+".out"); got.Cells[0].Source != "# Parameters\na = \"b\"\n" || got.Cells[1].Source != "x" {
		t.Errorf("cells %q, %q", got.Cells[0].Source, got.Cells[1].Source)
	}
}

func TestParameterUsageErrors(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t)
	in := writeNotebook(t, pythonNotebook(nbformat.NewCodeCell("x")))
	for _, p := range [][]string{{"-p", "novalue"}, {"-r", "novalue"}, {"-p", "1x=3"}, {"-p", "a b=3"}, {"-r", "class=3"}, {"-p", "=3"}} {
		args := append(append([]string{"-url", srv.URL, "-token", srv.Token}, p...), in, in+".out")
		if code, _, errOut := runProgram(t, args...); code != 2 || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d: %s", p, code, errOut)
		}
	}
	if code, _, errOut := runProgram(t, "-p", "a=1"); code != 2 || !strings.Contains(errOut, "parameters want an INPUT") {
		t.Errorf("-p without INPUT: exit %d: %s", code, errOut)
	}
	if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
		t.Errorf("kernels started: %v, %v", ks, err)
	}
}

// TestParametersNeedAPythonKernel: the language comes from -k's
// kernelspec, else the notebook, else the server's default kernelspec; a
// language other than Python fails the run (exit 1) before any kernel
// starts. A proxy answers /api/kernelspecs, so that the kernelspecs'
// languages are the test's, whatever the reference server's kernel is.
func TestParametersNeedAPythonKernel(t *testing.T) {
	clearEnv(t)
	srv := nbservtest.NewServer(t, nbservtest.WithKernelSpecs("python3", "ir"))
	srv.Script("x", nbservtest.Stdout("x\n"))
	srv.Script("# Parameters\na = 1\n", nbservtest.Stdout("a\n"))
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/kernelspecs" {
			spec := func(name, lang string) map[string]any {
				return map[string]any{"name": name, "resources": map[string]any{}, "spec": map[string]any{"argv": []string{"k"}, "display_name": name, "language": lang}}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"default": "python3", "kernelspecs": map[string]any{"python3": spec("python3", "python"), "ir": spec("ir", "R")}})
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	r := nbformat.New(nbformat.NewCodeCell("x"))
	r.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "ir", DisplayName: "R", Language: "R"}
	unnamed := nbformat.New(nbformat.NewCodeCell("x")) // no kernelspec, no language_info
	for _, tc := range []struct {
		name string
		nb   *nbformat.Notebook
		k    []string
		want string // "" for success, else the language in the error
	}{
		{"the notebook's R", r, nil, `"R"`},
		{"-k python3 over the notebook's R", r, []string{"-k", "python3"}, ""},
		{"-k ir over the notebook's Python", pythonNotebook(nbformat.NewCodeCell("x")), []string{"-k", "ir"}, `"R"`},
		{"the server's default", unnamed, nil, ""},
		{"the server's ir", unnamed, []string{"-k", "ir"}, `"R"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := writeNotebook(t, tc.nb)
			args := append(append([]string{"-url", front.URL, "-token", srv.Token, "-p", "a=1"}, tc.k...), in, in+".out")
			code, out, errOut := runProgram(t, args...)
			if tc.want == "" {
				if code != 0 {
					t.Errorf("exit %d: %s\n%s", code, out, errOut)
				}
				return
			}
			if code != 1 || !strings.Contains(errOut, "cannot set parameters") || !strings.Contains(errOut, "language is "+tc.want) {
				t.Errorf("exit %d: %s\n%s", code, out, errOut)
			}
			if ks, err := srv.Client.Kernels.List(context.Background()); err != nil || len(ks) != 0 {
				t.Errorf("kernels started: %v, %v", ks, err)
			}
		})
	}
}

// TestParameterTypingIsNbexecs checks that -p uses ParseValue and -r does
// not, on values whose types differ.
func TestParameterTypingIsNbexecs(t *testing.T) {
	for _, v := range []string{"1_000", "-0.5", "nan", "None", "0x10", ""} {
		var typed, raw []nbexec.Parameter
		if err := paramFlag(&typed, true)("v=" + v); err != nil {
			t.Fatal(err)
		}
		if err := paramFlag(&raw, false)("v=" + v); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%#v", typed[0].Value) != fmt.Sprintf("%#v", nbexec.ParseValue(v)) || raw[0].Value != v {
			t.Errorf("%q: -p %#v, -r %#v", v, typed[0].Value, raw[0].Value)
		}
	}
}
