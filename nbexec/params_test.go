package nbexec_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nbserv/go-nbserv/nbexec"
	"github.com/nbserv/go-nbserv/nbformat"
)

// tagged is a code cell with source and tags.
func tagged(source string, tags ...string) nbformat.Cell {
	c := nbformat.NewCodeCell(source)
	if len(tags) > 0 {
		_ = c.Metadata.Set("tags", tags)
	}
	return c
}

func sources(nb *nbformat.Notebook) []string {
	var got []string
	for _, c := range nb.Cells {
		got = append(got, c.Source)
	}
	return got
}

func pythonNB(cells ...nbformat.Cell) *nbformat.Notebook {
	nb := nbformat.New(cells...)
	nb.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "python3", DisplayName: "Python 3", Language: "python"}
	return nb
}

func TestInjectParametersPlacement(t *testing.T) {
	const injected = "# Parameters\nx = 1\n"
	cases := map[string]struct {
		cells []nbformat.Cell
		want  []string
		inj   nbexec.Injection
	}{
		"after the parameters cell": {
			cells: []nbformat.Cell{tagged("import os"), tagged("x = 0", "parameters"), tagged("print(x)")},
			want:  []string{"import os", "x = 0", injected, "print(x)"},
			inj:   nbexec.Injection{Index: 2},
		},
		"after the first of two parameters cells": {
			cells: []nbformat.Cell{tagged("x = 0", "a", "parameters"), tagged("y = 0", "parameters")},
			want:  []string{"x = 0", injected, "y = 0"},
			inj:   nbexec.Injection{Index: 1},
		},
		"an earlier injection replaced in place, a second removed": {
			cells: []nbformat.Cell{tagged("x = 0", "parameters"), tagged("x = 5", "injected-parameters"), tagged("print(x)"), tagged("x = 6", "injected-parameters")},
			want:  []string{"x = 0", injected, "print(x)"},
			inj:   nbexec.Injection{Index: 1, Replaced: true},
		},
		"no parameters cell: first": {
			cells: []nbformat.Cell{nbformat.NewMarkdownCell("# T"), tagged("print(x)")},
			want:  []string{injected, "# T", "print(x)"},
			inj:   nbexec.Injection{Index: 0, NoParametersCell: true},
		},
		"an empty notebook": {
			want: []string{injected},
			inj:  nbexec.Injection{Index: 0, NoParametersCell: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			nb := pythonNB(tc.cells...)
			inj, err := nbexec.InjectParameters(nb, "", nbexec.Parameter{Name: "x", Value: 1})
			if err != nil {
				t.Fatal(err)
			}
			if inj != tc.inj {
				t.Errorf("Injection %+v, want %+v", inj, tc.inj)
			}
			if diff := cmp.Diff(tc.want, sources(nb)); diff != "" {
				t.Errorf("cells (-want +got):\n%s", diff)
			}
			c := nb.Cells[inj.Index]
			var tags []string
			if _, err := c.Metadata.Get("tags", &tags); err != nil || !cmp.Equal(tags, []string{nbexec.TagInjectedParameters}) {
				t.Errorf("injected cell's tags %v, %v", tags, err)
			}
			if c.CellType != nbformat.CellCode || len(c.ID) != 8 || c.ExecutionCount != nil || len(c.Outputs) != 0 {
				t.Errorf("injected cell %+v", c)
			}
		})
	}
}

// TestInjectParametersRecordsMetadata checks metadata.papermill: the
// parameters replaced in order, an earlier papermill run's timing and
// exception removed, its other keys kept; and no cell id before nbformat
// 4.5.
func TestInjectParametersRecordsMetadata(t *testing.T) {
	nb := pythonNB(tagged("a = 0", "parameters"))
	nb.NBFormatMinor = 4
	nb.Cells[0].ID = ""
	nb.Metadata.Extra = map[string]json.RawMessage{
		"papermill": json.RawMessage(`{"parameters":{"old":1},"version":"2.6.0","start_time":"2024-01-01T00:00:00","end_time":"x","duration":3.5,"exception":true,"input_path":"in.ipynb"}`),
		"other":     json.RawMessage(`{"kept":true}`),
	}
	_, err := nbexec.InjectParameters(nb, "", nbexec.Parameter{Name: "z", Value: "s"}, nbexec.Parameter{Name: "a", Value: 2.0},
		nbexec.Parameter{Name: "z", Value: nil}, nbexec.Parameter{Name: "b", Value: []any{1, 1.5}})
	if err != nil {
		t.Fatal(err)
	}
	if got := nb.Cells[1].Source; got != "# Parameters\nz = None\na = 2.0\nb = [1, 1.5]\n" {
		t.Errorf("source %q", got)
	}
	if nb.Cells[1].ID != "" {
		t.Errorf("a cell id %q in an nbformat 4.4 notebook", nb.Cells[1].ID)
	}
	data, err := nb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Metadata struct {
			Papermill map[string]json.RawMessage `json:"papermill"`
			Other     json.RawMessage            `json:"other"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for k, v := range doc.Metadata.Papermill {
		got[k] = strings.Join(strings.Fields(string(v)), "")
	}
	want := map[string]string{"parameters": `{"z":null,"a":2.0,"b":[1,1.5]}`, "version": `"2.6.0"`, "input_path": `"in.ipynb"`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metadata.papermill (-want +got):\n%s", diff)
	}
	if strings.Join(strings.Fields(string(doc.Metadata.Other)), "") != `{"kept":true}` {
		t.Errorf("other metadata %s", doc.Metadata.Other)
	}
}

func TestInjectParametersLanguage(t *testing.T) {
	r := nbformat.New(tagged("x <- 0", "parameters"))
	r.Metadata.Kernelspec = &nbformat.KernelspecMetadata{Name: "ir", DisplayName: "R", Language: "R"}
	liOnly := nbformat.New()
	liOnly.Metadata.LanguageInfo = &nbformat.LanguageInfo{Name: "Python"}
	liR := nbformat.New()
	liR.Metadata.LanguageInfo = &nbformat.LanguageInfo{Name: "julia"}
	cases := []struct {
		name     string
		nb       *nbformat.Notebook
		language string
		want     string // the LanguageError's language, or "ok"
	}{
		{"R kernelspec", r, "", "R"},
		{"language_info julia", liR, "", "julia"},
		{"none named", nbformat.New(), "", ""},
		{"language_info python", liOnly, "", "ok"},
		{"the caller's language over the notebook's", r, "python", "ok"},
		{"the caller's other language", pythonNB(), "scala", "scala"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tc.nb.MarshalJSON()
			_, err := nbexec.InjectParameters(tc.nb, tc.language, nbexec.Parameter{Name: "x", Value: 1})
			if tc.want == "ok" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *nbexec.LanguageError
			if !errors.As(err, &le) || le.Language != tc.want || !errors.Is(err, nbexec.ErrUnsupportedLanguage) {
				t.Fatalf("err = %v, want a *LanguageError for %q", err, tc.want)
			}
			if after, _ := tc.nb.MarshalJSON(); string(after) != string(before) {
				t.Error("the notebook changed")
			}
		})
	}
}

func TestInjectParametersRejectsWhatPythonCannotAssign(t *testing.T) {
	for _, p := range []nbexec.Parameter{
		{Name: "", Value: 1}, {Name: "1x", Value: 1}, {Name: "a b", Value: 1}, {Name: "a-b", Value: 1}, {Name: "x=1", Value: 1},
		{Name: "class", Value: 1}, {Name: "None", Value: 1}, {Name: "x\ny", Value: 1}, {Name: "ok", Value: struct{}{}},
		{Name: "ok", Value: []any{complex(1, 2)}}, {Name: "ok", Value: map[string]any{"k": make(chan int)}},
	} {
		nb := pythonNB(tagged("x = 0", "parameters"))
		before, _ := nb.MarshalJSON()
		_, err := nbexec.InjectParameters(nb, "", nbexec.Parameter{Name: "fine", Value: 1}, p)
		var pe *nbexec.ParameterError
		if !errors.As(err, &pe) || pe.Name != p.Name {
			t.Errorf("%q = %#v: err = %v, want a *ParameterError", p.Name, p.Value, err)
		}
		if after, _ := nb.MarshalJSON(); string(after) != string(before) {
			t.Errorf("%q: the notebook changed", p.Name)
		}
	}
	// Python 3 identifiers may be non-ASCII; soft keywords are names.
	nb := pythonNB()
	if _, err := nbexec.InjectParameters(nb, "", nbexec.Parameter{Name: "données", Value: 1}, nbexec.Parameter{Name: "_", Value: 2},
		nbexec.Parameter{Name: "match", Value: 3}, nbexec.Parameter{Name: "x2", Value: 4}); err != nil {
		t.Error(err)
	}
}

// TestRunExecutesTheInjectedCell runs a parameterised notebook: the
// kernel receives the injected cell between the parameters cell and the
// rest.
func TestRunExecutesTheInjectedCell(t *testing.T) {
	tk := newTestKernel(t)
	nb := pythonNB(tagged("n = 1", "parameters"), tagged("print(n)"))
	inj, err := nbexec.InjectParameters(nb, "", nbexec.Parameter{Name: "n", Value: nbexec.ParseValue("5")})
	if err != nil {
		t.Fatal(err)
	}
	if err := nbexec.Run(context.Background(), tk.conn, nb, nbexec.Options{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"n = 1", "# Parameters\nn = 5\n", "print(n)"}, tk.executed()); diff != "" {
		t.Errorf("executions (-want +got):\n%s", diff)
	}
	if c := nb.Cells[inj.Index]; c.ExecutionCount == nil || *c.ExecutionCount != 2 {
		t.Errorf("injected cell's count %v", c.ExecutionCount)
	}
}
