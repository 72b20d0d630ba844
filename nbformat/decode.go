package nbformat

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/nbserv/go-nbserv/internal/jsonscan"
)

// reader is the notebook decoder: jsonscan's reader with a method for
// each notebook object. Every typed field follows jsonscan's rule: a value
// that fits is decoded, one that does not is kept raw in Extra.
type reader struct{ jsonscan.Reader }

// decodeObject is every UnmarshalJSON: data must be one JSON object, which
// fn reads; what names the object in errors.
func decodeObject(what string, data []byte, fn func(r *reader)) error {
	_, err := decode(what, data, true, fn)
	return err
}

// decode reads the JSON object that starts data with fn and returns the
// offset after it; whole requires that nothing but whitespace follows.
func decode(what string, data []byte, whole bool, fn func(r *reader)) (int, error) {
	r := reader{jsonscan.Reader{Data: data}}
	if r.Peek() != '{' {
		return 0, notObject(what, data)
	}
	fn(&r)
	if whole {
		r.End()
	}
	if r.Err != nil {
		return 0, fmt.Errorf("nbformat: %s: %w", what, r.Err)
	}
	return r.Pos, nil
}

// notObject is the error for data that should have been a JSON object:
// its syntax error if it is not JSON.
func notObject(what string, data []byte) error {
	if err := jsonscan.Check(data); err != nil {
		return fmt.Errorf("nbformat: %s: %w", what, err)
	}
	return fmt.Errorf("nbformat: %s: not a JSON object", what)
}

// multiline reads a string or a list of strings, joined. ok is false, with
// nothing consumed, for any other value.
func (r *reader) multiline() (string, bool) {
	switch r.Peek() {
	case '"':
		return r.ReadString(), true
	case '[':
		start, depth := r.Pos, r.Depth
		var buf []byte
		var n int
		r.OpenArray()
		for r.Element(&n) {
			if r.Peek() != '"' {
				r.Pos, r.Depth = start, depth
				return "", false
			}
			buf = r.AppendString(buf)
		}
		return string(buf), r.Err == nil
	}
	return "", false
}

func (r *reader) multilineField(dst *string, extra *map[string]json.RawMessage, key []byte) {
	if s, ok := r.multiline(); ok {
		*dst = s
		jsonscan.Fits(*extra, key)
		return
	}
	*dst = ""
	r.Keep(extra, key)
}

func (r *reader) intField(dst *int, extra *map[string]json.RawMessage, key []byte) {
	if v, ok := r.ReadInt64(); ok && int64(int(v)) == v {
		*dst = int(v)
		jsonscan.Fits(*extra, key)
		return
	}
	*dst = 0
	r.Keep(extra, key)
}

// countField reads an execution count: an int or null.
func (r *reader) countField(dst **int, extra *map[string]json.RawMessage, key []byte) {
	if r.Peek() == 'n' {
		r.Literal("null")
		*dst = nil
		jsonscan.Fits(*extra, key)
		return
	}
	if v, ok := r.ReadInt64(); ok && int64(int(v)) == v {
		n := int(v)
		*dst = &n
		jsonscan.Fits(*extra, key)
		return
	}
	*dst = nil
	r.Keep(extra, key)
}

// rawMap reads an object of raw values; ok is false, with nothing
// consumed, if the value is not an object.
func (r *reader) rawMap() (map[string]json.RawMessage, bool) {
	if r.Peek() != '{' {
		return nil, false
	}
	m := make(map[string]json.RawMessage)
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		raw := r.Skip()
		m[string(key)] = slices.Clone(raw)
	}
	return m, r.Err == nil
}

func (r *reader) rawMapField(dst *map[string]json.RawMessage, extra *map[string]json.RawMessage, key []byte) {
	if m, ok := r.rawMap(); ok {
		*dst = m
		jsonscan.Fits(*extra, key)
		return
	}
	*dst = nil
	r.Keep(extra, key)
}

func (r *reader) notebook(nb *Notebook) {
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "cells":
			nb.Cells = r.cells(&nb.Extra, key)
		case "metadata":
			if r.Peek() == '{' {
				nb.Metadata = NotebookMetadata{}
				r.notebookMetadata(&nb.Metadata)
				jsonscan.Fits(nb.Extra, key)
			} else {
				nb.Metadata = NotebookMetadata{}
				r.Keep(&nb.Extra, key)
			}
		case "nbformat":
			r.intField(&nb.NBFormat, &nb.Extra, key)
		case "nbformat_minor":
			r.intField(&nb.NBFormatMinor, &nb.Extra, key)
		default:
			r.Keep(&nb.Extra, key)
		}
	}
}

// cells reads the cells array; if it is not an array of objects, it is
// kept raw and no cells are returned.
func (r *reader) cells(extra *map[string]json.RawMessage, key []byte) []Cell {
	return list(r, extra, key, '{', r.cell)
}

func (r *reader) notebookMetadata(m *NotebookMetadata) {
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "kernelspec":
			m.Kernelspec = nil
			if r.Peek() == '{' {
				m.Kernelspec = new(KernelspecMetadata)
				r.kernelspec(m.Kernelspec)
				jsonscan.Fits(m.Extra, key)
			} else {
				r.Keep(&m.Extra, key)
			}
		case "language_info":
			m.LanguageInfo = nil
			if r.Peek() == '{' {
				m.LanguageInfo = new(LanguageInfo)
				r.languageInfo(m.LanguageInfo)
				jsonscan.Fits(m.Extra, key)
			} else {
				r.Keep(&m.Extra, key)
			}
		default:
			r.Keep(&m.Extra, key)
		}
	}
}

func (r *reader) kernelspec(k *KernelspecMetadata) {
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "name":
			r.Str(&k.Name, &k.Extra, key)
		case "display_name":
			r.Str(&k.DisplayName, &k.Extra, key)
		case "language":
			r.Str(&k.Language, &k.Extra, key)
		default:
			r.Keep(&k.Extra, key)
		}
	}
}

func (r *reader) languageInfo(l *LanguageInfo) {
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "name":
			r.Str(&l.Name, &l.Extra, key)
		case "version":
			r.Str(&l.Version, &l.Extra, key)
		case "file_extension":
			r.Str(&l.FileExtension, &l.Extra, key)
		case "mimetype":
			r.Str(&l.Mimetype, &l.Extra, key)
		case "pygments_lexer":
			r.Str(&l.PygmentsLexer, &l.Extra, key)
		case "nbconvert_exporter":
			r.Str(&l.NbconvertExporter, &l.Extra, key)
		case "codemirror_mode":
			l.CodemirrorMode = slices.Clone(r.Skip())
		default:
			r.Keep(&l.Extra, key)
		}
	}
}

func (r *reader) cell(c *Cell) {
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "id":
			r.Str(&c.ID, &c.Extra, key)
		case "cell_type":
			r.Str(&c.CellType, &c.Extra, key)
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
			r.Keep(&c.Extra, key)
		}
	}
}

// outputs reads a cell's outputs; if they are not an array of objects,
// they are kept raw and none are returned.
func (r *reader) outputs(extra *map[string]json.RawMessage, key []byte) []Output {
	return list(r, extra, key, '{', r.output)
}

// attachments reads {name: {mime: data}}; any other shape is kept raw.
func (r *reader) attachments(extra *map[string]json.RawMessage, key []byte) map[string]MIMEBundle {
	if r.Peek() == '{' {
		start, depth := r.Pos, r.Depth
		m := make(map[string]MIMEBundle)
		var n int
		r.OpenObject()
		for k := r.Member(&n); k != nil; k = r.Member(&n) {
			b, ok := r.rawMap()
			if !ok {
				m = nil
				r.Pos, r.Depth = start, depth
				break
			}
			m[string(k)] = b
		}
		if m != nil {
			jsonscan.Fits(*extra, key)
			return m
		}
	}
	r.Keep(extra, key)
	return nil
}

func (r *reader) output(o *Output) {
	var n int
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "output_type":
			r.Str(&o.OutputType, &o.Extra, key)
		case "name":
			r.Str(&o.Name, &o.Extra, key)
		case "text":
			r.multilineField(&o.Text, &o.Extra, key)
		case "data":
			r.rawMapField((*map[string]json.RawMessage)(&o.Data), &o.Extra, key)
		case "metadata":
			r.rawMapField((*map[string]json.RawMessage)(&o.Metadata), &o.Extra, key)
		case "execution_count":
			r.countField(&o.ExecutionCount, &o.Extra, key)
		case "ename":
			r.Str(&o.EName, &o.Extra, key)
		case "evalue":
			r.Str(&o.EValue, &o.Extra, key)
		case "traceback":
			o.Traceback = r.stringList(&o.Extra, key)
		default:
			r.Keep(&o.Extra, key)
		}
	}
}

// stringList reads a list of strings; anything else is kept raw.
func (r *reader) stringList(extra *map[string]json.RawMessage, key []byte) []string {
	return list(r, extra, key, '"', func(s *string) { *s = r.ReadString() })
}

// list reads an array whose every element starts with first ('{' for
// objects, '"' for strings), each with read. Any other value, or an array
// with another element, is kept raw in *extra and list returns nil.
func list[T any](r *reader, extra *map[string]json.RawMessage, key []byte, first byte, read func(*T)) []T {
	if r.Peek() == '[' {
		start, depth := r.Pos, r.Depth
		items := []T{}
		var n int
		r.OpenArray()
		for r.Element(&n) {
			if r.Peek() != first {
				items = nil
				r.Pos, r.Depth = start, depth
				break
			}
			var zero T
			items = append(items, zero)
			read(&items[len(items)-1])
		}
		if items != nil {
			jsonscan.Fits(*extra, key)
			return items
		}
	}
	r.Keep(extra, key)
	return nil
}
