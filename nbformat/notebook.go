package nbformat

import "encoding/json"

// Notebook is a Jupyter notebook in nbformat v4, as a server's contents
// API sends and receives it, or as an .ipynb file holds it.
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

// New returns an empty nbformat 4.5 notebook with the given cells.
func New(cells ...Cell) *Notebook {
	return &Notebook{NBFormat: 4, NBFormatMinor: 5, Cells: cells}
}

// Parse decodes a notebook (the content of an .ipynb file, or of a
// contents model). It fails only on invalid JSON or a document that is not
// a JSON object; anything else is kept (see Notebook).
func Parse(data []byte) (*Notebook, error) {
	nb := new(Notebook)
	if err := nb.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return nb, nil
}

// ParsePrefix decodes the notebook that starts data (after any
// whitespace) and returns the number of bytes it took; what follows is
// left unread. It is for a notebook inside a larger JSON document, such as
// a contents model's content, which a decoder of that document can then
// read in one pass. Errors are Parse's.
func ParsePrefix(data []byte) (*Notebook, int, error) {
	nb := new(Notebook)
	n, err := decode("notebook", data, false, func(r *reader) { r.notebook(nb) })
	if err != nil {
		return nil, 0, err
	}
	return nb, n, nil
}

// UnmarshalJSON decodes a notebook; see Parse.
func (nb *Notebook) UnmarshalJSON(data []byte) error {
	return decodeObject("notebook", data, func(r *reader) {
		*nb = Notebook{}
		r.notebook(nb)
	})
}

// MarshalJSON encodes the notebook; see Notebook for what is kept.
func (nb *Notebook) MarshalJSON() ([]byte, error) {
	return encode(func(w *jsonWriter) { w.notebook(nb) })
}
