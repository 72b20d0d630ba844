package refserver

// The HTML Jupyter answers outside its JSON API: its own page for a URL
// no route matches (and for errors there, the channels endpoint's
// included), the page at the base URL, the login page, and Tornado's bare
// error page from the trailing-slash redirect handler. Every Jupyter page
// is one template (page.html, which Jupyter's 404, error and login pages
// extend), written by page; every HTML body, the hub's too, goes out
// through writeBody. The markup is a shortened copy of Jupyter's; what
// clients can rely on (the status, Content-Type, heading, and the token
// embedded for a logged-in request) is as Jupyter's. See
// docs/wire/server.md SV2.

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// page writes a Jupyter HTML page. Like Jupyter's page.html it embeds the
// token, URL-quoted in data-jupyter-api-token and HTML-escaped in the
// dashboard link, when the request carried it.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, contentType, site string) {
	tokenAttr, tokenQuery := "", ""
	if s.token != nil && s.authenticate(r) == authToken {
		tokenAttr = fmt.Sprintf(` data-jupyter-api-token="%s"`, html.EscapeString(pyQuote(string(s.token))))
		if !s.isGen2() { // 2.x's dashboard link carries no token (jupyter-server-2.md, "The HTML 404 page")
			tokenQuery = "?token=" + html.EscapeString(string(s.token))
		}
	}
	writeBody(w, status, contentType, fmt.Sprintf(pageHTML, s.prefix, tokenAttr, s.prefix, tokenQuery, site))
}

// writeBody writes a body whole, with its length, as Tornado's finish()
// does (and the hub's); an empty body is Tornado's empty finish().
func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if body != "" {
		_, _ = io.WriteString(w, body)
	}
}

// notFoundPage is Jupyter's 404 page for a URL that matches no route.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusNotFound, "text/html",
		"<div class=\"error\">\n    <h1>404 : Not Found</h1>\n<p>You are requesting a page that does not exist!</p>\n</div>")
}

// errorPage is Jupyter's error.html, as for a refused XSRF check (403) or
// a method Tornado does not know (405) outside the API.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	site := fmt.Sprintf("<div class=\"error\">\n    <h1>%d : %s</h1>\n", status, http.StatusText(status))
	if message != "" {
		site += fmt.Sprintf("    <p>The error was:</p>\n    <div class=\"traceback-wrapper\">\n        <pre class=\"traceback\">%s</pre>\n    </div>\n", xhtmlEscape(message))
	}
	s.page(w, r, status, "text/html", site+"</div>")
}

// mainPage is what Jupyter's MainHandler answers at the base URL.
func (s *Server) mainPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusOK, "text/html; charset=UTF-8",
		"<div id=jupyter-main-app>\n    <h1>A Jupyter Server is running.</h1>\n</div>")
}

// redirect is the 302 of Tornado's redirect(): an empty HTML body.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	writeBody(w, http.StatusFound, "text/html; charset=UTF-8", "")
}

// tornadoErrorPage is Tornado's own error page, which the trailing-slash
// redirect handler (a plain Tornado handler) answers with.
func tornadoErrorPage(w http.ResponseWriter, status int) {
	writeBody(w, status, "text/html; charset=UTF-8",
		fmt.Sprintf("<html><title>%d: %s</title><body>%d: %s</body></html>", status, http.StatusText(status), status, http.StatusText(status)))
}

// pyQuote is Python's urllib.parse.quote(s, safe="/"), which Jinja's
// urlencode filter applies: every byte but letters, digits, "_.-~" and "/"
// becomes %XX.
func pyQuote(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.-~/", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

const pageHTML = `<!DOCTYPE HTML>
<html>
<head>
    <meta charset="utf-8">
    <title>Jupyter Server</title>
    <link rel="stylesheet" href="%sstatic/style/index.css" />
</head>
<body class=""%s dir="ltr">
  <div id="header" role="navigation" aria-label="Top Menu">
    <div id="jupyter_server" class="nav navbar-brand"><a href="%s%s" title='dashboard'>Jupyter Server</a></div>
  </div>
  <div id="site">
%s
  </div>
</body>
</html>
`
