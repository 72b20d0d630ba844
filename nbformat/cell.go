package nbformat

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
)

// Cell types of nbformat v4.
const (
	CellCode     = "code"
	CellMarkdown = "markdown"
	CellRaw      = "raw"
)

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
	Attachments map[string]MIMEBundle
	// ExecutionCount is a code cell's execution count; nil when it has
	// not run (JSON null).
	ExecutionCount *int
	// Outputs are a code cell's outputs.
	Outputs []Output
	// Extra holds unknown keys and ill-typed known ones, raw.
	Extra map[string]json.RawMessage
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

// UnmarshalJSON decodes one cell, keeping unknown keys in Extra.
func (c *Cell) UnmarshalJSON(data []byte) error {
	return decodeObject("cell", data, func(r *reader) {
		*c = Cell{}
		r.cell(c)
	})
}

// MarshalJSON encodes the cell with the keys its type requires.
func (c *Cell) MarshalJSON() ([]byte, error) {
	return encode(func(w *jsonWriter) { w.cell(c) })
}
