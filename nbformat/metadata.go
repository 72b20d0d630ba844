package nbformat

import (
	"bytes"
	"encoding/json"
)

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

// LanguageInfo describes a kernel's language. It is one JSON shape in two
// places: a notebook's metadata.language_info and a kernel_info_reply's
// language_info. Keys it does not know, and known keys whose value is not
// a string, are kept raw in Extra and written back.
type LanguageInfo struct {
	// Name is the language, such as "python".
	Name string
	// Version is the language's version, such as "3.11.2".
	Version string
	// FileExtension is the extension of its source files, such as ".py".
	FileExtension string
	// Mimetype is the MIME type of its source files, such as
	// "text/x-python".
	Mimetype string
	// PygmentsLexer names the lexer for highlighting, such as "ipython3".
	PygmentsLexer string
	// NbconvertExporter names nbconvert's exporter, such as "python".
	NbconvertExporter string
	// CodemirrorMode is a mode name or an object; kept raw, as sent.
	CodemirrorMode json.RawMessage
	// Extra holds other keys, raw.
	Extra map[string]json.RawMessage
}

// UnmarshalJSON decodes a language_info object, keeping unknown keys in
// Extra. JSON null leaves l unchanged, as encoding/json does for a struct.
func (l *LanguageInfo) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	return decodeObject("language_info", data, func(r *reader) {
		*l = LanguageInfo{}
		r.languageInfo(l)
	})
}

// MarshalJSON encodes the language_info object as a notebook stores it:
// name always, the other known keys when set, then Extra.
func (l LanguageInfo) MarshalJSON() ([]byte, error) {
	return encode(func(w *jsonWriter) { w.languageInfo(&l) })
}
