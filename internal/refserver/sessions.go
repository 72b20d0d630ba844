package refserver

import (
	"fmt"
	"net/http"
	"slices"
)

type sessionModel struct {
	ID       string         `json:"id"`
	Path     any            `json:"path"`
	Name     any            `json:"name"`
	Type     any            `json:"type"`
	Kernel   kernelModel    `json:"kernel"`
	Notebook *notebookModel `json:"notebook,omitempty"`
}

type notebookModel struct {
	Path any `json:"path"`
	Name any `json:"name"`
}

// model renders a live session; the caller holds s.mu.
func (s *Server) model(sess *session) sessionModel {
	m := sessionModel{ID: sess.id, Path: sess.path, Name: sess.name, Type: sess.typ,
		Kernel: s.kernels[sess.kernelID].model()}
	if sess.typ == "notebook" { // Jupyter keeps the deprecated model for notebooks
		m.Notebook = &notebookModel{Path: sess.path, Name: sess.name}
	}
	return m
}

// lookup finds a live session. A session whose kernel is gone is pruned,
// as Jupyter prunes it when it next reads its row, with Jupyter's message.
// The caller holds s.mu.
func (s *Server) lookup(id string) (*session, string) {
	sess := s.byID[id]
	if sess == nil {
		return nil, fmt.Sprintf("Session not found: session_id='%s'", id)
	}
	if s.kernels[sess.kernelID] == nil {
		s.removeSession(sess)
		return nil, fmt.Sprintf(`Session not found: "Kernel '%s' appears to have been culled or died unexpectedly, invalidating session '%s'. The session has been removed."`, sess.kernelID, sess.id)
	}
	return sess, ""
}

// insertSession writes a new row, as Jupyter's INSERT: it gets the next
// rowid, so lists show it last. The caller holds s.mu.
func (s *Server) insertSession(sess *session) {
	s.rowid++
	sess.rowid = s.rowid
	s.sessions.add(sess)
	s.byID[sess.id] = sess
	s.indexPath(sess)
}

func (s *Server) removeSession(sess *session) {
	s.unindexPath(sess)
	delete(s.byID, sess.id)
	s.sessions.remove(sess)
}

// setPath changes a session's stored path, keeping the path index. The
// caller holds s.mu.
func (s *Server) setPath(sess *session, path any) {
	s.unindexPath(sess)
	sess.path = path
	s.indexPath(sess)
}

// indexPath files the session under its path, keeping each path's rows in
// rowid order (a renamed row keeps its rowid).
func (s *Server) indexPath(sess *session) {
	key, ok := pathKey(sess.path)
	if !ok {
		return
	}
	rows := s.byPath[key]
	i, _ := slices.BinarySearchFunc(rows, sess.rowid, func(x *session, id uint64) int {
		return cmpUint(x.rowid, id)
	})
	s.byPath[key] = slices.Insert(rows, i, sess)
}

func (s *Server) unindexPath(sess *session) {
	key, ok := pathKey(sess.path)
	if !ok {
		return
	}
	rows := slices.DeleteFunc(s.byPath[key], func(x *session) bool { return x == sess })
	if len(rows) == 0 {
		delete(s.byPath, key)
	} else {
		s.byPath[key] = rows
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// forPath is Jupyter's session_exists for a path already bound by
// sqlValue: the first row (by rowid) with that path; if its kernel is gone
// the row is pruned and there is no session, even when a later row has the
// same path. SQL NULL equals nothing. The caller holds s.mu.
func (s *Server) forPath(bound any) *session {
	key, ok := pathKey(bound)
	if !ok {
		return nil
	}
	rows := s.byPath[key]
	if len(rows) == 0 {
		return nil
	}
	sess := rows[0]
	if s.kernels[sess.kernelID] == nil {
		s.removeSession(sess)
		return nil
	}
	return sess
}

func (s *Server) sessionsRoot(r *http.Request, _ string) reply {
	if r.Method != http.MethodGet {
		return s.create(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.sessions.values()
	list := make([]sessionModel, 0, len(rows))
	for _, sess := range rows { // lookup may prune
		if live, _ := s.lookup(sess.id); live != nil {
			list = append(list, s.model(live))
		}
	}
	return reply{status: http.StatusOK, body: list}
}

// create is POST /api/sessions: a new session, or the existing one for
// that path, unchanged. As in Jupyter, the check for an existing session
// runs before the kernel starts and the row is written after: while a
// kernel takes time to start (SetKernelStartDelay), concurrent creates for
// one path each make a session.
func (s *Server) create(r *http.Request) reply {
	v, err := readJSON(r)
	if err != nil {
		return bodyReply(err)
	}
	model, ok := v.(map[string]any)
	if !ok {
		return crashReply(fmt.Sprintf("TypeError: the JSON body is a %s, not an object", pyType(v)))
	}
	legacy := legacyNotebook
	if s.isGen2() {
		legacy = legacyNotebook2
	}
	if crash := legacy(model); crash != "" {
		return crashReply(crash)
	}
	path, ok := model["path"]
	if !ok {
		return errorReply(http.StatusBadRequest, "Missing field in JSON data: path")
	}
	typ, ok := model["type"]
	if !ok {
		return errorReply(http.StatusBadRequest, "Missing field in JSON data: type")
	}
	name := model["name"]
	kreq := map[string]any{}
	if k, ok := model["kernel"]; ok {
		if kreq, ok = k.(map[string]any); !ok {
			return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'get'", pyType(k)))
		}
	}
	kid, kname := kreq["id"], kreq["name"]
	if !truthy(kid) && !truthy(kname) {
		kname = nil
	}
	// session_exists binds the path in a SELECT, outside any try.
	bound, bad := sqlValue(path, 1)
	if bad != nil {
		return crashReply(bad.crash())
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.forPath(bound); sess != nil {
		return s.sessionReply(http.StatusCreated, sess)
	}
	// create_session, whose exceptions Jupyter answers as 500 messages.
	if unhashable(kid) { // `kernel_id in kernel_manager`
		return errorReply(http.StatusInternalServerError, fmt.Sprintf("unhashable type: '%s'", pyType(kid)))
	}
	var k *kernel
	if id, ok := kid.(string); ok {
		k = s.kernels[id]
	}
	if k == nil {
		if _, ok := path.(string); !ok { // Jupyter calls path.strip() to find the kernel's cwd
			return errorReply(http.StatusInternalServerError, fmt.Sprintf("'%s' object has no attribute 'strip'", pyType(path)))
		}
		if _, ok := name.(string); s.isGen2() && name != nil && !ok {
			// 2.x joins the name to the kernel's cwd for JPY_SESSION_NAME
			// before it starts anything (jupyter-server-2.md, "Sessions").
			return errorReply(http.StatusInternalServerError, joinTypeError(name))
		}
		spec, problem := s.kernelSpec(kname)
		if problem != nil {
			if problem.noSuch {
				return reply{status: http.StatusNotImplemented, body: map[string]string{
					"message":       fmt.Sprintf("The '%s' kernel is not available. Please pick another suitable kernel instead, or install that kernel.", pyStr(kname)),
					"short_message": fmt.Sprintf("%s not found", pyStr(kname)),
				}}
			}
			return errorReply(http.StatusInternalServerError, problem.msg)
		}
		newKID := ""
		if id, ok := kid.(string); ok && s.isGen2() { // 2.x starts the kernel under the id asked for
			newKID = askedKernelID(id)
		}
		k = s.startKernelID(spec, newKID) // may release s.mu while the kernel starts
	}
	p, n, t, bad := storable(path, name, typ)
	if bad != nil {
		// Jupyter has started the kernel before SQLite refuses the row,
		// and leaves it running.
		return errorReply(http.StatusInternalServerError, bad.msg)
	}
	sess := &session{id: newID(), path: p, name: n, typ: t, kernelID: k.id}
	s.insertSession(sess)
	return s.sessionReply(http.StatusCreated, sess)
}

// sessionReply answers with a session model; 201 adds the Location header
// (prefix included). The caller holds s.mu.
func (s *Server) sessionReply(status int, sess *session) reply {
	r := reply{status: status, body: s.model(sess)}
	if status == http.StatusCreated {
		r.location = s.prefix + "api/sessions/" + sess.id
	}
	return r
}

func (s *Server) sessionByID(r *http.Request, id string) reply {
	switch r.Method {
	case http.MethodPatch:
		return s.patch(r, id)
	case http.MethodDelete:
		return s.delete(id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, msg := s.lookup(id)
	if sess == nil {
		return errorReply(http.StatusNotFound, msg)
	}
	return s.sessionReply(http.StatusOK, sess)
}

// patch is PATCH /api/sessions/{id}: only the keys present change. A new
// kernel (by name) or another running kernel (by id, which wins) replaces
// the session's kernel, and the old kernel is shut down. Every check runs
// before any change, so a refused PATCH changes nothing (where Jupyter may
// already have started a kernel it then leaves running).
func (s *Server) patch(r *http.Request, id string) reply {
	v, err := readJSON(r)
	if err != nil {
		return bodyReply(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, msg := s.lookup(id)
	if sess == nil {
		return errorReply(http.StatusNotFound, msg)
	}
	// Jupyter tests `key in model` and reads model[key]: a list or a
	// string body answers as Python's `in` and indexing do.
	if m, ok := v.(map[string]any); ok {
		if crash := legacyNotebook(m); crash != "" { // 2.x's PATCH reads notebook.path as 1.x does
			return crashReply(crash)
		}
	} else {
		found, crash := pyIn("notebook", v)
		if crash == "" && found {
			_, crash = pyIndex(v, "notebook")
		}
		if crash != "" {
			return crashReply(crash)
		}
	}
	keys := []string{"path", "name", "type"}
	changes := map[string]any{}
	for _, key := range keys {
		found, crash := pyIn(key, v)
		if crash == "" && found {
			changes[key], crash = pyIndex(v, key)
		}
		if crash != "" {
			return crashReply(crash)
		}
	}

	newKernel, moving := "", false    // a running kernel to move to ("" is an id 2.x may run)
	startSpec := ""                   // or the kernelspec of a kernel to start
	hasKernel, _ := pyIn("kernel", v) // v is iterable by now
	if hasKernel {
		kv, crash := pyIndex(v, "kernel")
		if crash != "" {
			return crashReply(crash)
		}
		kreq, ok := kv.(map[string]any)
		if !ok {
			return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'get'", pyType(kv)))
		}
		if kid := kreq["id"]; kid != nil {
			if unhashable(kid) {
				return crashReply(fmt.Sprintf("TypeError: unhashable type: '%s'", pyType(kid)))
			}
			str, ok := kid.(string)
			if !ok || s.kernels[str] == nil { // 2.x may run a kernel whose id is ""
				return errorReply(http.StatusBadRequest, "No such kernel: "+pyStr(kid))
			}
			newKernel, moving = str, true
		} else if kn := kreq["name"]; kn != nil {
			if s.isGen2() {
				spec, failed := s.patchKernelSpec2(sess, kn)
				if failed != nil {
					return *failed
				}
				startSpec = spec
			} else {
				if _, ok := sess.path.(string); !ok { // the new kernel's cwd comes from the old path
					return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'strip'", pyType(sess.path)))
				}
				spec, problem := s.kernelSpec(kn)
				if problem != nil {
					return crashReply(problem.exc + ": " + problem.msg)
				}
				startSpec = spec
			}
		}
	}
	bound := map[string]any{}
	for i, key := range keys {
		if val, ok := changes[key]; ok {
			b, bad := sqlValue(val, i+1)
			if bad != nil {
				return crashReply(bad.crash())
			}
			bound[key] = b
		}
	}

	if startSpec != "" {
		newKernel, moving = s.startKernel(startSpec).id, true // may release s.mu while the kernel starts
		if sess, msg = s.lookup(id); sess == nil {
			return errorReply(http.StatusNotFound, msg) // the new kernel stays, as in Jupyter
		}
	}
	if p, ok := bound["path"]; ok {
		s.setPath(sess, p)
	}
	if n, ok := bound["name"]; ok {
		sess.name = n
	}
	if t, ok := bound["type"]; ok {
		sess.typ = t
	}
	oldKernel := sess.kernelID
	if moving {
		sess.kernelID = newKernel
	}
	if s.isGen2() && (len(bound) > 0 || moving) {
		// 2.x recomputes the kernel's JPY_SESSION_NAME from the stored row
		// after writing it, and crashes on a name or path it cannot join,
		// leaving the change stored and the old kernel running
		// (jupyter-server-2.md, "Sessions").
		if crash := sessionEnvCrash(sess); crash != "" {
			return crashReply(crash)
		}
	}
	if sess.kernelID != oldKernel {
		s.shutdownKernel(oldKernel)
	}
	return s.sessionReply(http.StatusOK, sess)
}

// delete is DELETE /api/sessions/{id}: the session goes and its kernel is
// shut down (any other session on that kernel then disappears too).
func (s *Server) delete(id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone[id] {
		// The kernel vanished between Jupyter's lookup and its shutdown:
		// Jupyter answers 410 and keeps the row, which is pruned on the
		// next read because its kernel is gone.
		delete(s.gone, id)
		if sess := s.byID[id]; sess != nil {
			s.shutdownKernel(sess.kernelID)
		}
		return errorReply(http.StatusGone, "Kernel deleted before session")
	}
	sess, msg := s.lookup(id)
	if sess == nil {
		return errorReply(http.StatusNotFound, msg)
	}
	s.shutdownKernel(sess.kernelID)
	s.removeSession(sess)
	return reply{status: http.StatusNoContent}
}

// legacyNotebook applies the deprecated {"notebook": {"path": p}} form, as
// Jupyter's `"notebook" in model and "path" in model["notebook"]` does;
// crash is the exception when the notebook value cannot be read that way.
func legacyNotebook(model map[string]any) (crash string) {
	nb, ok := model["notebook"]
	if !ok {
		return ""
	}
	found, crash := pyIn("path", nb)
	if crash != "" || !found {
		return crash
	}
	p, crash := pyIndex(nb, "path")
	if crash != "" {
		return crash
	}
	model["path"] = p
	model["type"] = "notebook"
	return ""
}
