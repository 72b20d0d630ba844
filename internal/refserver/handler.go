package refserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// idRoute is Jupyter's id pattern for /api/sessions/{id} and
// /api/kernels/{id}, matched against the raw (escaped) path as Tornado does.
var idRoute = regexp.MustCompile(`^\w+-\w+-\w+-\w+-\w+$`)

// Jupyter's other routes with an argument, matched the same way.
var (
	kernelActionRoute = regexp.MustCompile(`^api/kernels/\w+-\w+-\w+-\w+-\w+/(interrupt|restart)$`)
	kernelNameRoute   = regexp.MustCompile(`^[\w.\-%]+$`)
	wordRoute         = regexp.MustCompile(`^\w+$`) // config sections, terminal names
)

// ServeHTTP routes a request the way Jupyter's Tornado application does:
// the API routes first; then, for a URL none matches, the trailing-slash
// redirect, the page at the base URL, or the HTML 404 page. Within an API
// route the checks run in Tornado's and Jupyter's order (method known,
// XSRF, Origin, method implemented, token); docs/wire/server.md
// SV2 records each answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.beforeRequest(w, r) {
		return
	}
	raw := r.URL.EscapedPath()
	rel, ok := strings.CutPrefix(raw, s.prefix)
	if !ok {
		s.jupyterPage(w, r, "", nil)
		return
	}
	if m := kernelResourceRoute.FindStringSubmatch(rel); m != nil { // its file may end in "/"
		s.kernelResource(w, r, m[1], m[2])
		return
	}

	var h func(*http.Request, string) reply
	var id string
	methods := ""
	public := false // answers without the token
	strict := false // its handler's SUPPORTED_METHODS are just methods: others are 405 before the XSRF check
	switch {
	case rel == "api":
		h, methods, public = s.apiVersion, "GET", true
	case rel == "api/status":
		h, methods = s.status, "GET"
	case rel == "api/sessions":
		h, methods = s.sessionsRoot, "GET POST"
	case rel == "api/kernels":
		h, methods = s.kernelsRoot, "GET POST"
	case rel == "api/kernelspecs":
		h, methods = s.kernelspecs, "GET"
	case rel == "api/me" && s.isGen2(): // me.go
		h, methods = s.me, "GET PATCH"
	case rel == "api/spec.yaml":
		s.serveSpec(w, r)
		return
	case rel == "login":
		s.loginPage(w, r)
		return
	case rel == "api/terminals" && !s.noTerms:
		h, methods = s.terminalsRoot, "GET POST"
	case s.serveContents(w, r, rel): // contents.go: /api/contents/... and /files/...
		return
	default:
		var ok bool
		if id, ok = strings.CutPrefix(rel, "api/sessions/"); ok && idRoute.MatchString(id) {
			h, methods = s.sessionByID, "GET PATCH DELETE"
		} else if id, ok = strings.CutPrefix(rel, "api/kernels/"); ok && idRoute.MatchString(id) {
			h, methods = s.kernelByID, "GET DELETE"
		} else if kid, action, ok := kernelChannelsPath(rel); ok && action == "channels" {
			s.serveChannels(w, r, kid) // a WebSocket, with HTML errors (channels.go)
			return
		} else if name, ok := terminalSocketName(rel); ok && !s.noTerms {
			s.serveTerminalSocket(w, r, name) // a WebSocket, with HTML errors (terminals_ws.go)
			return
		} else if kernelActionRoute.MatchString(rel) {
			id, methods, h = strings.TrimPrefix(rel, "api/kernels/"), "POST", s.kernelAction
		} else if id, ok = strings.CutPrefix(rel, "api/kernelspecs/"); ok && kernelNameRoute.MatchString(id) {
			h, methods = s.kernelspecByName, "GET"
		} else if id, ok = strings.CutPrefix(rel, "api/config/"); ok && wordRoute.MatchString(id) {
			h, methods = s.configSection, "GET PUT PATCH"
		} else if id, ok = strings.CutPrefix(rel, "api/terminals/"); ok && wordRoute.MatchString(id) && !s.noTerms {
			h, methods, strict = s.terminalByName, "GET DELETE", true
		} else {
			s.noRoute(w, r, rel)
			return
		}
	}
	s.serveAPI(w, r, rel, id, h, methods, public, strict)
}

// serveAPI runs an API handler after the checks Jupyter's APIHandler makes,
// in its order: a method Tornado does not know (or, for a strict route,
// one its handler does not support) is 405; a write not
// authenticated by the token needs a matching XSRF cookie; a request with a
// foreign Origin not authenticated by the token is 404; OPTIONS answers
// the CORS preflight; a method the route does not implement is 405 even
// without the token; then the token is required unless the route is public.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rel, id string, h func(*http.Request, string) reply, methods string, public, strict bool) {
	a := s.authenticate(r)
	if a == authAbort {
		if s.isGen2() {
			s.badTokenEncoding(r).write(w)
			return
		}
		abortConn(w)
		return
	}
	if a == authToken && !s.isGen2() { // Jupyter lets token-authenticated requests cross origins
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	}
	// Jupyter counts every authenticated API answer, errors included, as
	// activity, but for its status endpoint and ?no_track_activity.
	if a != authNone && rel != "api/status" && !hasArgument(r.URL.RawQuery, "no_track_activity") {
		s.mu.Lock()
		s.lastAct = time.Now().UTC()
		s.mu.Unlock()
	}
	if !tornadoMethod(r.Method) || strict && !strings.Contains(" "+methods+" ", " "+r.Method+" ") {
		errorReply(http.StatusMethodNotAllowed, "Method Not Allowed").write(w)
		return
	}
	// A server with no token is open to writes, where Jupyter would ask
	// for the XSRF cookie (docs/wire/server.md SV32).
	if needsXSRF(r.Method) && a == authNone {
		if msg := xsrfProblem(r); msg != "" {
			errorReply(http.StatusForbidden, msg).write(w)
			return
		}
	}
	if r.Method == http.MethodOptions {
		if a == authToken && s.isGen2() {
			w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		}
		w.Header().Set("Access-Control-Allow-Headers", "accept, content-type, authorization, x-xsrftoken")
		w.Header().Set("Access-Control-Allow-Methods", "GET, PUT, POST, PATCH, DELETE, OPTIONS")
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return
	}
	if a != authToken && !originAllowed(r) {
		errorReply(http.StatusNotFound, "Not Found").write(w)
		return
	}
	if !strings.Contains(" "+methods+" ", " "+r.Method+" ") {
		errorReply(http.StatusMethodNotAllowed, "Method Not Allowed").write(w)
		return
	}
	if !public && a == authNone {
		errorReply(http.StatusForbidden, "Forbidden").write(w)
		return
	}
	rp := s.personalize(h(r, id))
	if a == authToken && s.isGen2() && rp.status < http.StatusBadRequest {
		// 2.x's error answers drop the header (jupyter-server-2.md,
		// "Routing").
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	}
	rp.write(w)
}

// noRoute answers a URL no API route matches, as Jupyter's fallback
// handlers do: under the prefix, a path ending in "/" redirects without
// it; the prefix itself is the main page; anything else is the 404 page.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, rel string) {
	switch {
	case strings.HasSuffix(rel, "/"):
		s.trailingSlash(w, r)
	case rel == "":
		s.jupyterPage(w, r, "GET POST PUT", s.mainPage)
	default:
		s.jupyterPage(w, r, "", nil)
	}
}

// jupyterPage answers as a Jupyter HTML handler: a method Tornado does not
// know is 405, a write not authenticated by the token needs the XSRF
// cookie (403 otherwise), then serve answers the methods it implements
// (405 for the others). A nil serve is Jupyter's 404 handler, which
// answers 404 to every method.
func (s *Server) jupyterPage(w http.ResponseWriter, r *http.Request, methods string, serve func(http.ResponseWriter, *http.Request)) {
	a := s.authenticate(r)
	if a == authAbort {
		if s.isGen2() {
			emptyPage(w, http.StatusBadRequest)
			return
		}
		abortConn(w)
		return
	}
	if a == authToken {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	}
	switch {
	case !tornadoMethod(r.Method) && s.isGen2():
		emptyPage(w, http.StatusMethodNotAllowed) // gen2.go
	case !tornadoMethod(r.Method):
		s.errorPage(w, r, http.StatusMethodNotAllowed, "")
	case needsXSRF(r.Method) && a == authNone && xsrfProblem(r) != "":
		s.errorPage(w, r, http.StatusForbidden, xsrfProblem(r))
	case serve == nil:
		s.notFoundPage(w, r)
	case !strings.Contains(" "+methods+" ", " "+r.Method+" "):
		s.errorPage(w, r, http.StatusMethodNotAllowed, "")
	default:
		serve(w, r)
	}
}

// trailingSlash is Jupyter's TrailingSlashHandler, a plain Tornado handler:
// GET, and POST or PUT that pass Tornado's XSRF check (the token does not
// exempt them here), redirect to the URL with its leading and trailing
// slashes stripped and one leading slash put back, so //evil.example/
// goes to /evil.example on this server, never off site. Tornado's XSRF
// check refuses the other writes first (403), then 405.
func (s *Server) trailingSlash(w http.ResponseWriter, r *http.Request) {
	switch {
	case !tornadoMethod(r.Method):
		tornadoErrorPage(w, http.StatusMethodNotAllowed)
	case needsXSRF(r.Method) && xsrfProblem(r) != "":
		tornadoErrorPage(w, http.StatusForbidden)
	case r.Method == http.MethodGet || r.Method == http.MethodPost || r.Method == http.MethodPut:
		uri := r.RequestURI
		if !strings.HasPrefix(uri, "/") { // an absolute-form target
			uri = r.URL.EscapedPath()
			if r.URL.ForceQuery || r.URL.RawQuery != "" {
				uri += "?" + r.URL.RawQuery
			}
		}
		path, query, hasQuery := strings.Cut(uri, "?")
		loc := "/" + strings.Trim(path, "/")
		if hasQuery {
			loc += "?" + query
		}
		redirect(w, loc)
	default:
		tornadoErrorPage(w, http.StatusMethodNotAllowed)
	}
}

// originAllowed is Jupyter's check_origin with no allow_origin setting: a
// request without an Origin header passes, one with passes only when the
// origin's host and port are the Host header's.
func originAllowed(r *http.Request) bool {
	vals := r.Header.Values("Origin")
	if len(vals) == 0 || r.Host == "" {
		return true
	}
	return pyNetloc(strings.ToLower(strings.Join(vals, ","))) == r.Host
}

// pyNetloc is urllib.parse.urlsplit(u).netloc.
func pyNetloc(u string) string {
	u = strings.TrimLeft(u, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	u = strings.NewReplacer("\t", "", "\r", "", "\n", "").Replace(u)
	if i := strings.IndexByte(u, ':'); i > 0 && isASCIILetter(u[0]) && strings.Trim(u[:i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.") == "" {
		u = u[i+1:]
	}
	rest, ok := strings.CutPrefix(u, "//")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// abortConn drops the connection without an answer, as Jupyter does when
// reading ?token= fails (the value is not UTF-8). Where there is no
// connection to drop (HTTP/2, a recorder), it answers 400.
func abortConn(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	errorReply(http.StatusBadRequest, "Bad Request").write(w)
}

// reply is an answer. Handlers build it holding s.mu and ServeHTTP writes
// it after the lock is released, so a client slow to read its answer never
// holds up the others. Its body holds only values nothing mutates later.
type reply struct {
	status   int
	body     any // written as JSON; nil writes no body
	location string
	close    bool // close the connection after the answer (a body left unread)
}

func (r reply) write(w http.ResponseWriter) {
	if r.location != "" {
		w.Header().Set("Location", r.location)
	}
	if r.close {
		w.Header().Set("Connection", "close")
	}
	if r.body == nil {
		w.WriteHeader(r.status)
		return
	}
	b, err := json.Marshal(r.body)
	if err != nil { // only the server's own models are written; cannot happen
		r.status, b = http.StatusInternalServerError, []byte(`{"message": "Unhandled error", "reason": null}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(r.status)
	_, _ = w.Write(b)
}

// apiError is Jupyter's JSON error body. Reason is always null in the
// answers sessions produce.
type apiError struct {
	Message   string  `json:"message"`
	Reason    *string `json:"reason"`
	Traceback *string `json:"traceback,omitempty"` // only in unhandled errors; "" in 2.x
}

// errorReply is a Jupyter JSON error answer.
func errorReply(status int, msg string) reply {
	return reply{status: status, body: apiError{Message: msg}}
}

// crashReply answers where real Jupyter raises an unhandled exception: the
// same 500 and keys, with a one-line explanation for a traceback.
func crashReply(explanation string) reply {
	tb := "Traceback (simulated by the nbserv reference server; Jupyter Server crashes here):\n" + explanation + "\n"
	return reply{status: http.StatusInternalServerError, body: apiError{Message: "Unhandled error", Traceback: &tb}}
}
