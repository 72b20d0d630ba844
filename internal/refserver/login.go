package refserver

// Jupyter's page handlers (spec.yaml, kernelspec resources, /files/)
// answer errors with its HTML error page rather than JSON, and a request
// without the token with a redirect to the login page rather than a 403.

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// xhtmlEscape escapes as Tornado's templates do (its xhtml_escape), which
// differs from html.EscapeString in how it writes a double quote.
var xhtmlEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace

// htmlError writes Jupyter's HTML error page for status, with message
// under "The error was:" when there is one; a 404 is always the plain
// "page does not exist" page, as in Jupyter's template.
func (s *Server) htmlError(w http.ResponseWriter, r *http.Request, status int, message string) {
	if status == http.StatusNotFound {
		s.notFoundPage(w, r)
		return
	}
	s.errorPage(w, r, status, message)
}

// loginRedirect is what Jupyter's page handlers answer a GET or HEAD
// without a valid token: a 302 to the login page, with the request's own
// path and query as "next".
func (s *Server) loginRedirect(w http.ResponseWriter, r *http.Request) {
	next := r.RequestURI // as sent, as Tornado's request.uri
	if next == "" {
		next = r.URL.RequestURI()
	}
	redirect(w, s.prefix+"login?"+url.Values{"next": {next}}.Encode())
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
		redirect(w, next)
		return
	}
	action := s.prefix + "login"
	if next != "" {
		action += "?" + url.Values{"next": {next}}.Encode()
	}
	s.page(w, r, http.StatusOK, "text/html; charset=UTF-8", fmt.Sprintf(loginForm, xhtmlEscape(action)))
}

// loginForm is the site block of Jupyter's login.html, which extends the
// page every Jupyter page is (pages.go).
const loginForm = `    <form action="%s" method="post">
      <label for="password_input"><strong>Password or token:</strong></label>
      <input type="password" name="password" id="password_input">
      <button type="submit">Log in</button>
    </form>`
