package transport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// redactor removes the credentials (the token and Config.Header's
// values) from what a server sends back. A server may echo one in an
// error message, escaped as its JSON or HTML encoder escapes: Go's
// (\u003c), Python's ensure_ascii (\u00f6, \ud83d\ude00), Tornado's
// "<\/" (or every "/" as "\/"), an HTML attribute's &lt; (with ' as
// &#39; or Python's &#x27;) or a URL's %3C. Raw bodies are redacted in
// each of those forms, and decoded text once more after decoding, which
// catches any escaping that decodes to a secret.
type redactor struct {
	secrets []string // longest first
	forms   [][]byte // every secret's forms, longest first, so a form containing another goes first
}

// newRedactor returns nil when there is nothing to redact: no token and
// no credential in header.
func newRedactor(token string, header http.Header) *redactor {
	secrets := append([]string{token}, headerSecrets(header)...)
	seen := map[string]bool{}
	r := &redactor{}
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
	for _, secret := range secrets {
		if secret == "" || slices.Contains(r.secrets, secret) {
			continue
		}
		r.secrets = append(r.secrets, secret)
		add(secret)
		goJSON, _ := json.Marshal(secret) // escapes <, >, & as \u003c …
		add(string(goJSON[1 : len(goJSON)-1]))
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(secret)
		p := bytes.TrimSpace(plain.Bytes())
		add(string(p[1 : len(p)-1]))
		add(pythonJSON(secret))
		add(html.EscapeString(secret))
		add(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(secret))
		add(strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#x27;").Replace(secret)) // Python's html.escape
		add(url.QueryEscape(secret))
		add(url.PathEscape(secret))
	}
	if len(r.secrets) == 0 {
		return nil
	}
	longestFirst := func(a, b int) int { return b - a }
	slices.SortStableFunc(r.forms, func(a, b []byte) int { return longestFirst(len(a), len(b)) })
	slices.SortStableFunc(r.secrets, func(a, b string) int { return longestFirst(len(a), len(b)) })
	return r
}

// notSecret names the request headers whose values describe the request
// rather than prove who sends it; every other Config.Header value counts
// as a credential (Authorization, Cookie, X-Api-Key, a proxy's own). These
// are left out of redaction because their values are common words that
// an error message would lose ("application/json"), or, for Origin (set
// to pass Jupyter's check_origin), the server's own scheme, host and
// port, which every URL a message quotes begins with.
var notSecret = map[string]bool{
	"Accept": true, "Accept-Encoding": true, "Accept-Language": true, "Cache-Control": true,
	"Content-Type": true, "Origin": true, "User-Agent": true,
}

// minHeaderSecret is the shortest header value (or part of one) that is
// redacted: shorter ones ("1", "on") are no credential anyone could use,
// and replacing them everywhere would garble every message.
const minHeaderSecret = 4

// headerSecrets returns the credentials in h: each value whole, and the
// parts a server may echo alone: an Authorization's credentials after its
// scheme ("Bearer T" → "T"), and each cookie's value.
func headerSecrets(h http.Header) []string {
	var out []string
	for k, vs := range h {
		k = http.CanonicalHeaderKey(k)
		if notSecret[k] {
			continue
		}
		for _, v := range vs {
			v = strings.TrimSpace(v)
			out = append(out, v)
			switch k {
			case "Authorization", "Proxy-Authorization":
				if _, cred, ok := strings.Cut(v, " "); ok {
					out = append(out, strings.TrimSpace(cred))
				}
			case "Cookie":
				for _, c := range strings.Split(v, ";") {
					if _, val, ok := strings.Cut(c, "="); ok {
						out = append(out, strings.Trim(strings.TrimSpace(val), `"`))
					}
				}
			}
		}
	}
	return slices.DeleteFunc(out, func(s string) bool { return len(s) < minHeaderSecret })
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

// bytes returns b with every form of every secret replaced by [REDACTED].
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

// header returns a copy of h with every form of every secret removed from
// its values, as from a body: a response header may echo one (a login
// redirect's next=). h is returned as it is when nothing is redacted.
func (r *redactor) header(h http.Header) http.Header {
	if r == nil || h == nil {
		return h
	}
	out := make(http.Header, len(h))
	for k, vs := range h {
		out[k] = make([]string, len(vs))
		for i, v := range vs {
			out[k][i] = r.string(string(r.bytes([]byte(v))))
		}
	}
	return out
}

// string returns s, decoded text, with every secret replaced.
func (r *redactor) string(s string) string {
	if r == nil {
		return s
	}
	for _, secret := range r.secrets {
		s = strings.ReplaceAll(s, secret, redacted)
	}
	return s
}

// contains reports whether s holds a secret as it is.
func (r *redactor) contains(s string) bool {
	if r == nil {
		return false
	}
	for _, secret := range r.secrets {
		if strings.Contains(s, secret) {
			return true
		}
	}
	return false
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
