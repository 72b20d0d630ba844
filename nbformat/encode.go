package nbformat

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/nbserv/go-nbserv/internal/jsonscan"
)

// encode is every MarshalJSON: the document write builds, or the first
// invalid raw value's error.
func encode(write func(w *jsonWriter)) ([]byte, error) {
	var w jsonWriter
	write(&w)
	return w.buf, w.err
}

// jsonWriter builds a JSON document; the first error (an invalid raw
// value) sticks.
type jsonWriter struct {
	buf []byte
	err error
}

// object writes the members of one JSON object: the known keys in a fixed
// order, then the extra keys sorted. A known field that is unset (zero)
// yields to a raw value of its key in extra, which is how an ill-typed
// value survives a round trip; a set field wins over it.
type objectWriter struct {
	w     *jsonWriter
	extra map[string]json.RawMessage
	known []string // the known keys written or considered so far
	n     int
}

func (w *jsonWriter) object(extra map[string]json.RawMessage) *objectWriter {
	w.buf = append(w.buf, '{')
	return &objectWriter{w: w, extra: extra}
}

// key starts a member for a known key. It returns false when the member
// is already written from extra (unset is true and extra has the key) or
// is to be left out (unset and not required).
func (o *objectWriter) key(k string, unset, required bool) bool {
	o.known = append(o.known, k)
	if unset {
		if raw, ok := o.extra[k]; ok {
			o.name(k)
			o.w.raw(k, raw)
			return false
		}
		if !required {
			return false
		}
	}
	o.name(k)
	return true
}

func (o *objectWriter) name(k string) {
	if o.n > 0 {
		o.w.buf = append(o.w.buf, ',')
	}
	o.n++
	o.w.buf = jsonscan.AppendQuoted(o.w.buf, k)
	o.w.buf = append(o.w.buf, ':')
}

// close writes the remaining extra keys, sorted, and the closing brace.
func (o *objectWriter) close() {
	if len(o.extra) > 0 {
		keys := make([]string, 0, len(o.extra))
		for k := range o.extra {
			if !slices.Contains(o.known, k) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			o.name(k)
			o.w.raw(k, o.extra[k])
		}
	}
	o.w.buf = append(o.w.buf, '}')
}

// raw writes a raw JSON value after checking it is valid JSON.
func (w *jsonWriter) raw(key string, raw json.RawMessage) {
	if !jsonscan.Valid(raw) {
		if w.err == nil {
			w.err = fmt.Errorf("nbformat: invalid raw JSON under key %q", key)
		}
		w.buf = append(w.buf, "null"...)
		return
	}
	w.buf = append(w.buf, raw...)
}

func (w *jsonWriter) str(s string) { w.buf = jsonscan.AppendQuoted(w.buf, s) }

func (w *jsonWriter) int(v int) { w.buf = strconv.AppendInt(w.buf, int64(v), 10) }

func (w *jsonWriter) count(v *int) {
	if v == nil {
		w.buf = append(w.buf, "null"...)
		return
	}
	w.int(*v)
}

// rawMap writes an object of raw values with sorted keys.
func (w *jsonWriter) rawMap(m map[string]json.RawMessage) {
	sortedObject(w, m, w.raw)
}

// array writes items as an array, each by item.
func array[T any](w *jsonWriter, items []T, item func(*T)) {
	w.buf = append(w.buf, '[')
	for i := range items {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		item(&items[i])
	}
	w.buf = append(w.buf, ']')
}

// sortedObject writes m as an object with sorted keys, each value by
// value.
func sortedObject[V any](w *jsonWriter, m map[string]V, value func(key string, v V)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.buf = append(w.buf, '{')
	for i, k := range keys {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.str(k)
		w.buf = append(w.buf, ':')
		value(k, m[k])
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) notebook(nb *Notebook) {
	o := w.object(nb.Extra)
	if o.key("cells", nb.Cells == nil, true) {
		array(w, nb.Cells, w.cell)
	}
	m := &nb.Metadata
	if o.key("metadata", m.Kernelspec == nil && m.LanguageInfo == nil && m.Extra == nil, true) {
		w.notebookMetadata(m)
	}
	if o.key("nbformat", nb.NBFormat == 0, true) {
		w.int(nb.NBFormat)
	}
	if o.key("nbformat_minor", nb.NBFormatMinor == 0, true) {
		w.int(nb.NBFormatMinor)
	}
	o.close()
}

func (w *jsonWriter) notebookMetadata(m *NotebookMetadata) {
	o := w.object(m.Extra)
	if o.key("kernelspec", m.Kernelspec == nil, false) {
		k := m.Kernelspec
		ko := w.object(k.Extra)
		if ko.key("display_name", k.DisplayName == "", true) {
			w.str(k.DisplayName)
		}
		if ko.key("language", k.Language == "", false) {
			w.str(k.Language)
		}
		if ko.key("name", k.Name == "", true) {
			w.str(k.Name)
		}
		ko.close()
	}
	if o.key("language_info", m.LanguageInfo == nil, false) {
		w.languageInfo(m.LanguageInfo)
	}
	o.close()
}

// languageInfo writes metadata.language_info, or a kernel_info_reply's:
// name always, the other known keys when set.
func (w *jsonWriter) languageInfo(l *LanguageInfo) {
	o := w.object(l.Extra)
	if o.key("codemirror_mode", l.CodemirrorMode == nil, false) {
		w.raw("codemirror_mode", l.CodemirrorMode)
	}
	for _, f := range []struct{ k, v string }{
		{"file_extension", l.FileExtension}, {"mimetype", l.Mimetype}, {"name", l.Name},
		{"nbconvert_exporter", l.NbconvertExporter}, {"pygments_lexer", l.PygmentsLexer}, {"version", l.Version},
	} {
		if o.key(f.k, f.v == "", f.k == "name") {
			w.str(f.v)
		}
	}
	o.close()
}

func (w *jsonWriter) cell(c *Cell) {
	o := w.object(c.Extra)
	code := c.CellType == CellCode
	if o.key("id", c.ID == "", false) {
		w.str(c.ID)
	}
	if o.key("cell_type", c.CellType == "", true) {
		w.str(c.CellType)
	}
	if o.key("metadata", c.Metadata == nil, true) {
		w.rawMap(c.Metadata)
	}
	if o.key("source", c.Source == "", true) {
		w.str(c.Source)
	}
	if o.key("attachments", c.Attachments == nil, false) {
		sortedObject(w, c.Attachments, func(_ string, b MIMEBundle) { w.rawMap(b) })
	}
	// A code cell requires execution_count (null before it runs) and
	// outputs; other cells carry them only if they were set.
	if o.key("execution_count", c.ExecutionCount == nil, code) {
		w.count(c.ExecutionCount)
	}
	if o.key("outputs", c.Outputs == nil, code) {
		array(w, c.Outputs, w.output)
	}
	o.close()
}

func (w *jsonWriter) output(out *Output) {
	o := w.object(out.Extra)
	t := out.OutputType
	stream, result, display, isErr := t == OutputStream, t == OutputExecuteResult, t == OutputDisplayData, t == OutputError
	if o.key("output_type", t == "", true) {
		w.str(t)
	}
	if o.key("name", out.Name == "", stream) {
		w.str(out.Name)
	}
	if o.key("text", out.Text == "", stream) {
		w.str(out.Text)
	}
	if o.key("data", out.Data == nil, result || display) {
		w.rawMap(out.Data)
	}
	if o.key("metadata", out.Metadata == nil, result || display) {
		w.rawMap(out.Metadata)
	}
	if o.key("execution_count", out.ExecutionCount == nil, result) {
		w.count(out.ExecutionCount)
	}
	if o.key("ename", out.EName == "", isErr) {
		w.str(out.EName)
	}
	if o.key("evalue", out.EValue == "", isErr) {
		w.str(out.EValue)
	}
	if o.key("traceback", out.Traceback == nil, isErr) {
		array(w, out.Traceback, func(line *string) { w.str(*line) })
	}
	o.close()
}
