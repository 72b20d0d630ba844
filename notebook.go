package nbserv

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Cell types of nbformat v4.
const (
	CellCode     = "code"
	CellMarkdown = "markdown"
	CellRaw      = "raw"
)

// Output types of nbformat v4.
const (
	OutputStream        = "stream"
	OutputDisplayData   = "display_data"
	OutputExecuteResult = "execute_result"
	OutputError         = "error"
)

// Notebook is a Jupyter notebook in nbformat v4, as GetNotebook returns it
// and SaveNotebook sends it.
//
// Decoding keeps everything: keys this model does not know, and known keys
// whose value does not fit its Go type (a "source" that is a number), are
// kept as raw JSON in the Extra map of the object they appear in, and
// encoding writes them back. So a notebook read and saved again loses
// nothing, even one from a newer nbformat or with extension keys.
//
// Multiline strings ("source", stream "text") arrive as a string or a list
// of strings; they are joined into one Go string, and encoded as a single
// string, which is how Jupyter's API sends them (it splits them into lines
// only when writing the file).
type Notebook struct {
	// NBFormat and NBFormatMinor are the format version: 4 and 0–5.
	NBFormat      int
	NBFormatMinor int
	// Metadata is the notebook's metadata (kernelspec, language_info, ...).
	Metadata NotebookMetadata
	// Cells are the notebook's cells, in order.
	Cells []Cell
	// Extra holds unknown top-level keys and ill-typed known ones, raw.
	Extra map[string]json.RawMessage
}

// NotebookMetadata is the notebook-level metadata. Keys other than
// kernelspec and language_info (widgets, authors, extensions' keys) are in
// Extra.
type NotebookMetadata struct {
	// Kernelspec names the kernel the notebook runs on.
	Kernelspec *KernelspecMetadata
	// LanguageInfo describes the kernel's language.
	LanguageInfo *LanguageInfo
	// Extra holds every other metadata key, raw.
	Extra map[string]json.RawMessage
}

// KernelspecMetadata is metadata.kernelspec.
type KernelspecMetadata struct {
	// Name is the kernelspec's name, such as "python3".
	Name string
	// DisplayName is its human-readable name, such as "Python 3".
	DisplayName string
	// Language is the kernel's language, such as "python" (optional).
	Language string
	// Extra holds other keys, raw.
	Extra map[string]json.RawMessage
}

// LanguageInfo is metadata.language_info.
type LanguageInfo struct {
	// Name is the language, such as "python".
	Name string
	// Version is the language's version, such as "3.11.2".
	Version string
	// FileExtension, such as ".py".
	FileExtension string
	// Mimetype, such as "text/x-python".
	Mimetype string
	// PygmentsLexer names the lexer for highlighting, such as "ipython3".
	PygmentsLexer string
	// NbconvertExporter names nbconvert's exporter, such as "python".
	NbconvertExporter string
	// CodemirrorMode is a string or an object; kept raw.
	CodemirrorMode json.RawMessage
	// Extra holds other keys, raw.
	Extra map[string]json.RawMessage
}

// Cell is one cell of a notebook: code, markdown or raw.
type Cell struct {
	// ID is the cell's id (nbformat 4.5 and later; empty before).
	ID string
	// CellType is CellCode, CellMarkdown or CellRaw.
	CellType string
	// Source is the cell's text.
	Source string
	// Metadata is the cell's metadata (tags, collapsed, ...).
	Metadata Metadata
	// Attachments are a markdown or raw cell's attached files, by name.
	Attachments map[string]MimeBundle
	// ExecutionCount is a code cell's execution count; nil when it has
	// not run (JSON null).
	ExecutionCount *int
	// Outputs are a code cell's outputs.
	Outputs []Output
	// Extra holds unknown keys and ill-typed known ones, raw.
	Extra map[string]json.RawMessage
}

// Output is one output of a code cell. Which fields are used depends on
// OutputType:
//
//   - OutputStream: Name ("stdout" or "stderr") and Text;
//   - OutputDisplayData: Data and Metadata;
//   - OutputExecuteResult: ExecutionCount, Data and Metadata;
//   - OutputError: EName, EValue and Traceback.
type Output struct {
	// OutputType is one of the Output... constants.
	OutputType string
	// Name is a stream's name: "stdout" or "stderr".
	Name string
	// Text is a stream's text.
	Text string
	// Data is a display's or result's content, by MIME type.
	Data MimeBundle
	// Metadata is a display's or result's metadata, by MIME type.
	Metadata Metadata
	// ExecutionCount is an execute_result's count (nil when null).
	ExecutionCount *int
	// EName, EValue and Traceback describe an error: the exception's
	// name, its value, and the traceback's lines (with ANSI colors).
	EName     string
	EValue    string
	Traceback []string
	// Extra holds unknown keys and ill-typed known ones, raw.
	Extra map[string]json.RawMessage
}

// Metadata is a JSON object whose values are kept raw, exactly as
// received; Get and Set convert them.
type Metadata map[string]json.RawMessage

// Get decodes the value of key into v, reporting whether key was present.
func (m Metadata) Get(key string, v any) (bool, error) {
	raw, ok := m[key]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// Set stores v, encoded as JSON, under key, creating the map if needed.
func (m *Metadata) Set(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if *m == nil {
		*m = Metadata{}
	}
	(*m)[key] = raw
	return nil
}

// MimeBundle maps MIME types to content, kept raw: text types as a string
// (or a list of lines), images as base64 strings, JSON types as JSON.
type MimeBundle map[string]json.RawMessage

// Text returns the content of a text type, such as "text/plain" or
// "text/html", joining a list of lines; ok is false when the type is
// absent or not a string.
func (b MimeBundle) Text(mime string) (text string, ok bool) {
	raw, found := b[mime]
	if !found {
		return "", false
	}
	r := jsonReader{data: raw}
	text, ok = r.multiline()
	r.end()
	return text, ok && r.err == nil
}

// SetText stores text under mime as a JSON string.
func (b MimeBundle) SetText(mime, text string) {
	b[mime] = appendJSONString(nil, text)
}

// NewNotebook returns an empty nbformat 4.5 notebook with the given cells.
func NewNotebook(cells ...Cell) *Notebook {
	return &Notebook{NBFormat: 4, NBFormatMinor: 5, Cells: cells}
}

// NewCodeCell returns a code cell with a fresh id that has not run.
func NewCodeCell(source string) Cell {
	return Cell{ID: newCellID(), CellType: CellCode, Source: source, Metadata: Metadata{}, Outputs: []Output{}}
}

// NewMarkdownCell returns a markdown cell with a fresh id.
func NewMarkdownCell(source string) Cell {
	return Cell{ID: newCellID(), CellType: CellMarkdown, Source: source, Metadata: Metadata{}}
}

// newCellID returns 8 random hex digits, as nbformat does.
func newCellID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ParseNotebook decodes a notebook (the content of an .ipynb file, or of a
// contents model). It fails only on invalid JSON or a document that is not
// a JSON object; anything else is kept (see Notebook).
func ParseNotebook(data []byte) (*Notebook, error) {
	nb := new(Notebook)
	if err := nb.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return nb, nil
}

// UnmarshalJSON decodes a notebook; see ParseNotebook.
func (nb *Notebook) UnmarshalJSON(data []byte) error {
	r := jsonReader{data: data}
	if r.peek() != '{' {
		if err := syntaxError(data); err != nil {
			return fmt.Errorf("nbserv: notebook: %w", err)
		}
		return errors.New("nbserv: notebook: not a JSON object")
	}
	*nb = Notebook{}
	r.notebook(nb)
	r.end()
	if r.err != nil {
		return fmt.Errorf("nbserv: notebook: %w", r.err)
	}
	return nil
}

// MarshalJSON encodes the notebook; see Notebook for what is kept.
func (nb *Notebook) MarshalJSON() ([]byte, error) {
	var w jsonWriter
	w.notebook(nb)
	return w.buf, w.err
}

// UnmarshalJSON decodes one cell, keeping unknown keys in Extra.
func (c *Cell) UnmarshalJSON(data []byte) error {
	r := jsonReader{data: data}
	if r.peek() != '{' {
		return errors.New("nbserv: cell: not a JSON object")
	}
	*c = Cell{}
	r.cell(c)
	r.end()
	if r.err != nil {
		return fmt.Errorf("nbserv: cell: %w", r.err)
	}
	return nil
}

// MarshalJSON encodes the cell with the keys its type requires.
func (c *Cell) MarshalJSON() ([]byte, error) {
	var w jsonWriter
	w.cell(c)
	return w.buf, w.err
}

// UnmarshalJSON decodes one output, keeping unknown keys in Extra.
func (o *Output) UnmarshalJSON(data []byte) error {
	r := jsonReader{data: data}
	if r.peek() != '{' {
		return errors.New("nbserv: output: not a JSON object")
	}
	*o = Output{}
	r.output(o)
	r.end()
	if r.err != nil {
		return fmt.Errorf("nbserv: output: %w", r.err)
	}
	return nil
}

// MarshalJSON encodes the output with the keys its type requires.
func (o *Output) MarshalJSON() ([]byte, error) {
	var w jsonWriter
	w.output(o)
	return w.buf, w.err
}

// ---- decoding ----
//
// Every typed field follows one rule: if the value fits the Go type, it is
// decoded there (and any earlier raw value of the same key dropped);
// otherwise the field is left zero and the raw value kept in Extra. With
// duplicate keys the last one wins, as in Python's json.

// keep stores the raw value at the reader under key in *extra.
func (r *jsonReader) keep(extra *map[string]json.RawMessage, key []byte) {
	raw := r.skip()
	if r.err != nil {
		return
	}
	if *extra == nil {
		*extra = make(map[string]json.RawMessage)
	}
	(*extra)[string(key)] = slices.Clone(raw)
}

// fits drops an earlier raw value of key once a typed value was decoded.
func fits(extra map[string]json.RawMessage, key []byte) {
	if len(extra) > 0 {
		delete(extra, string(key))
	}
}

func (r *jsonReader) str(dst *string, extra *map[string]json.RawMessage, key []byte) {
	if r.peek() == '"' {
		*dst = r.readString()
		fits(*extra, key)
		return
	}
	*dst = ""
	r.keep(extra, key)
}

// multiline reads a string or a list of strings, joined. ok is false, with
// nothing consumed, for any other value.
func (r *jsonReader) multiline() (string, bool) {
	switch r.peek() {
	case '"':
		return r.readString(), true
	case '[':
		start, depth := r.pos, r.depth
		var buf []byte
		var n int
		r.openArray()
		for r.element(&n) {
			if r.peek() != '"' {
				r.pos, r.depth = start, depth
				return "", false
			}
			buf = r.appendString(buf)
		}
		return string(buf), r.err == nil
	}
	return "", false
}

func (r *jsonReader) multilineField(dst *string, extra *map[string]json.RawMessage, key []byte) {
	if s, ok := r.multiline(); ok {
		*dst = s
		fits(*extra, key)
		return
	}
	*dst = ""
	r.keep(extra, key)
}

func (r *jsonReader) intField(dst *int, extra *map[string]json.RawMessage, key []byte) {
	if v, ok := r.readInt64(); ok && int64(int(v)) == v {
		*dst = int(v)
		fits(*extra, key)
		return
	}
	*dst = 0
	r.keep(extra, key)
}

// countField reads an execution count: an int or null.
func (r *jsonReader) countField(dst **int, extra *map[string]json.RawMessage, key []byte) {
	if r.peek() == 'n' {
		r.literal("null")
		*dst = nil
		fits(*extra, key)
		return
	}
	if v, ok := r.readInt64(); ok && int64(int(v)) == v {
		n := int(v)
		*dst = &n
		fits(*extra, key)
		return
	}
	*dst = nil
	r.keep(extra, key)
}

// rawMap reads an object of raw values; ok is false, with nothing
// consumed, if the value is not an object.
func (r *jsonReader) rawMap() (map[string]json.RawMessage, bool) {
	if r.peek() != '{' {
		return nil, false
	}
	m := make(map[string]json.RawMessage)
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		raw := r.skip()
		m[string(key)] = slices.Clone(raw)
	}
	return m, r.err == nil
}

func (r *jsonReader) rawMapField(dst *map[string]json.RawMessage, extra *map[string]json.RawMessage, key []byte) {
	if m, ok := r.rawMap(); ok {
		*dst = m
		fits(*extra, key)
		return
	}
	*dst = nil
	r.keep(extra, key)
}

func (r *jsonReader) notebook(nb *Notebook) {
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		switch string(key) {
		case "cells":
			nb.Cells = r.cells(&nb.Extra, key)
		case "metadata":
			if r.peek() == '{' {
				nb.Metadata = NotebookMetadata{}
				r.notebookMetadata(&nb.Metadata)
				fits(nb.Extra, key)
			} else {
				nb.Metadata = NotebookMetadata{}
				r.keep(&nb.Extra, key)
			}
		case "nbformat":
			r.intField(&nb.NBFormat, &nb.Extra, key)
		case "nbformat_minor":
			r.intField(&nb.NBFormatMinor, &nb.Extra, key)
		default:
			r.keep(&nb.Extra, key)
		}
	}
}

// cells reads the cells array; if it is not an array of objects, it is
// kept raw and no cells are returned.
func (r *jsonReader) cells(extra *map[string]json.RawMessage, key []byte) []Cell {
	if r.peek() == '[' {
		start, depth := r.pos, r.depth
		cells := []Cell{}
		var n int
		r.openArray()
		for r.element(&n) {
			if r.peek() != '{' {
				cells = nil
				r.pos, r.depth = start, depth
				break
			}
			cells = append(cells, Cell{})
			r.cell(&cells[len(cells)-1])
		}
		if cells != nil {
			fits(*extra, key)
			return cells
		}
	}
	r.keep(extra, key)
	return nil
}

func (r *jsonReader) notebookMetadata(m *NotebookMetadata) {
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		switch string(key) {
		case "kernelspec":
			m.Kernelspec = nil
			if r.peek() == '{' {
				m.Kernelspec = new(KernelspecMetadata)
				r.kernelspec(m.Kernelspec)
				fits(m.Extra, key)
			} else {
				r.keep(&m.Extra, key)
			}
		case "language_info":
			m.LanguageInfo = nil
			if r.peek() == '{' {
				m.LanguageInfo = new(LanguageInfo)
				r.languageInfo(m.LanguageInfo)
				fits(m.Extra, key)
			} else {
				r.keep(&m.Extra, key)
			}
		default:
			r.keep(&m.Extra, key)
		}
	}
}

func (r *jsonReader) kernelspec(k *KernelspecMetadata) {
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		switch string(key) {
		case "name":
			r.str(&k.Name, &k.Extra, key)
		case "display_name":
			r.str(&k.DisplayName, &k.Extra, key)
		case "language":
			r.str(&k.Language, &k.Extra, key)
		default:
			r.keep(&k.Extra, key)
		}
	}
}

func (r *jsonReader) languageInfo(l *LanguageInfo) {
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		switch string(key) {
		case "name":
			r.str(&l.Name, &l.Extra, key)
		case "version":
			r.str(&l.Version, &l.Extra, key)
		case "file_extension":
			r.str(&l.FileExtension, &l.Extra, key)
		case "mimetype":
			r.str(&l.Mimetype, &l.Extra, key)
		case "pygments_lexer":
			r.str(&l.PygmentsLexer, &l.Extra, key)
		case "nbconvert_exporter":
			r.str(&l.NbconvertExporter, &l.Extra, key)
		case "codemirror_mode":
			l.CodemirrorMode = slices.Clone(r.skip())
		default:
			r.keep(&l.Extra, key)
		}
	}
}

func (r *jsonReader) cell(c *Cell) {
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		switch string(key) {
		case "id":
			r.str(&c.ID, &c.Extra, key)
		case "cell_type":
			r.str(&c.CellType, &c.Extra, key)
		case "source":
			r.multilineField(&c.Source, &c.Extra, key)
		case "metadata":
			r.rawMapField((*map[string]json.RawMessage)(&c.Metadata), &c.Extra, key)
		case "execution_count":
			r.countField(&c.ExecutionCount, &c.Extra, key)
		case "outputs":
			c.Outputs = r.outputs(&c.Extra, key)
		case "attachments":
			c.Attachments = r.attachments(&c.Extra, key)
		default:
			r.keep(&c.Extra, key)
		}
	}
}

func (r *jsonReader) outputs(extra *map[string]json.RawMessage, key []byte) []Output {
	if r.peek() == '[' {
		start, depth := r.pos, r.depth
		outs := []Output{}
		var n int
		r.openArray()
		for r.element(&n) {
			if r.peek() != '{' {
				outs = nil
				r.pos, r.depth = start, depth
				break
			}
			outs = append(outs, Output{})
			r.output(&outs[len(outs)-1])
		}
		if outs != nil {
			fits(*extra, key)
			return outs
		}
	}
	r.keep(extra, key)
	return nil
}

// attachments reads {name: {mime: data}}; any other shape is kept raw.
func (r *jsonReader) attachments(extra *map[string]json.RawMessage, key []byte) map[string]MimeBundle {
	if r.peek() == '{' {
		start, depth := r.pos, r.depth
		m := make(map[string]MimeBundle)
		var n int
		r.openObject()
		for k := r.member(&n); k != nil; k = r.member(&n) {
			b, ok := r.rawMap()
			if !ok {
				m = nil
				r.pos, r.depth = start, depth
				break
			}
			m[string(k)] = b
		}
		if m != nil {
			fits(*extra, key)
			return m
		}
	}
	r.keep(extra, key)
	return nil
}

func (r *jsonReader) output(o *Output) {
	var n int
	r.openObject()
	for key := r.member(&n); key != nil; key = r.member(&n) {
		switch string(key) {
		case "output_type":
			r.str(&o.OutputType, &o.Extra, key)
		case "name":
			r.str(&o.Name, &o.Extra, key)
		case "text":
			r.multilineField(&o.Text, &o.Extra, key)
		case "data":
			r.rawMapField((*map[string]json.RawMessage)(&o.Data), &o.Extra, key)
		case "metadata":
			r.rawMapField((*map[string]json.RawMessage)(&o.Metadata), &o.Extra, key)
		case "execution_count":
			r.countField(&o.ExecutionCount, &o.Extra, key)
		case "ename":
			r.str(&o.EName, &o.Extra, key)
		case "evalue":
			r.str(&o.EValue, &o.Extra, key)
		case "traceback":
			o.Traceback = r.stringList(&o.Extra, key)
		default:
			r.keep(&o.Extra, key)
		}
	}
}

// stringList reads a list of strings; anything else is kept raw.
func (r *jsonReader) stringList(extra *map[string]json.RawMessage, key []byte) []string {
	if r.peek() == '[' {
		start, depth := r.pos, r.depth
		list := []string{}
		var n int
		r.openArray()
		for r.element(&n) {
			if r.peek() != '"' {
				list = nil
				r.pos, r.depth = start, depth
				break
			}
			list = append(list, r.readString())
		}
		if list != nil {
			fits(*extra, key)
			return list
		}
	}
	r.keep(extra, key)
	return nil
}

// ---- encoding ----

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
	o.w.buf = appendJSONString(o.w.buf, k)
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
	if !validJSON(raw) {
		if w.err == nil {
			w.err = fmt.Errorf("nbserv: invalid raw JSON under key %q", key)
		}
		w.buf = append(w.buf, "null"...)
		return
	}
	w.buf = append(w.buf, raw...)
}

func (w *jsonWriter) str(s string) { w.buf = appendJSONString(w.buf, s) }

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
		w.raw(k, m[k])
	}
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) notebook(nb *Notebook) {
	o := w.object(nb.Extra)
	if o.key("cells", nb.Cells == nil, true) {
		w.buf = append(w.buf, '[')
		for i := range nb.Cells {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.cell(&nb.Cells[i])
		}
		w.buf = append(w.buf, ']')
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
		l := m.LanguageInfo
		lo := w.object(l.Extra)
		if lo.key("codemirror_mode", l.CodemirrorMode == nil, false) {
			w.raw("codemirror_mode", l.CodemirrorMode)
		}
		for _, f := range []struct{ k, v string }{
			{"file_extension", l.FileExtension}, {"mimetype", l.Mimetype}, {"name", l.Name},
			{"nbconvert_exporter", l.NbconvertExporter}, {"pygments_lexer", l.PygmentsLexer}, {"version", l.Version},
		} {
			if lo.key(f.k, f.v == "", f.k == "name") {
				w.str(f.v)
			}
		}
		lo.close()
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
		names := make([]string, 0, len(c.Attachments))
		for k := range c.Attachments {
			names = append(names, k)
		}
		slices.Sort(names)
		w.buf = append(w.buf, '{')
		for i, k := range names {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.str(k)
			w.buf = append(w.buf, ':')
			w.rawMap(c.Attachments[k])
		}
		w.buf = append(w.buf, '}')
	}
	// A code cell requires execution_count (null before it runs) and
	// outputs; other cells carry them only if they were set.
	if o.key("execution_count", c.ExecutionCount == nil, code) {
		w.count(c.ExecutionCount)
	}
	if o.key("outputs", c.Outputs == nil, code) {
		w.buf = append(w.buf, '[')
		for i := range c.Outputs {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.output(&c.Outputs[i])
		}
		w.buf = append(w.buf, ']')
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
		w.buf = append(w.buf, '[')
		for i, line := range out.Traceback {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			w.str(line)
		}
		w.buf = append(w.buf, ']')
	}
	o.close()
}

// String returns the text of a stream, the text/plain of a result or
// display, or "EName: EValue" of an error: what a console would show.
func (o *Output) String() string {
	switch o.OutputType {
	case OutputStream:
		return o.Text
	case OutputError:
		return o.EName + ": " + o.EValue
	}
	s, _ := o.Data.Text("text/plain")
	return s
}
