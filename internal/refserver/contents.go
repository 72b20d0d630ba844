package refserver

// The contents API (/api/contents/...) and raw files (/files/...), as
// Jupyter Server 1.23.3 serves them with its default LargeFileManager:
// routing, the manager's operations on an fsys, and the models they
// answer. docs/wire/contents.md C1-C11 record each behaviour with its curl.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/nbserv/go-nbserv/internal/jsonscan"
)

// MaxContentsBody bounds a contents request body (a PUT of a whole file or
// one chunk of a chunked upload). A larger body is refused with 400 and
// the connection closed, as Tornado refuses a body over its
// max_body_size, before more than MaxContentsBody+1 bytes are read.
// Saving a body of n bytes allocates about 4.5n in all (the decoder's
// buffer as it grows, the decoded string, the file's bytes; measured by
// TestContentsBodyAllocations), so one request costs at most about
// 300 MiB. Jupyter's own limit is 512 MiB; clients upload larger files
// in chunks.
const MaxContentsBody = 64 << 20

// contents is the state behind the contents API, guarded by its own lock
// so that file transfers never hold up the sessions API.
type contents struct {
	mu     sync.Mutex
	fs     fsys
	err    error           // a ContentsRoot that could not be opened
	signed map[string]bool // digests of trusted notebooks: the notary's store
	gen    int             // the server's Jupyter Server generation (Options.Generation)
}

func newContents(root string) *contents {
	c := &contents{signed: map[string]bool{}}
	if root == "" {
		c.fs = newMemFS()
		return c
	}
	d, err := newDirFS(root)
	if err != nil {
		c.err = err
		c.fs = newMemFS()
	}
	if d != nil {
		c.fs = d
	}
	return c
}

// httpError is a tornado.web.HTTPError: a JSON error answer.
type httpError struct {
	status int
	msg    string
	reason string // a custom reason phrase, echoed in the body
	crash  string // set: Jupyter crashes here with this exception
}

func (e *httpError) Error() string { return e.msg }

func herr(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// crash is an unhandled Python exception: a 500 "Unhandled error".
func crash(exc string) *httpError { return &httpError{status: 500, crash: exc} }

func (e *httpError) reply() reply {
	if e.crash != "" {
		return crashReply(e.crash)
	}
	ae := apiError{Message: e.msg}
	if e.reason != "" {
		r := e.reason
		ae.Reason = &r
	}
	return reply{status: e.status, body: ae}
}

// pyOSErrorName is the Python exception class for an errno.
func pyOSErrorName(err error) string {
	switch errnoOf(err) {
	case syscall.ENOENT:
		return "FileNotFoundError"
	case syscall.ENOTDIR:
		return "NotADirectoryError"
	case syscall.EISDIR:
		return "IsADirectoryError"
	case syscall.EEXIST:
		return "FileExistsError"
	case syscall.EACCES, syscall.EPERM:
		return "PermissionError"
	}
	return "OSError"
}

func crashOS(err error) *httpError { return crash(pyOSErrorName(err) + ": " + err.Error()) }

// model is Jupyter's contents model, in Jupyter's key order.
type model struct {
	Name         string `json:"name"`
	Path         string `json:"path"`
	LastModified string `json:"last_modified"`
	Created      string `json:"created"`
	Content      any    `json:"content"`
	Format       any    `json:"format"`
	Mimetype     any    `json:"mimetype"`
	Size         any    `json:"size"`
	Writable     bool   `json:"writable"`
	Type         string `json:"type"`
	Message      string `json:"message,omitempty"`

	mtime time.Time
}

// ---- paths ----

// osRel is _get_os_path: the API path, stripped of slashes and normalized
// as os.path.normpath does, relative to the root. A path that leaves the
// root is Jupyter's 404.
func osRel(p string) (string, *httpError) {
	stripped := strings.Trim(p, "/")
	var out []string
	for _, part := range strings.Split(stripped, "/") {
		switch part {
		case "", ".":
		case "..":
			if len(out) == 0 {
				return "", herr(404, "%s is outside root contents directory", stripped)
			}
			out = out[:len(out)-1]
		default:
			out = append(out, part)
		}
	}
	return strings.Join(out, "/"), nil
}

var hideGlobs = []string{"__pycache__", "*.pyc", "*.pyo", ".DS_Store", "*.so", "*.dylib", "*~"}

// shouldList is the manager's should_list: names matching hide_globs are
// left out of listings (but still served).
func shouldList(name string) bool {
	for _, g := range hideGlobs {
		if ok, _ := path.Match(g, name); ok {
			return false
		}
	}
	return true
}

// hidden is jupyter_core's is_hidden for a normalized path: a name
// starting with "." anywhere below the root, or a directory that cannot
// be listed. A parent that is a file makes Python's stat fail.
func (c *contents) hidden(rel string) (bool, *httpError) {
	if rel == "" {
		return false, nil
	}
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") {
			return true, nil
		}
	}
	fi, err := c.fs.stat(rel)
	if err != nil {
		if errnoOf(err) == syscall.ENOENT {
			return false, nil
		}
		return false, crashOS(err)
	}
	return fi.unreadable, nil
}

// hiddenAPI is the handlers' cm.is_hidden(path) for an API path.
func (c *contents) hiddenAPI(p string) (bool, *httpError) {
	if e := c.nulPath(p); e != nil {
		return false, e
	}
	rel, e := osRel(p)
	if e != nil {
		return false, e
	}
	return c.hidden(rel)
}

func (c *contents) exists(rel string) bool {
	_, err := c.fs.stat(rel)
	return err == nil
}

func (c *contents) isFile(rel string) bool {
	fi, err := c.fs.stat(rel)
	return err == nil && !fi.dir
}

func (c *contents) isDir(rel string) bool {
	fi, err := c.fs.stat(rel)
	return err == nil && fi.dir
}

// urlPathJoin is Jupyter's url_path_join.
func urlPathJoin(pieces ...string) string {
	initial := strings.HasPrefix(pieces[0], "/")
	final := strings.HasSuffix(pieces[len(pieces)-1], "/")
	var parts []string
	for _, p := range pieces {
		if t := strings.Trim(p, "/"); t != "" {
			parts = append(parts, t)
		}
	}
	r := strings.Join(parts, "/")
	if initial {
		r = "/" + r
	}
	if final {
		r += "/"
	}
	if r == "//" {
		r = "/"
	}
	return r
}

func (s *Server) contentsLocation(p string) string {
	return urlPathJoin(s.prefix, "api", "contents", pyQuote(p))
}

// ---- routing ----

var checkpointIDRoute = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// contentsPathOK is Jupyter's path_regex: "", "/" or "/seg/seg" with no
// empty segment, matched on the escaped path.
func contentsPathOK(raw string) bool {
	if raw == "" || raw == "/" {
		return true
	}
	if !strings.HasPrefix(raw, "/") {
		return false
	}
	for _, seg := range strings.Split(raw[1:], "/") {
		if seg == "" {
			return false
		}
	}
	return true
}

// unescapePath decodes a matched path as Tornado does (%2F included).
func unescapePath(raw string) (string, *httpError) {
	p, err := url.PathUnescape(raw)
	if err != nil {
		p = raw
	}
	if !utf8.ValidString(p) {
		return "", herr(400, "Invalid unicode in path: %s", pyBytesRepr(p[:min(len(p), 40)]))
	}
	return p, nil
}

// nulPath refuses an API path holding a NUL byte, as each generation
// does (docs/wire/contents.md C42): 2.21.1 answers 404 for every method and
// for a path named in the body; 1.23.3 crashes where it first stats the
// path ("embedded null byte"), which for a POST that creates is a 404 of
// its own. Neither the in-memory tree nor a real directory can hold such a
// name.
func (c *contents) nulPath(p string) *httpError {
	if !strings.ContainsRune(p, 0) {
		return nil
	}
	if c.gen >= 2 {
		return &httpError{status: 404, msg: strings.Trim(p, "/") + " is not a valid path"}
	}
	return crash("ValueError: embedded null byte")
}

// serveContents answers the contents API and /files/; it reports false
// for URLs that are neither, which the caller answers.
func (s *Server) serveContents(w http.ResponseWriter, r *http.Request, rel string) bool {
	if rest, ok := strings.CutPrefix(rel, "files/"); ok {
		s.serveFiles(w, r, rest)
		return true
	}
	rest, ok := strings.CutPrefix(rel, "api/contents")
	if !ok {
		return false
	}
	var h func(*http.Request, string) reply
	var raw, methods, cpID string
	switch {
	case strings.HasSuffix(rest, "/checkpoints") && contentsPathOK(strings.TrimSuffix(rest, "/checkpoints")):
		raw, methods = strings.TrimSuffix(rest, "/checkpoints"), "GET POST"
		h = s.checkpointsRoot
	case s.checkpointRoute(rest, &raw, &cpID):
		methods = "POST DELETE"
		h = func(r *http.Request, p string) reply { return s.checkpointByID(r, p, cpID) }
	case strings.HasSuffix(rest, "/trust") && contentsPathOK(strings.TrimSuffix(rest, "/trust")):
		raw, methods = strings.TrimSuffix(rest, "/trust"), "POST"
		h = s.trustNotebook
	case contentsPathOK(rest):
		raw, methods = rest, "GET PUT POST PATCH DELETE"
		h = s.contentsHandler
	default:
		return false
	}
	if !s.gate(w, r, methods) {
		return true
	}
	p, e := unescapePath(raw)
	if e == nil && (s.isGen2() || r.Method != http.MethodPost) {
		e = s.contents.nulPath(p)
	}
	if e != nil {
		e.reply().write(w)
		return true
	}
	if s.contents.err != nil {
		crash("the reference server could not open its contents root: " + s.contents.err.Error()).reply().write(w)
		return true
	}
	s.writeContents(w, h(r, p))
	return true
}

func (s *Server) checkpointRoute(rest string, raw, id *string) bool {
	i := strings.LastIndex(rest, "/checkpoints/")
	if i < 0 {
		return false
	}
	cand, cid := rest[:i], rest[i+len("/checkpoints/"):]
	if !checkpointIDRoute.MatchString(cid) || !contentsPathOK(cand) {
		return false
	}
	*raw, *id = cand, cid
	return true
}

// gate checks the token and the method as ServeHTTP does for other routes,
// and records activity; it reports whether to go on.
func (s *Server) gate(w http.ResponseWriter, r *http.Request, methods string) bool {
	if !s.authorized(r) {
		msg := "Forbidden"
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			msg = "'_xsrf' argument missing from POST"
		}
		errorReply(http.StatusForbidden, msg).write(w)
		return false
	}
	if !strings.Contains(" "+methods+" ", " "+r.Method+" ") {
		errorReply(http.StatusMethodNotAllowed, "Method Not Allowed").write(w)
		return false
	}
	s.mu.Lock()
	s.lastAct = time.Now().UTC()
	s.mu.Unlock()
	return true
}

// emptyHTML is a reply body for Tornado's empty finish(): no body, and
// Tornado's default Content-Type.
type emptyHTML struct{}

// writeContents writes a reply, adding Last-Modified for a model as
// Jupyter's _finish_model does, and closing the connection after a body
// too large to read.
func (s *Server) writeContents(w http.ResponseWriter, rp reply) {
	rp = s.personalize(rp)
	if m, ok := rp.body.(model); ok && !m.mtime.IsZero() {
		w.Header().Set("Last-Modified", m.mtime.UTC().Format(http.TimeFormat))
	}
	if m, ok := rp.body.(model2); ok && !m.mtime.IsZero() {
		w.Header().Set("Last-Modified", m.mtime.UTC().Format(http.TimeFormat))
	}
	if t, ok := rp.body.(plainText404); ok {
		t.write(w, rp.status)
		return
	}
	if rp.status == http.StatusBadRequest && rp.body == nil {
		w.Header().Set("Connection", "close")
	}
	if _, ok := rp.body.(emptyHTML); ok {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(rp.status)
		return
	}
	rp.write(w)
}

// errBodyTooLarge: the body exceeds MaxContentsBody.
var errBodyTooLarge = errors.New("body too large")

// readContentsJSON is get_json_body under MaxContentsBody: nil for an
// empty body or null. It decodes straight from the body, so the only
// copies are the decoder's buffer and the decoded values.
func readContentsJSON(r *http.Request) (any, error) {
	if r.ContentLength > MaxContentsBody {
		return nil, errBodyTooLarge
	}
	// Tornado reads the whole body before the handler parses it: a body
	// too large is refused as such, however it starts.
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1) // +1: the read that sees the end
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, MaxContentsBody+1)); err != nil {
		return nil, errors.New("Invalid JSON in body of request")
	}
	if buf.Len() > MaxContentsBody {
		return nil, errBodyTooLarge
	}
	if v, ok := readJSONObject(buf.Bytes()); ok {
		return v, nil
	}
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	switch {
	case err == io.EOF: // nothing but whitespace
		return nil, nil
	case err != nil:
		return nil, errors.New("Invalid JSON in body of request")
	}
	return v, nil
}

// readJSONObject decodes a body that is one JSON object as encoding/json
// with UseNumber decodes it into an any, in one pass over its string
// members, where encoding/json scans a body twice and copies strings
// byte by byte: a chunk of an upload is one long base64 string. Members
// of other types go through encoding/json. ok is false for anything
// else, which the caller decodes with encoding/json for its errors.
func readJSONObject(data []byte) (map[string]any, bool) {
	r := &jsonscan.Reader{Data: data}
	if r.Peek() != '{' || !r.OpenObject() {
		return nil, false
	}
	m := map[string]any{}
	n := 0
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		if r.Peek() == '"' {
			m[string(key)] = r.ReadString()
			continue
		}
		raw := r.Skip()
		if r.Err != nil {
			return nil, false
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return nil, false
		}
		m[string(key)] = v
	}
	r.End()
	return m, r.Err == nil
}

// bodyError answers a body that could not be read.
func contentsBodyError(err error) reply {
	if errors.Is(err, errBodyTooLarge) {
		return reply{status: http.StatusBadRequest} // Tornado's bare 400, connection closed
	}
	return errorReply(http.StatusBadRequest, err.Error())
}

// pyGet is Python's dict.get on a JSON body that may not be a dict.
func pyGet(v any, key string) (any, *httpError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, crash(fmt.Sprintf("AttributeError: '%s' object has no attribute 'get'", pyType(v)))
	}
	return m[key], nil
}

// pyStrArg is a value Python calls .strip() on: a str, or a crash.
func pyStrArg(v any) (string, *httpError) {
	s, ok := v.(string)
	if !ok {
		return "", crash(fmt.Sprintf("AttributeError: '%s' object has no attribute 'strip'", pyType(v)))
	}
	return s, nil
}

// pyReprValue is repr() of a decoded JSON value.
func pyReprValue(v any) string {
	switch v := v.(type) {
	case string:
		return pyStrRepr(v)
	case json.Number:
		return pyNumberText(string(v))
	case []any:
		q := make([]string, len(v))
		for i, x := range v {
			q[i] = pyReprValue(x)
		}
		return "[" + strings.Join(q, ", ") + "]"
	case map[string]any:
		var q []string
		for k, x := range v {
			q = append(q, pyStrRepr(k)+": "+pyReprValue(x))
		}
		return "{" + strings.Join(q, ", ") + "}"
	}
	return pyStr(v)
}

// pyFormat is str.format / "%s" of a decoded JSON value.
func pyFormat(v any) string {
	switch v := v.(type) {
	case json.Number:
		return pyNumberText(string(v))
	case []any, map[string]any:
		return pyReprValue(v)
	}
	return pyStr(v)
}

// pyEqualsOne is Python's chunk == 1 (1, 1.0 and True all are).
func pyEqualsOne(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return err == nil && f == 1
	}
	return false
}
