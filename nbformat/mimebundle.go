package nbformat

import (
	"encoding/json"

	"github.com/nbserv/go-nbserv/internal/jsonscan"
)

// MIMEBundle maps MIME types ("text/plain", "image/png", ...) to
// representations of one value, each kept raw as it was sent: text as a
// JSON string (a notebook file may split it into a list of lines), images
// as base64 strings, JSON types ("application/json") as any JSON. An
// output's data, a cell's attachment and a kernel message's data are
// each one.
type MIMEBundle map[string]json.RawMessage

// Text returns the content of a text type, such as "text/plain" or
// "text/html", joining a list of lines; ok is false when the type is
// absent or not a string or list of strings (null included).
func (b MIMEBundle) Text(mime string) (text string, ok bool) {
	raw, found := b[mime]
	if !found {
		return "", false
	}
	r := reader{jsonscan.Reader{Data: raw}}
	text, ok = r.multiline()
	r.End()
	return text, ok && r.Err == nil
}

// SetText stores text under mime as a JSON string.
func (b MIMEBundle) SetText(mime, text string) {
	b[mime] = jsonscan.AppendQuoted(nil, text)
}
