package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redactor removes a token from what a server sends back. A server may
// echo the token in an error message, escaped as its JSON or HTML encoder
// escapes: Go's (\u003c), Python's ensure_ascii (\u00f6, \ud83d\ude00),
// Tornado's "<\/" (or every "/" as "\/"), an HTML attribute's &lt; (with
// ' as &#39; or Python's &#x27;) or a URL's %3C. Raw bodies are
// redacted in each of those forms, and decoded text once more after
// decoding, which catches any escaping that decodes to the token.
type redactor struct {
	token string
	forms [][]byte // longest first, so a form containing another goes first
}

// newRedactor returns nil for an empty token: nothing to redact.
func newRedactor(token string) *redactor {
	if token == "" {
		return nil
	}
	seen := map[string]bool{}
	r := &redactor{token: token}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			r.forms = append(r.forms, []byte(s))
		}
		for _, t := range []string{
			strings.ReplaceAll(s, "</", `<\/`), // Tornado's json_encode
			strings.ReplaceAll(s, "/", `\/`),   // JSON encoders that escape every "/"
		} {
			if t != s && !seen[t] {
				seen[t] = true
				r.forms = append(r.forms, []byte(t))
			}
		}
	}
	add(token)
	goJSON, _ := json.Marshal(token) // escapes <, >, & as \u003c …
	add(string(goJSON[1 : len(goJSON)-1]))
	var plain bytes.Buffer
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(token)
	p := bytes.TrimSpace(plain.Bytes())
	add(string(p[1 : len(p)-1]))
	add(pythonJSON(token))
	add(html.EscapeString(token))
	add(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(token))
	add(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace(token)) // Python's html.escape
	add(url.QueryEscape(token))
	add(url.PathEscape(token))
	for i := 1; i < len(r.forms); i++ { // insertion sort, longest first
		for j := i; j > 0 && len(r.forms[j]) > len(r.forms[j-1]); j-- {
			r.forms[j], r.forms[j-1] = r.forms[j-1], r.forms[j]
		}
	}
	return r
}

// pythonJSON is the inside of json.dumps(s) with ensure_ascii, Python's
// default: non-ASCII as \uXXXX (surrogate pairs past U+FFFF).
func pythonJSON(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r >= 0x7f && r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		case r >= 0x10000:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// bytes returns b with every form of the token replaced by [REDACTED].
func (r *redactor) bytes(b []byte) []byte {
	if r == nil {
		return b
	}
	for _, f := range r.forms {
		if bytes.Contains(b, f) {
			b = bytes.ReplaceAll(b, f, []byte(redacted))
		}
	}
	return b
}

// string returns s, decoded text, with the token replaced.
func (r *redactor) string(s string) string {
	if r == nil {
		return s
	}
	return strings.ReplaceAll(s, r.token, redacted)
}

// maxErrorText caps the server's text in Error(); the fields keep it all.
const maxErrorText = 300

// OneLine makes server text safe for a one-line error message: control
// characters (newlines, escape sequences) are quoted, and text past
// maxErrorText bytes is cut at a rune boundary and marked.
func OneLine(s string) string {
	cut := false
	if len(s) > maxErrorText {
		n := maxErrorText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) || r == utf8.RuneError { // control, format (bidi) and invalid
			s = strconv.QuoteToGraphic(s)
			break
		}
	}
	if cut {
		s += "… (truncated)"
	}
	return s
}
