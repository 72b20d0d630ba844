package nbformat

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jupyterNotebook returns the content of a notebook's contents model as
// Jupyter Server 1.23.3 sent it (see docs/wire/contents.md C15).
func jupyterNotebook(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/contents/notebook-get.json")
	if err != nil {
		t.Fatal(err)
	}
	var model struct {
		Content json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(b, &model); err != nil {
		t.Fatal(err)
	}
	return model.Content
}

func TestParseNotebookAsJupyterSendsIt(t *testing.T) {
	nb, err := Parse(jupyterNotebook(t))
	if err != nil {
		t.Fatal(err)
	}
	if nb == nil || nb.NBFormat != 4 || nb.NBFormatMinor != 5 || len(nb.Cells) != 3 {
		t.Fatalf("notebook %+v", nb)
	}
	if ks := nb.Metadata.Kernelspec; ks == nil || ks.Name != "python3" || ks.DisplayName != "Python 3" || ks.Language != "python" {
		t.Errorf("kernelspec %+v", ks)
	}
	if li := nb.Metadata.LanguageInfo; li == nil || li.Name != "python" || li.Version != "3.11.2" ||
		string(li.CodemirrorMode) != `{"name": "ipython", "version": 3}` {
		t.Errorf("language_info %+v", li)
	}
	// Unknown keys at every level are kept raw.
	if string(nb.Extra["top_unknown"]) != "true" || string(nb.Metadata.Extra["custom"]) != "[1]" {
		t.Errorf("notebook extras %q, metadata extras %q", nb.Extra, nb.Metadata.Extra)
	}
	code := nb.Cells[0]
	if code.CellType != CellCode || code.ID != "c1" || code.Source != "print(1)\nprint(2)" ||
		code.ExecutionCount == nil || *code.ExecutionCount != 3 || string(code.Extra["zzz_unknown"]) != `{"a": 1}` ||
		string(code.Metadata["trusted"]) != "false" || len(code.Outputs) != 4 {
		t.Fatalf("code cell %+v", code)
	}
	var tags []string
	if ok, err := code.Metadata.Get("tags", &tags); !ok || err != nil || !reflect.DeepEqual(tags, []string{"x"}) {
		t.Errorf("tags %v %v %v", tags, ok, err)
	}
	stream, result, errOut, display := code.Outputs[0], code.Outputs[1], code.Outputs[2], code.Outputs[3]
	if stream.OutputType != OutputStream || stream.Name != "stdout" || stream.Text != "1\n2\n" || stream.String() != "1\n2\n" {
		t.Errorf("stream %+v", stream)
	}
	if txt, ok := result.Data.Text("text/plain"); result.OutputType != OutputExecuteResult || !ok || txt != "a\nb" ||
		*result.ExecutionCount != 3 || string(result.Data["image/png"]) != `"iVBORw0KGgo=\n"` ||
		string(result.Data["application/json"]) != `{"k": [1, 2.5, 10000000000000000000001]}` {
		t.Errorf("execute_result %+v", result)
	}
	if errOut.OutputType != OutputError || errOut.EName != "E" || errOut.EValue != "v" ||
		!reflect.DeepEqual(errOut.Traceback, []string{"t1", "t2"}) || errOut.String() != "E: v" {
		t.Errorf("error %+v", errOut)
	}
	if html, _ := display.Data.Text("text/html"); display.OutputType != OutputDisplayData || html != "<b>x</b>" ||
		string(display.Metadata["isolated"]) != "true" {
		t.Errorf("display_data %+v", display)
	}
	md := nb.Cells[1]
	if md.CellType != CellMarkdown || md.Source != "# Hi" || string(md.Attachments["a.png"]["image/png"]) != `"AAAA"` ||
		md.Outputs != nil || md.ExecutionCount != nil {
		t.Errorf("markdown %+v", md)
	}
	if raw := nb.Cells[2]; raw.CellType != CellRaw || raw.Source != "" || string(raw.Metadata["format"]) != `"text/x"` {
		t.Errorf("raw %+v", raw)
	}
}

// The notebook survives encoding: the same JSON value as Jupyter sent,
// unknown keys included (compared as generic JSON).
func TestNotebookRoundTripKeepsEverything(t *testing.T) {
	content := jupyterNotebook(t)
	nb, err := Parse(content)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(generic(t, content), generic(t, out)); diff != "" {
		t.Errorf("round trip changed the notebook (-sent +encoded):\n%s", diff)
	}
}

func generic(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	return v
}

func TestNotebookMultilineAndRequiredKeys(t *testing.T) {
	// As in an .ipynb file: lists of lines; cells missing the keys their
	// type requires.
	nb, err := Parse([]byte(`{"nbformat": 4, "nbformat_minor": 4, "metadata": {},
		"cells": [
			{"cell_type": "code", "source": ["a = 1\n", "a"], "metadata": {}},
			{"cell_type": "markdown", "source": [], "metadata": {}},
			{"cell_type": "code", "source": "", "execution_count": null, "outputs": [
				{"output_type": "stream", "name": "stderr", "text": ["x\n", "y"]},
				{"output_type": "execute_result", "execution_count": 1, "data": {"text/plain": ["1", "\n2"]}, "metadata": {}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if nb.Cells[0].Source != "a = 1\na" || nb.Cells[1].Source != "" || nb.Cells[2].Outputs[0].Text != "x\ny" {
		t.Errorf("multiline: %q %q %q", nb.Cells[0].Source, nb.Cells[1].Source, nb.Cells[2].Outputs[0].Text)
	}
	if s := nb.Cells[2].Outputs[1].String(); s != "1\n2" {
		t.Errorf("text/plain as lines: %q", s)
	}
	out, err := nb.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"cells":[` +
		`{"cell_type":"code","metadata":{},"source":"a = 1\na","execution_count":null,"outputs":[]},` +
		`{"cell_type":"markdown","metadata":{},"source":""},` +
		`{"cell_type":"code","metadata":{},"source":"","execution_count":null,"outputs":[` +
		`{"output_type":"stream","name":"stderr","text":"x\ny"},` +
		`{"output_type":"execute_result","data":{"text/plain":["1", "\n2"]},"metadata":{},"execution_count":1}]}],` +
		`"metadata":{},"nbformat":4,"nbformat_minor":4}`
	if string(out) != want {
		t.Errorf("encoded\n%s\nwant\n%s", out, want)
	}
}

// A known key whose value does not fit its type is kept raw and written
// back, and never fails the decode.
func TestNotebookIllTypedValuesAreKept(t *testing.T) {
	in := `{"cells":[{"cell_type":"code","id":7,"source":{"not":"text"},"metadata":null,"execution_count":1.5,` +
		`"outputs":[{"output_type":"error","ename":"E","evalue":"v","traceback":"one string"}]},` +
		`{"cell_type":"markdown","source":"x","metadata":{},"attachments":{"a":"not a bundle"}}],` +
		`"metadata":{"kernelspec":"python3","language_info":{"name":3}},"nbformat":"4","nbformat_minor":5}`
	nb, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	c := nb.Cells[0]
	if c.ID != "" || c.Source != "" || c.Metadata != nil || c.ExecutionCount != nil ||
		string(c.Extra["id"]) != "7" || string(c.Extra["source"]) != `{"not":"text"}` || string(c.Extra["metadata"]) != "null" ||
		string(c.Extra["execution_count"]) != "1.5" || string(c.Outputs[0].Extra["traceback"]) != `"one string"` {
		t.Errorf("cell %+v", c)
	}
	if nb.NBFormat != 0 || string(nb.Extra["nbformat"]) != `"4"` || nb.Metadata.Kernelspec != nil ||
		string(nb.Metadata.Extra["kernelspec"]) != `"python3"` || string(nb.Metadata.LanguageInfo.Extra["name"]) != "3" ||
		string(nb.Cells[1].Extra["attachments"]) != `{"a":"not a bundle"}` {
		t.Errorf("notebook %+v", nb)
	}
	out, err := json.Marshal(nb)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(generic(t, []byte(in)), generic(t, out)); diff != "" {
		t.Errorf("round trip (-in +out):\n%s", diff)
	}
}

// With duplicate keys the last one wins, typed or raw.
func TestNotebookDuplicateKeysLastWins(t *testing.T) {
	nb, err := Parse([]byte(`{"cells":[{"cell_type":"raw","source":5,"source":"s","metadata":{},"id":"a","id":[]}],"nbformat":4,"nbformat_minor":5,"metadata":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := nb.Cells[0]
	if c.Source != "s" || c.Extra["source"] != nil || c.ID != "" || string(c.Extra["id"]) != "[]" {
		t.Errorf("cell %+v extras %q", c, c.Extra)
	}
}

func TestNotebookEditAndBuild(t *testing.T) {
	nb := New(NewMarkdownCell("# Title"), NewCodeCell("print('hi')"))
	nb.Metadata.Kernelspec = &KernelspecMetadata{Name: "python3", DisplayName: "Python 3"}
	if len(nb.Cells[0].ID) != 8 || nb.Cells[0].ID == nb.Cells[1].ID {
		t.Errorf("ids %q %q", nb.Cells[0].ID, nb.Cells[1].ID)
	}
	if err := nb.Cells[1].Metadata.Set("tags", []string{"parameters"}); err != nil {
		t.Fatal(err)
	}
	out := MIMEBundle{}
	out.SetText("text/plain", "<3 \"quoted\"\n")
	nb.Cells[1].Outputs = append(nb.Cells[1].Outputs, Output{OutputType: OutputDisplayData, Data: out, Metadata: Metadata{}})
	b, err := nb.MarshalJSON() // json.Marshal would also escape HTML: \u003c for <

	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nb, back); diff != "" {
		t.Errorf("(-built +decoded):\n%s", diff)
	}
	if got := back.Cells[1].Outputs[0].String(); got != "<3 \"quoted\"\n" {
		t.Errorf("text %q", got)
	}
	var tags []string
	if _, err := back.Cells[1].Metadata.Get("tags", &tags); err != nil || tags[0] != "parameters" {
		t.Errorf("tags %v %v", tags, err)
	}
}

func TestNotebookRefusesWhatIsNotOne(t *testing.T) {
	for _, in := range []string{``, `[]`, `null`, `{"cells": [}`, `{"a":1} x`, `"nb"`, `{"cells":[{"source":"\x01"}]}`} {
		if _, err := Parse([]byte(in)); err == nil {
			t.Errorf("Parse(%q) succeeded", in)
		}
	}
	var c Cell
	if err := json.Unmarshal([]byte(`[1]`), &c); err == nil {
		t.Error("a cell from an array")
	}
	var o Output
	if err := json.Unmarshal([]byte(`{"output_type":"stream","name":"stdout","text":"x","new":1}`), &o); err != nil ||
		o.Text != "x" || string(o.Extra["new"]) != "1" {
		t.Errorf("output %+v %v", o, err)
	}
	// A raw value set by hand must be JSON.
	bad := New(Cell{CellType: CellRaw, Metadata: Metadata{"k": json.RawMessage("{oops")}})
	if _, err := json.Marshal(bad); err == nil || !strings.Contains(err.Error(), `"k"`) {
		t.Errorf("invalid raw metadata: %v", err)
	}
}

// ParsePrefix reads one notebook where a larger document holds it and
// says where it ends.
func TestParsePrefix(t *testing.T) {
	doc := []byte(` {"cells": [{"cell_type": "raw", "source": "}", "metadata": {}}], "nbformat": 4} , "after": 1}`)
	nb, n, err := ParsePrefix(doc)
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Index(doc, []byte(" , ")); n != want || len(nb.Cells) != 1 || nb.Cells[0].Source != "}" || nb.NBFormat != 4 {
		t.Errorf("n %d (want %d), %+v", n, want, nb)
	}
	for _, in := range []string{`[]`, `{"cells": [}`, `{"cells": []`, ``} {
		if _, _, err := ParsePrefix([]byte(in)); err == nil {
			t.Errorf("ParsePrefix(%q) succeeded", in)
		}
	}
}
