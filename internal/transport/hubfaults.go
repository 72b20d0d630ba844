package transport

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// What JupyterHub answers in place of a user's server. Behind a hub, a
// request to https://hub/user/<name>/api/... reaches the user's server only
// while the hub's proxy has a route for it; otherwise the proxy hands it to
// the hub, whose answers are not Jupyter's. docs/wire/jupyterhub.md H3, H4, H5, H6 record
// each one as JupyterHub 3.0 sent it (the same code is in 6.x); the tests
// replay those recordings.

var (
	// ErrServerNotRunning matches the hub's answer to a request for a
	// user's server that is not running: stopped, still starting (the hub
	// answers a request during a spawn exactly as when stopped: ask the
	// hub's API, as package hub does, to tell them apart), or never
	// created, such as a prefix naming no user. For a GET it is the 424
	// (503 on hubs configured with use_legacy_stopped_server_status_code)
	// whose message names the path and where to restart the server; for
	// a POST, PATCH, PUT or DELETE it is an HTML page of the hub's, a 405
	// (JupyterHub 3.0) or a 403 (6.1, whose XSRF check refuses it first;
	// it matches ErrUnauthorized too), since the hub only redirects GETs. Start the server (package hub's
	// StartServer) and try again.
	ErrServerNotRunning = errors.New("nbserv: the user's server is not running (JupyterHub answered)")
	// ErrLoginRequired matches a redirect to JupyterHub's login page: the
	// hub, not the user's server, found no valid token in the request
	// (missing, wrong, expired or revoked). It matches ErrUnauthorized and
	// ErrRedirect too. An API client cannot log in through an HTML page:
	// check Config.Token.
	ErrLoginRequired = errors.New("nbserv: JupyterHub asks to log in (token missing, wrong or expired)")
)

// hubIs reports whether e is one of the hub's answers that target names:
// ErrServerNotRunning, ErrLoginRequired, or ErrUnauthorized for a redirect
// to the login page. (*Error).Is is to consult it before its own switch
// ("if hubIs(e, target) { return true }"), so that a hub's redirect to its
// login page matches ErrUnauthorized as well as ErrRedirect.
func hubIs(e *Error, target error) bool {
	switch target {
	case ErrServerNotRunning:
		return hubServerNotRunning(e)
	case ErrLoginRequired, ErrUnauthorized:
		return hubLoginRedirect(e)
	}
	return false
}

// hubNotRunningPrefix starts the message of the hub's 424 (and legacy 503).
const hubNotRunningPrefix = "JupyterHub server no longer running"

// hubServerNotRunning recognises the hub's answers for a server it has no
// route to.
func hubServerNotRunning(e *Error) bool {
	switch {
	case e.StatusCode == http.StatusFailedDependency:
		// Jupyter Server never answers 424; the hub's is its "not running".
		return true
	case e.StatusCode == http.StatusServiceUnavailable:
		return strings.HasPrefix(e.Message, hubNotRunningPrefix)
	case e.StatusCode == http.StatusMethodNotAllowed || e.StatusCode == http.StatusForbidden:
		// The hub's catch-all for /user/<name>/... redirects GETs into
		// the hub and answers every other method with an HTML page: a
		// 405 (JupyterHub 3.0), or the 403 of its XSRF check, which
		// runs first in 6.1. A Jupyter Server's API answers 403 and 405
		// in JSON; the single-user server sends X-JupyterHub-Version
		// too, but never HTML from /api/.
		return IsHTML(e.Header.Get("Content-Type")) && e.Header.Get("X-JupyterHub-Version") != ""
	case e.StatusCode >= 300 && e.StatusCode <= 399:
		// The first hop of the hub's answer for a GET: from /user/<name>/…
		// to /hub/user/<name>/…, when a redirect policy stops there.
		p := locationPath(e.Location)
		return p != "" && strings.Contains(p, "/hub/user/")
	}
	return false
}

// hubLoginRedirect recognises a redirect to the hub's login page, whose
// path is the hub's base URL followed by "hub/login".
func hubLoginRedirect(e *Error) bool {
	if e.StatusCode < 300 || e.StatusCode > 399 {
		return false
	}
	return strings.HasSuffix(locationPath(e.Location), "/hub/login")
}

// hubHint is a short explanation of a hub's answer for Error(), or "".
// (Error() shows the 424's message already; the 405 page and the
// redirects say nothing of themselves.)
func hubHint(e *Error) string {
	switch {
	case hubLoginRedirect(e):
		return "JupyterHub asks to log in: the token is missing, wrong or expired"
	case e.StatusCode != http.StatusFailedDependency && e.StatusCode != http.StatusServiceUnavailable && hubServerNotRunning(e):
		return "JupyterHub answered: the user's server is not running"
	}
	return ""
}

// locationPath is the path of a Location header, "" when it does not parse.
func locationPath(loc string) string {
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	return u.Path
}

// IsHTML reports whether a content type is an HTML page's.
func IsHTML(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/html")
}
