package refserver

// Notebooks as Jupyter Server 1.23.3 (with nbformat 5.5) saves and reads
// them: the file is Python's json.dumps(indent=1, sort_keys=True) with
// multi-line strings split into lists; a save signs the notebook when all
// its code cells are trusted; reads mark code cells trusted when the
// notebook's signature is known; nbformat 4.5 cells without an id get a
// random one; and a notebook that fails the schema is still saved, with a
// "Notebook validation failed" message in the model.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// nbSaveError is an exception Python raises while saving a notebook: the
// handler turns it into 500 "Unexpected error while saving file: <path>
// <str(exception)>".
type nbSaveError string

func (e nbSaveError) Error() string { return string(e) }

// pyIndexError is the TypeError Python gives for container[key] on a
// value that is not a dict.
func pyIndexError(v any) nbSaveError {
	switch v.(type) {
	case string:
		return "string indices must be integers, not 'str'"
	case []any:
		return "list indices must be integers or slices, not str"
	}
	return nbSaveError(fmt.Sprintf("'%s' object is not subscriptable", pyType(v)))
}

func pyIntValue(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	case bool:
		if n {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// isJSONInt is a number Python reads as an int (not a bool).
func isJSONInt(v any) bool {
	n, ok := v.(json.Number)
	return ok && !strings.ContainsAny(string(n), ".eE")
}

// prepareNotebook does what saving does to the notebook before writing it
// (nbformat.from_dict, check_and_sign, validate): it returns the signature
// to record when the notebook is trusted, and the validation message.
func prepareNotebook(content any, minorOut *int64) (nb map[string]any, digest string, msg string, err error) {
	nb, ok := content.(map[string]any)
	if !ok {
		return nil, "", "", nbSaveError(fmt.Sprintf("'%s' object has no attribute 'nbformat'", pyType(content)))
	}
	ver, ok := nb["nbformat"]
	if !ok {
		return nil, "", "", nbSaveError("nbformat")
	}
	major, ok := pyIntValue(ver)
	if !ok {
		return nil, "", "", nbSaveError(fmt.Sprintf("'<' not supported between instances of '%s' and 'int'", pyType(ver)))
	}
	switch {
	case major == 3:
		if _, ok := nb["worksheets"]; !ok {
			return nil, "", "", nbSaveError("'worksheets'")
		}
		return nil, "", "", nbSaveError("nbformat 3 notebooks are not supported by the reference server")
	case major != 4:
		return nil, "", "", nbSaveError(fmt.Sprint(major))
	}
	// check_cells: every code cell is trusted, explicitly or by having no
	// rich output; it pops "trusted" from code cells as it goes.
	cellsV, ok := nb["cells"]
	if !ok {
		return nil, "", "", nbSaveError("'cells'")
	}
	cells, err := iterCells(cellsV)
	if err != nil {
		return nil, "", "", err
	}
	trusted := true
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			return nil, "", "", pyIndexError(c)
		}
		ct, ok := cell["cell_type"]
		if !ok {
			return nil, "", "", nbSaveError("'cell_type'")
		}
		if ct != "code" {
			continue
		}
		mdV, ok := cell["metadata"]
		if !ok {
			return nil, "", "", nbSaveError("'metadata'")
		}
		md, ok := mdV.(map[string]any)
		if !ok {
			if _, isList := mdV.([]any); isList {
				return nil, "", "", nbSaveError("pop expected at most 1 argument, got 2")
			}
			return nil, "", "", nbSaveError(fmt.Sprintf("'%s' object has no attribute 'pop'", pyType(mdV)))
		}
		t, had := md["trusted"]
		delete(md, "trusted")
		if had && truthy(t) {
			continue
		}
		outsV, ok := cell["outputs"]
		if !ok {
			return nil, "", "", nbSaveError("'outputs'")
		}
		outs, ok := outsV.([]any)
		if !ok {
			return nil, "", "", nbSaveError(fmt.Sprintf("'%s' object is not iterable", pyType(outsV)))
		}
		for _, o := range outs {
			out, ok := o.(map[string]any)
			if !ok {
				return nil, "", "", pyIndexError(o)
			}
			ot, ok := out["output_type"]
			if !ok {
				return nil, "", "", nbSaveError("'output_type'")
			}
			if ot == "execute_result" || ot == "display_data" {
				for k := range out {
					if k != "output_type" && k != "execution_count" && k != "metadata" {
						trusted = false
					}
				}
			}
		}
	}
	if trusted {
		md, ok := nb["metadata"].(map[string]any)
		if _, present := nb["metadata"]; !present {
			return nil, "", "", nbSaveError("'metadata'")
		} else if !ok {
			return nil, "", "", nbSaveError(fmt.Sprintf("'%s' object has no attribute 'pop'", pyType(nb["metadata"])))
		}
		digest = nbDigest(nb, md)
	}
	// writes: get_version, then validate, which first gives 4.5 cells ids.
	var minor int64
	if mv, ok := nb["nbformat_minor"]; ok && truthy(mv) {
		if !isJSONInt(mv) {
			return nil, "", "", nbSaveError("") // an AssertionError, which prints as nothing
		}
		minor, _ = pyIntValue(mv)
	}
	*minorOut = minor
	if minor >= 5 {
		seen := map[string]bool{}
		for _, c := range cells {
			cell := c.(map[string]any)
			id, has := cell["id"]
			if !has {
				cell["id"] = newCellID()
				continue
			}
			if s, ok := id.(string); ok {
				if seen[s] {
					cell["id"] = newCellID()
					continue
				}
				seen[s] = true
			}
		}
	}
	msg = validateNotebook(nb, minor)
	// strip_transient, as the writer does, fails on cells without metadata.
	if _, ok := nb["metadata"].(map[string]any); !ok {
		return nil, "", "", nbSaveError("metadata")
	}
	for _, c := range cells {
		if _, ok := c.(map[string]any)["metadata"].(map[string]any); !ok {
			return nil, "", "", nbSaveError("metadata")
		}
	}
	return nb, digest, msg, nil
}

// iterCells is Python's "for cell in nb['cells']": a list's items, an
// empty dict or string gives nothing, a non-empty one yields strings that
// fail as cells.
func iterCells(v any) ([]any, error) {
	switch v := v.(type) {
	case []any:
		return v, nil
	case map[string]any:
		if len(v) == 0 {
			return nil, nil
		}
		return nil, nbSaveError("string indices must be integers, not 'str'")
	case string:
		if v == "" {
			return nil, nil
		}
		return nil, nbSaveError("string indices must be integers, not 'str'")
	}
	return nil, nbSaveError(fmt.Sprintf("'%s' object is not iterable", pyType(v)))
}

// newCellID is nbformat's generate_corpus_id: 8 random hex digits.
func newCellID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// nbDigest stands in for the notary's HMAC: a hash over the same byte
// stream (nbformat's yield_everything) of the notebook without its
// signature. The store is the server's own, so no secret is needed.
func nbDigest(nb, md map[string]any) string {
	sig, had := md["signature"]
	delete(md, "signature")
	h := sha256.New()
	hashEverything(h, nb)
	if had {
		md["signature"] = sig
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashEverything(h hash.Hash, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			h.Write([]byte(k))
			hashEverything(h, v[k])
		}
	case []any:
		for _, x := range v {
			hashEverything(h, x)
		}
	case string:
		h.Write([]byte(v))
	case json.Number:
		h.Write([]byte(pyNumberText(string(v))))
	default:
		h.Write([]byte(pyStr(v)))
	}
}

// writeNotebook is nbformat's JSON writer: a copy with multi-line
// strings split into lists and transient keys removed, dumped with
// indent=1 and sorted keys, ending in a newline.
func writeNotebook(nb map[string]any) []byte {
	var buf bytes.Buffer
	writePyJSON(&buf, splitForWrite(nb), 0)
	buf.WriteByte('\n')
	return buf.Bytes()
}

// splitForWrite returns the notebook as written: it shares unchanged
// values with nb and never modifies it.
func splitForWrite(nb map[string]any) map[string]any {
	out := shallow(nb)
	if md, ok := nb["metadata"].(map[string]any); ok {
		md = shallow(md)
		delete(md, "orig_nbformat")
		delete(md, "orig_nbformat_minor")
		delete(md, "signature")
		out["metadata"] = md
	}
	cells, _ := nb["cells"].([]any)
	newCells := make([]any, len(cells))
	for i, c := range cells {
		cell := shallow(c.(map[string]any))
		if md, ok := cell["metadata"].(map[string]any); ok {
			md = shallow(md)
			delete(md, "trusted")
			cell["metadata"] = md
		}
		if s, ok := cell["source"].(string); ok {
			cell["source"] = splitLinesKeep(s)
		}
		if att, ok := cell["attachments"].(map[string]any); ok {
			att = shallow(att)
			for k, b := range att {
				if bundle, ok := b.(map[string]any); ok {
					att[k] = splitBundle(bundle)
				}
			}
			cell["attachments"] = att
		}
		if cell["cell_type"] == "code" {
			if outs, ok := cell["outputs"].([]any); ok {
				newOuts := make([]any, len(outs))
				for j, o := range outs {
					newOuts[j] = o
					out, ok := o.(map[string]any)
					if !ok {
						continue
					}
					switch out["output_type"] {
					case "execute_result", "display_data":
						if data, ok := out["data"].(map[string]any); ok {
							out = shallow(out)
							out["data"] = splitBundle(data)
						}
					case "stream":
						if text, ok := out["text"].(string); ok {
							out = shallow(out)
							out["text"] = splitLinesKeep(text)
						}
					}
					newOuts[j] = out
				}
				cell["outputs"] = newOuts
			}
		}
		newCells[i] = cell
	}
	if cells != nil {
		out["cells"] = newCells
	}
	return out
}

func shallow(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func splitBundle(data map[string]any) map[string]any {
	out := shallow(data)
	for k, v := range data {
		if s, ok := v.(string); ok && (strings.HasPrefix(k, "text/") || k == "application/javascript" || k == "image/svg+xml") {
			out[k] = splitLinesKeep(s)
		}
	}
	return out
}

// splitLinesKeep is str.splitlines(True) as nbformat uses it.
func splitLinesKeep(s string) []any {
	out := []any{}
	start := 0
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if s[i] >= 0x80 {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		end := -1
		switch r {
		case '\n', '\v', '\f', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029':
			end = i + size
		case '\r':
			end = i + 1
			if i+1 < len(s) && s[i+1] == '\n' {
				end = i + 2
			}
		}
		if end >= 0 {
			out = append(out, s[start:end])
			start, i = end, end
			continue
		}
		i += size
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// rejoinLines undoes the split on a notebook read from a file, in place.
func rejoinLines(nb map[string]any) {
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if src, ok := cell["source"].([]any); ok {
			cell["source"] = joinStrings(src)
		}
		if att, ok := cell["attachments"].(map[string]any); ok {
			for _, b := range att {
				if bundle, ok := b.(map[string]any); ok {
					joinBundle(bundle)
				}
			}
		}
		if cell["cell_type"] != "code" {
			continue
		}
		outs, _ := cell["outputs"].([]any)
		for _, o := range outs {
			out, ok := o.(map[string]any)
			if !ok {
				continue
			}
			switch out["output_type"] {
			case "execute_result", "display_data":
				if data, ok := out["data"].(map[string]any); ok {
					joinBundle(data)
				}
			case "stream":
				if text, ok := out["text"].([]any); ok {
					out["text"] = joinStrings(text)
				}
			}
		}
	}
}

func joinBundle(data map[string]any) {
	for k, v := range data {
		jsonMime := k == "application/json" || (strings.HasPrefix(k, "application/") && strings.HasSuffix(k, "+json"))
		if l, ok := v.([]any); ok && !jsonMime {
			if s, ok := joinStrings(l).(string); ok {
				data[k] = s
			}
		}
	}
}

func joinStrings(l []any) any {
	var b strings.Builder
	for _, x := range l {
		s, ok := x.(string)
		if !ok {
			return l // Python's "".join would fail; nbformat leaves such lists to validation
		}
		b.WriteString(s)
	}
	return b.String()
}

// readNotebook parses a notebook file as nbformat.read does; the error is
// the repr of the exception Jupyter prints after "Unreadable Notebook".
// gen is the Jupyter Server generation, whose nbformat words it.
func readNotebook(data []byte, gen int) (map[string]any, int64, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, terr := dec.Token(); terr == nil {
			err = fmt.Errorf("extra data")
		}
	}
	if err != nil {
		s := pyStrRepr(string(data))
		r := []rune("Notebook does not appear to be JSON: " + s)
		if gen >= 2 { // 2.x's nbformat shortens only a message over 80 characters
			if len(r) > 80 {
				r = append(r[:77], []rune("...")...)
			}
			return nil, 0, fmt.Errorf("NotJSONError(%s)", pyStrRepr(string(r)))
		}
		if len(r) > 77 {
			r = r[:77]
		}
		return nil, 0, fmt.Errorf("NotJSONError(%s)", pyStrRepr(string(r)+"..."))
	}
	nb, ok := v.(map[string]any)
	if !ok {
		return nil, 0, fmt.Errorf("AttributeError(\"'%s' object has no attribute 'get'\")", pyType(v))
	}
	major := int64(1)
	if mv, ok := nb["nbformat"]; ok {
		major, _ = pyIntValue(mv)
	}
	invalid := func(msg string) error { return fmt.Errorf("<ValidationError: %s>", pyStrRepr(msg)) }
	switch {
	case major == 1:
		return nil, 0, invalid("Notebook could not be converted from version 1 to version 2 because it's missing a key: cells")
	case major == 3:
		return nil, 0, invalid("The notebook is invalid and is missing an expected key: worksheets")
	case major != 4:
		return nil, 0, fmt.Errorf("NBFormatError('Unsupported nbformat version %d')", major)
	}
	if _, ok := nb["cells"]; !ok {
		return nil, 0, invalid("The notebook is invalid and is missing an expected key: cells")
	}
	var minor int64
	if mv, ok := nb["nbformat_minor"]; ok {
		minor, _ = pyIntValue(mv)
	}
	normalizeNumbers(nb)
	rejoinLines(nb)
	if md, ok := nb["metadata"].(map[string]any); ok {
		delete(md, "orig_nbformat")
		delete(md, "orig_nbformat_minor")
		delete(md, "signature")
	}
	cells, _ := nb["cells"].([]any)
	seen := map[string]bool{}
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok {
			continue
		}
		if md, ok := cell["metadata"].(map[string]any); ok {
			delete(md, "trusted")
		}
		if minor >= 5 {
			id, has := cell["id"]
			s, _ := id.(string)
			if !has || (s != "" && seen[s]) {
				cell["id"] = newCellID()
			} else if s != "" {
				seen[s] = true
			}
		}
	}
	return nb, minor, nil
}

// normalizeNumbers rewrites numbers as Python would print them back.
func normalizeNumbers(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if n, ok := x.(json.Number); ok {
				v[k] = json.Number(pyNumberText(string(n)))
			} else {
				normalizeNumbers(x)
			}
		}
	case []any:
		for i, x := range v {
			if n, ok := x.(json.Number); ok {
				v[i] = json.Number(pyNumberText(string(n)))
			} else {
				normalizeNumbers(x)
			}
		}
	}
}

// markTrusted sets metadata.trusted on every code cell.
func markTrusted(nb map[string]any, trusted bool) {
	cells, _ := nb["cells"].([]any)
	for _, c := range cells {
		cell, ok := c.(map[string]any)
		if !ok || cell["cell_type"] != "code" {
			continue
		}
		if md, ok := cell["metadata"].(map[string]any); ok {
			md["trusted"] = trusted
		}
	}
}

// ---- Python's json.dumps(indent=1, sort_keys=True, ensure_ascii=False) ----

func writePyJSON(b *bytes.Buffer, v any, depth int) {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(pyNumberText(string(v)))
	case string:
		writePyString(b, v)
	case []any:
		if len(v) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[")
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, depth+1)
			writePyJSON(b, x, depth+1)
		}
		newline(b, depth)
		b.WriteString("]")
	case map[string]any:
		if len(v) == 0 {
			b.WriteString("{}")
			return
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, depth+1)
			writePyString(b, k)
			b.WriteString(": ")
			writePyJSON(b, v[k], depth+1)
		}
		newline(b, depth)
		b.WriteString("}")
	default:
		j, _ := json.Marshal(v)
		b.Write(j)
	}
}

func newline(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	for i := 0; i < depth; i++ {
		b.WriteByte(' ')
	}
}

func writePyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if c < 0x20 {
				fmt.Fprintf(b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

// ---- validation: the checks of the nbformat 4 schema that notebooks
// commonly fail, with fastjsonschema's first message ----

var cellIDRE = regexp.MustCompile(`^[a-zA-Z0-9-_]+$`)

type schemaError struct{ name, msg string }

// validateNotebook returns "" for a valid notebook, or the message Jupyter
// adds to the model.
func validateNotebook(nb map[string]any, minor int64) string {
	e := checkNotebook(nb, minor)
	if e == nil {
		return ""
	}
	parts := regexp.MustCompile(`[.\[\]]+`).Split(e.name, -1)
	var comps []string
	for _, p := range parts {
		if p != "" {
			comps = append(comps, p)
		}
	}
	where := "notebook"
	for _, c := range comps[:len(comps)-1] {
		where += "[" + pyStrRepr(c) + "]"
	}
	return fmt.Sprintf("Notebook validation failed: %s %s\n\nFailed validating <unset> in %s:\n\nOn instance:\n<unset>:\n\"<UNKNOWN>\"", e.name, e.msg, where)
}

func pyListRepr(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = pyStrRepr(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func requireKeys(m map[string]any, name string, keys ...string) *schemaError {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return &schemaError{name, "must contain " + pyListRepr(keys) + " properties"}
		}
	}
	return nil
}

func checkNotebook(nb map[string]any, minor int64) *schemaError {
	if e := requireKeys(nb, "data", "metadata", "nbformat_minor", "nbformat", "cells"); e != nil {
		return e
	}
	md, ok := nb["metadata"].(map[string]any)
	if !ok {
		return &schemaError{"data.metadata", "must be object"}
	}
	if ks, ok := md["kernelspec"]; ok {
		k, ok := ks.(map[string]any)
		if !ok {
			return &schemaError{"data.metadata.kernelspec", "must be object"}
		}
		if e := requireKeys(k, "data.metadata.kernelspec", "name", "display_name"); e != nil {
			return e
		}
		for _, f := range []string{"name", "display_name"} {
			if _, ok := k[f].(string); !ok {
				return &schemaError{"data.metadata.kernelspec." + f, "must be string"}
			}
		}
	}
	if li, ok := md["language_info"]; ok {
		l, ok := li.(map[string]any)
		if !ok {
			return &schemaError{"data.metadata.language_info", "must be object"}
		}
		if e := requireKeys(l, "data.metadata.language_info", "name"); e != nil {
			return e
		}
		if _, ok := l["name"].(string); !ok {
			return &schemaError{"data.metadata.language_info.name", "must be string"}
		}
	}
	if !isJSONInt(nb["nbformat_minor"]) {
		return &schemaError{"data.nbformat_minor", "must be integer"}
	}
	if m, _ := pyIntValue(nb["nbformat_minor"]); m < 0 {
		return &schemaError{"data.nbformat_minor", "must be bigger than or equal to 0"}
	}
	if !isJSONInt(nb["nbformat"]) {
		return &schemaError{"data.nbformat", "must be integer"}
	}
	cells, ok := nb["cells"].([]any)
	if !ok {
		return &schemaError{"data.cells", "must be array"}
	}
	for i, c := range cells {
		if !validCell(c, minor) {
			return &schemaError{fmt.Sprintf("data.cells[%d]", i), "must be valid exactly by one definition (0 matches found)"}
		}
	}
	var extra []string
	for k := range nb {
		switch k {
		case "metadata", "nbformat_minor", "nbformat", "cells":
		default:
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		// Python prints a set, whose order varies between runs; one name
		// reads the same either way.
		sort.Strings(extra)
		q := make([]string, len(extra))
		for i, s := range extra {
			q[i] = pyStrRepr(s)
		}
		return &schemaError{"data", "must not contain {" + strings.Join(q, ", ") + "} properties"}
	}
	return nil
}

// validCell reports whether a cell matches the raw, markdown or code cell
// definition of the schema (the checks that matter in practice).
func validCell(c any, minor int64) bool {
	cell, ok := c.(map[string]any)
	if !ok {
		return false
	}
	allowed := map[string]bool{"cell_type": true, "metadata": true, "source": true}
	required := []string{"cell_type", "metadata", "source"}
	if minor >= 5 {
		allowed["id"] = true
		required = append(required, "id")
	}
	switch cell["cell_type"] {
	case "raw", "markdown":
		allowed["attachments"] = true
	case "code":
		allowed["outputs"], allowed["execution_count"] = true, true
		required = append(required, "outputs", "execution_count")
	default:
		return false
	}
	for _, k := range required {
		if _, ok := cell[k]; !ok {
			return false
		}
	}
	for k := range cell {
		if !allowed[k] {
			return false
		}
	}
	if minor >= 5 {
		id, ok := cell["id"].(string)
		if !ok || len(id) == 0 || len(id) > 64 || !cellIDRE.MatchString(id) {
			return false
		}
	}
	if _, ok := cell["metadata"].(map[string]any); !ok {
		return false
	}
	if !multiline(cell["source"]) {
		return false
	}
	if a, ok := cell["attachments"]; ok {
		if _, ok := a.(map[string]any); !ok {
			return false
		}
	}
	if cell["cell_type"] != "code" {
		return true
	}
	if ec := cell["execution_count"]; ec != nil {
		if !isJSONInt(ec) {
			return false
		}
		if n, _ := pyIntValue(ec); n < 0 {
			return false
		}
	}
	outs, ok := cell["outputs"].([]any)
	if !ok {
		return false
	}
	for _, o := range outs {
		if !validOutput(o) {
			return false
		}
	}
	return true
}

func multiline(v any) bool {
	switch v := v.(type) {
	case string:
		return true
	case []any:
		for _, x := range v {
			if _, ok := x.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

func validOutput(o any) bool {
	out, ok := o.(map[string]any)
	if !ok {
		return false
	}
	var required, optional []string
	switch out["output_type"] {
	case "execute_result":
		required, optional = []string{"output_type", "data", "metadata", "execution_count"}, nil
	case "display_data":
		required, optional = []string{"output_type", "data", "metadata"}, []string{"transient"}
	case "stream":
		required = []string{"output_type", "name", "text"}
	case "error":
		required = []string{"output_type", "ename", "evalue", "traceback"}
	default:
		return false
	}
	allowed := map[string]bool{}
	for _, k := range append(append([]string{}, required...), optional...) {
		allowed[k] = true
	}
	for _, k := range required {
		if _, ok := out[k]; !ok {
			return false
		}
	}
	for k := range out {
		if !allowed[k] {
			return false
		}
	}
	switch out["output_type"] {
	case "stream":
		_, ok := out["name"].(string)
		return ok && multiline(out["text"])
	case "error":
		_, ok1 := out["ename"].(string)
		_, ok2 := out["evalue"].(string)
		tb, ok3 := out["traceback"].([]any)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		for _, x := range tb {
			if _, ok := x.(string); !ok {
				return false
			}
		}
		return true
	}
	if _, ok := out["data"].(map[string]any); !ok {
		return false
	}
	if _, ok := out["metadata"].(map[string]any); !ok {
		return false
	}
	if out["output_type"] == "execute_result" {
		if ec := out["execution_count"]; ec != nil && !isJSONInt(ec) {
			return false
		}
	}
	return true
}
