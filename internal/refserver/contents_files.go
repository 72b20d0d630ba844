package refserver

// GET /files/{path}: the raw bytes of a file, as Jupyter's
// AuthenticatedFileHandler (a Tornado StaticFileHandler) serves them:
// ranges, Last-Modified and If-Modified-Since, Cache-Control: no-cache,
// an attachment for notebooks and ?download, and HTML error pages. The
// body streams from the store: memory holds no second copy.

import (
	"io"
	"net/http"
	"strings"
	"time"
)

func (s *Server) serveFiles(w http.ResponseWriter, r *http.Request, raw string) {
	if !s.authorized(r) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			s.loginRedirect(w, r) // web.authenticated sends browsers to the login page
			return
		}
		s.htmlError(w, r, http.StatusForbidden, "")
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodHead: // Jupyter's HEAD handler fails its own XSRF check
		s.htmlError(w, r, http.StatusInternalServerError, "")
		return
	default:
		s.htmlError(w, r, http.StatusMethodNotAllowed, "")
		return
	}
	p, e := unescapePath(raw)
	if e != nil {
		s.htmlError(w, r, e.status, "")
		return
	}
	if strings.ContainsRune(p, 0) { // docs/wire/contents.md C42: 1.23.3 404, 2.21.1 500
		status := http.StatusNotFound
		if s.isGen2() {
			status = http.StatusInternalServerError
		}
		s.htmlError(w, r, status, "")
		return
	}
	s.mu.Lock()
	s.lastAct = time.Now().UTC()
	s.mu.Unlock()

	c := s.contents
	c.mu.Lock()
	status, body, fi := c.openFile(p)
	c.mu.Unlock()
	if status != 0 {
		s.htmlError(w, r, status, "")
		return
	}
	defer body.Close()
	name := lastName(strings.Trim(p, "/"))
	if strings.HasSuffix(name, ".ipynb") || r.URL.Query().Get("download") != "" {
		w.Header().Set("Content-Disposition", "attachment; filename*=utf-8''"+pyQuote(name))
	}
	w.Header().Set("Content-Type", filesContentType(name))
	if _, ok := r.URL.Query()["v"]; !ok {
		w.Header().Set("Cache-Control", "no-cache")
	}
	// ServeContent answers ranges and If-Modified-Since as Tornado does,
	// to the second.
	http.ServeContent(w, r, "", fi.mtime.Truncate(time.Second), body)
}

// openFile resolves p as StaticFileHandler does (outside the root or a
// directory: 403; missing: 404; hidden: 404) and opens it. The caller
// holds c.mu; the reader stays valid after it is released.
func (c *contents) openFile(p string) (int, io.ReadSeekCloser, fileInfo) {
	if c.fs == nil {
		return http.StatusInternalServerError, nil, fileInfo{}
	}
	rel, e := osRel(p)
	if e != nil {
		return http.StatusForbidden, nil, fileInfo{}
	}
	fi, err := c.fs.stat(rel)
	switch {
	case err == nil && fi.dir:
		return http.StatusForbidden, nil, fileInfo{}
	case err != nil:
		return http.StatusNotFound, nil, fileInfo{}
	}
	if h, e := c.hidden(rel); e != nil || h {
		return http.StatusNotFound, nil, fileInfo{}
	}
	body, fi, err := c.fs.open(rel)
	if err != nil {
		return http.StatusForbidden, nil, fileInfo{}
	}
	return 0, body, fi
}

// filesContentType is AuthenticatedFileHandler.get_content_type.
func filesContentType(name string) string {
	if strings.HasSuffix(name, ".ipynb") {
		return "application/x-ipynb+json"
	}
	typ, enc := guessType(name)
	switch {
	case typ == "text/plain":
		return "text/plain; charset=UTF-8"
	case enc == "gzip":
		return "application/gzip"
	case enc != "":
		return "application/octet-stream"
	case typ != "":
		return typ
	}
	return "application/octet-stream"
}
