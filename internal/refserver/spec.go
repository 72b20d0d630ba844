package refserver

// GET /api/spec.yaml: Jupyter serves its Swagger file there with its
// static file handler. The reference server serves a description of its
// own, written for it (not Jupyter's file): the endpoints it answers.

import (
	"bytes"
	"net/http"
	"sync"
)

// apiSpec is the served document: built once, immutable after.
var apiSpec = sync.OnceValue(func() specResource {
	return newSpecResource("text/x-yaml", []byte(apiSpecYAML))
})

// serveSpec answers /api/spec.yaml as Jupyter's APISpecHandler does, quirks
// included: HEAD is a 500 (its head() calls get() with an argument get()
// does not take), a write without a token fails the XSRF check, and every
// error is an HTML page.
func (s *Server) serveSpec(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodHead:
		if s.isGen2() && !s.authorized(r) { // 2.x asks for the token first
			s.loginRedirect(w, r)
			return
		}
		s.htmlError(w, r, http.StatusInternalServerError, "")
		return
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		if !s.authorized(r) {
			s.htmlError(w, r, http.StatusForbidden, "'_xsrf' argument missing from POST")
			return
		}
		fallthrough
	default:
		s.htmlError(w, r, http.StatusMethodNotAllowed, "")
		return
	}
	if !s.authorized(r) {
		s.loginRedirect(w, r)
		return
	}
	doc := apiSpec()
	w.Header().Set("Content-Type", doc.contentType)
	w.Header().Set("Etag", doc.etag)
	http.ServeContent(w, r, "", specFilesModTime, bytes.NewReader(doc.body))
}

// apiSpecYAML describes the reference server's API in Swagger 2.0, the
// format of the file Jupyter serves. It is deliberately short: paths,
// methods and statuses, no schemas.
const apiSpecYAML = `swagger: "2.0"
info:
  title: nbserv reference server
  description: >-
    The REST API of the nbserv reference server, an in-memory stand-in for
    Jupyter Server 1.23 used in tests. Not Jupyter's own specification.
  version: "1"
produces:
  - application/json
paths:
  /api:
    get:
      summary: The server's version; needs no token.
      responses:
        "200": {description: "{\"version\": ...}"}
  /api/status:
    get:
      summary: Start time, last activity, kernel and connection counts.
      responses:
        "200": {description: "The status."}
  /api/spec.yaml:
    get:
      summary: This document.
      responses:
        "200": {description: "The specification, as text/x-yaml."}
  /api/sessions:
    get:
      summary: List sessions.
      responses:
        "200": {description: "The sessions."}
    post:
      summary: Create a session, or return the one on that path.
      responses:
        "201": {description: "The session; Location names it."}
        "400": {description: "A missing field or invalid JSON."}
        "501": {description: "No such kernelspec."}
  /api/sessions/{session}:
    parameters:
      - {name: session, in: path, required: true, type: string}
    get:
      summary: Get a session.
      responses:
        "200": {description: "The session."}
        "404": {description: "No such session."}
    patch:
      summary: Rename, move, retype a session or change its kernel.
      responses:
        "200": {description: "The session."}
        "400": {description: "No such kernel."}
        "404": {description: "No such session."}
    delete:
      summary: Delete a session and shut its kernel down.
      responses:
        "204": {description: "Deleted."}
        "404": {description: "No such session."}
        "410": {description: "The kernel was gone first."}
  /api/kernels:
    get:
      summary: List kernels.
      responses:
        "200": {description: "The kernels."}
    post:
      summary: Start a kernel.
      responses:
        "201": {description: "The kernel; Location names it."}
  /api/kernels/{kernel}:
    parameters:
      - {name: kernel, in: path, required: true, type: string}
    get:
      summary: Get a kernel.
      responses:
        "200": {description: "The kernel."}
        "404": {description: "No such kernel."}
    delete:
      summary: Shut a kernel down.
      responses:
        "204": {description: "Shut down."}
        "404": {description: "No such kernel."}
  /api/kernels/{kernel}/interrupt:
    parameters:
      - {name: kernel, in: path, required: true, type: string}
    post:
      summary: Interrupt a kernel.
      responses:
        "204": {description: "Interrupted."}
        "404": {description: "No such kernel."}
  /api/kernels/{kernel}/restart:
    parameters:
      - {name: kernel, in: path, required: true, type: string}
    post:
      summary: Restart a kernel; it keeps its id.
      responses:
        "200": {description: "The kernel."}
        "500": {description: "The restart failed, or no such kernel."}
  /api/kernelspecs:
    get:
      summary: List kernelspecs and the default.
      responses:
        "200": {description: "The kernelspecs."}
  /api/kernelspecs/{name}:
    parameters:
      - {name: name, in: path, required: true, type: string}
    get:
      summary: Get a kernelspec.
      responses:
        "200": {description: "The kernelspec."}
        "404": {description: "No such kernelspec."}
  /kernelspecs/{name}/{file}:
    parameters:
      - {name: name, in: path, required: true, type: string}
      - {name: file, in: path, required: true, type: string}
    get:
      summary: A kernelspec's file (kernel.json, logos).
      responses:
        "200": {description: "The file."}
        "302": {description: "No token; to the login page."}
        "404": {description: "No such kernelspec or file."}
  /api/config/{section}:
    parameters:
      - {name: section, in: path, required: true, type: string}
    get:
      summary: A frontend config section; {} if never written.
      responses:
        "200": {description: "The section."}
    patch:
      summary: Merge into a section; null deletes a key.
      responses:
        "200": {description: "The section after the merge."}
    put:
      summary: Replace a section.
      responses:
        "204": {description: "Replaced."}
  /api/terminals:
    get:
      summary: List terminals.
      responses:
        "200": {description: "The terminals."}
    post:
      summary: Create a terminal, named by the lowest free number.
      responses:
        "200": {description: "The terminal."}
  /api/terminals/{terminal}:
    parameters:
      - {name: terminal, in: path, required: true, type: string}
    get:
      summary: Get a terminal.
      responses:
        "200": {description: "The terminal."}
        "404": {description: "No such terminal."}
    delete:
      summary: End a terminal.
      responses:
        "204": {description: "Ended."}
        "404": {description: "No such terminal."}
`
