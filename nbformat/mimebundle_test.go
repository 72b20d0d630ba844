package nbformat

import (
	"encoding/json"
	"testing"
)

func TestMIMEBundleText(t *testing.T) {
	b := MIMEBundle{"text/plain": json.RawMessage(`"2"`), "text/html": json.RawMessage(`["<b>", "x</b>"]`),
		"application/json": json.RawMessage(`{"a": 1}`), "text/null": json.RawMessage(`null`),
		"text/holes": json.RawMessage(`["a", null]`), "text/bad": json.RawMessage(`"unterminated`)}
	for mime, want := range map[string]string{"text/plain": "2", "text/html": "<b>x</b>"} {
		if got, ok := b.Text(mime); !ok || got != want {
			t.Errorf("%s: %q %v", mime, got, ok)
		}
	}
	// Neither null nor a list with a null in it is text (encoding/json
	// would decode both without an error, as "" and "a").
	for _, mime := range []string{"application/json", "image/png", "text/null", "text/holes", "text/bad"} {
		if got, ok := b.Text(mime); ok {
			t.Errorf("%s is not text, got %q", mime, got)
		}
	}
}

func TestMIMEBundleSetText(t *testing.T) {
	b := MIMEBundle{}
	b.SetText("text/html", "<b>\"é\"\n</b>")
	// Not HTML-escaped, as Jupyter writes it.
	if got := string(b["text/html"]); got != `"<b>\"é\"\n</b>"` {
		t.Errorf("raw %s", got)
	}
	if got, ok := b.Text("text/html"); !ok || got != "<b>\"é\"\n</b>" {
		t.Errorf("text %q %v", got, ok)
	}
}
