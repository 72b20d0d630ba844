package refserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// idRoute is Jupyter's id pattern for /api/sessions/{id} and
// /api/kernels/{id}, matched against the raw (escaped) path as Tornado does.
var idRoute = regexp.MustCompile(`^\w+-\w+-\w+-\w+-\w+$`)

// maxBody bounds request bodies; Jupyter's own limit is far larger, but no
// sessions request comes near this.
const maxBody = 10 << 20

// ServeHTTP routes a request the way Jupyter's Tornado application does:
// a trailing slash redirects, an unknown URL gets the HTML 404 page, and a
// known one checks the token, then the method.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.beforeRequest(w, r) {
		return
	}
	raw := r.URL.EscapedPath()
	rel, ok := strings.CutPrefix(raw, s.prefix)
	if !ok {
		s.notFoundPage(w, r)
		return
	}
	if rel != "" && strings.HasSuffix(rel, "/") {
		loc := strings.TrimSuffix(raw, "/")
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusFound)
		return
	}

	var h func(*http.Request, string) reply
	var id string
	methods := ""
	switch {
	case rel == "api":
		if r.Method == http.MethodGet { // the version needs no token
			reply{status: http.StatusOK, body: map[string]string{"version": s.version}}.write(w)
			return
		}
		methods = "GET"
	case rel == "api/status":
		h, methods = s.status, "GET"
	case rel == "api/sessions":
		h, methods = s.sessionsRoot, "GET POST"
	case rel == "api/kernels":
		h, methods = s.kernelsRoot, "GET POST"
	case rel == "api/kernelspecs":
		h, methods = s.kernelspecs, "GET"
	default:
		var ok bool
		if id, ok = strings.CutPrefix(rel, "api/sessions/"); ok && idRoute.MatchString(id) {
			h, methods = s.sessionByID, "GET PATCH DELETE"
		} else if id, ok = strings.CutPrefix(rel, "api/kernels/"); ok && idRoute.MatchString(id) {
			h, methods = s.kernelByID, "GET DELETE"
		} else if kid, action, ok := kernelChannelsPath(rel); ok {
			if action == "channels" { // a WebSocket, with HTML errors (channels.go)
				s.serveChannels(w, r, kid)
				return
			}
			id, h, methods = kid+"/"+action, s.kernelAction, "POST"
		} else {
			s.notFoundPage(w, r)
			return
		}
	}
	if !s.authorized(r) {
		msg := "Forbidden"
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			// Jupyter's XSRF check runs first for unauthenticated writes,
			// and its message names POST whatever the method.
			msg = "'_xsrf' argument missing from POST"
		}
		errorReply(http.StatusForbidden, msg).write(w)
		return
	}
	if !strings.Contains(" "+methods+" ", " "+r.Method+" ") || h == nil {
		errorReply(http.StatusMethodNotAllowed, "Method Not Allowed").write(w)
		return
	}
	if rel != "api/status" { // as Jupyter, which does not count its status endpoint as activity
		s.mu.Lock()
		s.lastAct = time.Now().UTC()
		s.mu.Unlock()
	}
	h(r, id).write(w)
}

// reply is an answer. Handlers build it holding s.mu and ServeHTTP writes
// it after the lock is released, so a client slow to read its answer never
// holds up the others. Its body holds only values nothing mutates later.
type reply struct {
	status   int
	body     any // written as JSON; nil writes no body
	location string
}

func (r reply) write(w http.ResponseWriter) {
	if r.location != "" {
		w.Header().Set("Location", r.location)
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

// errNoJSON is a missing or null body: Jupyter's get_json_body gives None.
var errNoJSON = errors.New("No JSON data provided")

// readJSON parses the request body as Jupyter does: empty or null is
// errNoJSON, anything unparsable is "Invalid JSON in body of request".
// Numbers stay json.Number so that stored values round-trip exactly.
func readJSON(r *http.Request) (any, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		return nil, errors.New("Invalid JSON in body of request")
	}
	if len(body) == 0 {
		return nil, errNoJSON
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("Invalid JSON in body of request")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("Invalid JSON in body of request")
	}
	if v == nil {
		return nil, errNoJSON
	}
	return v, nil
}

// apiError is Jupyter's JSON error body. Reason is always null in the
// answers sessions produce.
type apiError struct {
	Message   string  `json:"message"`
	Reason    *string `json:"reason"`
	Traceback string  `json:"traceback,omitempty"`
}

// errorReply is a Jupyter JSON error answer.
func errorReply(status int, msg string) reply {
	return reply{status: status, body: apiError{Message: msg}}
}

// crashReply answers where real Jupyter raises an unhandled exception: the
// same 500 and keys, with a one-line explanation for a traceback.
func crashReply(explanation string) reply {
	return reply{status: http.StatusInternalServerError, body: apiError{
		Message:   "Unhandled error",
		Traceback: "Traceback (simulated by the nbserv reference server; Jupyter Server crashes here):\n" + explanation + "\n",
	}}
}

// notFoundPage is Jupyter's HTML 404 for URLs that match no route. Like
// Jupyter's, it embeds the token when the request carried a valid one.
func (s *Server) notFoundPage(w http.ResponseWriter, r *http.Request) {
	tokenAttr := ""
	if s.token != nil && s.authorized(r) {
		tokenAttr = fmt.Sprintf(` data-jupyter-api-token="%s"`, s.token)
	}
	page := fmt.Sprintf(notFoundHTML, s.prefix, tokenAttr)
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("Content-Length", fmt.Sprint(len(page)))
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, page)
}

const notFoundHTML = `<!DOCTYPE HTML>
<html>
<head>
    <meta charset="utf-8">
    <title>Jupyter Server</title>
    <link rel="stylesheet" href="%sstatic/style/index.css" />
</head>
<body class=""%s dir="ltr">
  <div id="site">
<div class="error">
    <h1>404 : Not Found</h1>
<p>You are requesting a page that does not exist!</p>
</div>
  </div>
</body>
</html>
`
