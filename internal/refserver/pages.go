package refserver

// Answers of Jupyter's non-API handlers (spec.yaml, kernelspec resources):
// HTML error pages rather than JSON, and a redirect to the login page
// rather than a 403 when the token is missing.

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// htmlError writes Jupyter's HTML error page for status. Like Jupyter's
// template it shows the message (when there is one) under "The error
// was:", except on a 404, which is always the plain "page does not exist"
// page.
func (s *Server) htmlError(w http.ResponseWriter, r *http.Request, status int, message string) {
	if status == http.StatusNotFound {
		s.notFoundPage(w, r)
		return
	}
	tokenAttr := ""
	if s.token != nil && s.authorized(r) {
		tokenAttr = fmt.Sprintf(` data-jupyter-api-token="%s"`, s.token)
	}
	detail := ""
	if message != "" {
		detail = fmt.Sprintf(errorDetailHTML, xhtmlEscape(message))
	}
	page := fmt.Sprintf(errorHTML, s.prefix, tokenAttr, status, http.StatusText(status), detail)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", fmt.Sprint(len(page)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, page)
}

const errorHTML = `<!DOCTYPE HTML>
<html>
<head>
    <meta charset="utf-8">
    <title>Jupyter Server</title>
    <link rel="stylesheet" href="%sstatic/style/index.css" />
</head>
<body class=""%s dir="ltr">
  <div id="site">
<div class="error">
    <h1>%d : %s</h1>
%s</div>
  </div>
</body>
</html>
`

const errorDetailHTML = `    <p>The error was:</p>
    <div class="traceback-wrapper">
        <pre class="traceback">%s</pre>
    </div>
`

// xhtmlEscape escapes as Tornado's templates do (its xhtml_escape), which
// differs from html.EscapeString in how it writes a double quote.
var xhtmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace

// loginRedirect is what Jupyter's page handlers answer a GET or HEAD
// without a valid token: a 302 to the login page, with the request's own
// path and query as "next".
func (s *Server) loginRedirect(w http.ResponseWriter, r *http.Request) {
	next := r.RequestURI // as sent, as Tornado's request.uri
	if next == "" {
		next = r.URL.RequestURI()
	}
	w.Header().Set("Location", s.prefix+"login?"+url.Values{"next": {next}}.Encode())
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusFound)
}

// pyUnquote decodes %XX escapes as Python's urllib unquote_to_bytes, which
// Tornado uses for path arguments: an invalid escape stays as it is
// (url.PathUnescape would refuse the whole path). ok is false when the
// result is not UTF-8, which Tornado answers with a 400.
func pyUnquote(s string) (decoded string, ok bool) {
	if !strings.Contains(s, "%") {
		return s, utf8.ValidString(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), utf8.ValidString(b.String())
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// pyBytesRepr renders b as Python's repr of a bytes value, as Tornado puts
// it in its "Invalid unicode" messages: b'caf\xc3'.
func pyBytesRepr(b string) string {
	quote := byte('\'')
	if strings.IndexByte(b, '\'') >= 0 && strings.IndexByte(b, '"') < 0 {
		quote = '"'
	}
	var out strings.Builder
	out.WriteString("b")
	out.WriteByte(quote)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == quote || c == '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c == '\t':
			out.WriteString(`\t`)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\r':
			out.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&out, `\x%02x`, c)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte(quote)
	return out.String()
}

// loginPage is GET {prefix}login, where the page handlers redirect a
// request without a token. As Jupyter's: with a valid token it redirects
// to next (when next is a path below the prefix, else to the prefix);
// without one it is a 200 HTML form. The form's POST is not served: the
// reference server has no password or cookie login.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete:
		if !s.authorized(r) {
			s.htmlError(w, r, http.StatusForbidden, "'_xsrf' argument missing from POST")
			return
		}
		s.htmlError(w, r, http.StatusMethodNotAllowed, "")
		return
	case r.Method != http.MethodGet:
		s.htmlError(w, r, http.StatusMethodNotAllowed, "")
		return
	}
	next := r.URL.Query().Get("next")
	if s.authorized(r) {
		if next == "" {
			next = s.prefix
		}
		next = strings.ReplaceAll(next, `\`, "%5C")
		if u, err := url.Parse(next); err != nil || u.Host != "" || !strings.HasPrefix(u.Path+"/", s.prefix) {
			next = s.prefix
		}
		w.Header().Set("Location", next)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusFound)
		return
	}
	action := s.prefix + "login"
	if next != "" {
		action += "?" + url.Values{"next": {next}}.Encode()
	}
	page := fmt.Sprintf(loginHTML, s.prefix, xhtmlEscape(action))
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(page)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, page)
}

const loginHTML = `<!DOCTYPE HTML>
<html>
<head>
    <meta charset="utf-8">
    <title>Jupyter Server</title>
    <link rel="stylesheet" href="%sstatic/style/index.css" />
</head>
<body class="" dir="ltr">
  <div id="site">
    <form action="%s" method="post">
      <label for="password_input"><strong>Password or token:</strong></label>
      <input type="password" name="password" id="password_input">
      <button type="submit">Log in</button>
    </form>
  </div>
</body>
</html>
`

// trailingSlashRefusal answers a method other than GET on a URL ending in
// "/": Jupyter's redirect handler is a bare Tornado handler with only a
// get(), so a write fails Tornado's own XSRF check, token or not, and
// anything else is a 405, both as Tornado's plain error page.
func (s *Server) trailingSlashRefusal(w http.ResponseWriter, r *http.Request) {
	status := http.StatusMethodNotAllowed
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		status = http.StatusForbidden
	}
	page := fmt.Sprintf("<html><title>%[1]d: %[2]s</title><body>%[1]d: %[2]s</body></html>", status, http.StatusText(status))
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.Header().Set("Content-Length", fmt.Sprint(len(page)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, page)
}
