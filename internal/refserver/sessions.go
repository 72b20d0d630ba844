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

func (s *Server) removeSession(sess *session) {
	delete(s.byID, sess.id)
	if i := slices.Index(s.sessions, sess); i >= 0 {
		s.sessions = slices.Delete(s.sessions, i, i+1)
	}
}

// forPath is Jupyter's session_exists: the first row with that path; if
// its kernel is gone the row is pruned and there is no session. SQL NULL
// equals nothing.
func (s *Server) forPath(path any) *session {
	if path == nil {
		return nil
	}
	for _, sess := range s.sessions {
		if sameValue(sess.path, path) {
			if s.kernels[sess.kernelID] == nil {
				s.removeSession(sess)
				return nil
			}
			return sess
		}
	}
	return nil
}

func (s *Server) sessionsRoot(r *http.Request, _ string) reply {
	if r.Method != http.MethodGet {
		return s.create(r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	list := make([]sessionModel, 0, len(s.sessions))
	for _, sess := range slices.Clone(s.sessions) { // lookup may prune
		if live, _ := s.lookup(sess.id); live != nil {
			list = append(list, s.model(live))
		}
	}
	return reply{status: http.StatusOK, body: list}
}

// create is POST /api/sessions: a new session, or the existing one for
// that path, unchanged.
func (s *Server) create(r *http.Request) reply {
	v, err := readJSON(r)
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	model, ok := v.(map[string]any)
	if !ok {
		return crashReply(fmt.Sprintf("TypeError: the JSON body is a %s, not an object", pyType(v)))
	}
	legacyNotebook(model)
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

	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.forPath(path); sess != nil {
		return s.sessionReply(http.StatusCreated, sess)
	}
	var k *kernel
	if id, ok := kid.(string); ok {
		k = s.kernels[id]
	}
	if k == nil {
		if _, ok := path.(string); !ok { // Jupyter calls path.strip() to find the kernel's cwd
			return errorReply(http.StatusInternalServerError, fmt.Sprintf("'%s' object has no attribute 'strip'", pyType(path)))
		}
		if kname == nil {
			kname = s.specs[0]
		}
		if !s.hasSpec(kname) {
			return reply{status: http.StatusNotImplemented, body: map[string]string{
				"message":       fmt.Sprintf("The '%s' kernel is not available. Please pick another suitable kernel instead, or install that kernel.", pyStr(kname)),
				"short_message": fmt.Sprintf("%s not found", pyStr(kname)),
			}}
		}
		k = s.startKernel(kname.(string))
	}
	sess := &session{id: newID(), kernelID: k.id}
	var bad int
	var complaint string
	if sess.path, sess.name, sess.typ, bad, complaint = storable(path, name, typ); bad != 0 {
		// Jupyter has started the kernel before SQLite refuses the row,
		// and leaves it running.
		return errorReply(http.StatusInternalServerError, fmt.Sprintf("Error binding parameter %d: %s", bad, complaint))
	}
	s.sessions = append(s.sessions, sess)
	s.byID[sess.id] = sess
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
// before any change, so a refused PATCH changes nothing.
func (s *Server) patch(r *http.Request, id string) reply {
	v, err := readJSON(r)
	if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, msg := s.lookup(id)
	if sess == nil {
		return errorReply(http.StatusNotFound, msg)
	}
	var model map[string]any
	switch v := v.(type) {
	case map[string]any:
		model = v
	case []any: // Jupyter finds none of its keys "in" a list: nothing changes
	default:
		return crashReply(fmt.Sprintf("TypeError: argument of type '%s' is not iterable", pyType(v)))
	}
	legacyNotebook(model)

	path, name, typ := sess.path, sess.name, sess.typ
	if p, ok := model["path"]; ok {
		path = p
	}
	if n, ok := model["name"]; ok {
		name = n
	}
	if t, ok := model["type"]; ok {
		typ = t
	}
	path, name, typ, bad, complaint := storable(path, name, typ)
	if bad != 0 {
		return crashReply("sqlite3.ProgrammingError: Error binding parameter: " + complaint)
	}

	newKernel := ""   // id of a running kernel to move to
	var startName any // or the kernelspec of a kernel to start
	if kv, ok := model["kernel"]; ok {
		kreq, ok := kv.(map[string]any)
		if !ok {
			return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'get'", pyType(kv)))
		}
		if kid := kreq["id"]; kid != nil {
			str, _ := kid.(string)
			if s.kernels[str] == nil {
				return errorReply(http.StatusBadRequest, "No such kernel: "+pyStr(kid))
			}
			newKernel = str
		} else if kn := kreq["name"]; kn != nil {
			if !s.hasSpec(kn) {
				return crashReply("jupyter_client.kernelspec.NoSuchKernel: No such kernel named " + pyStr(kn))
			}
			startName = kn
		}
	}

	sess.path, sess.name, sess.typ = path, name, typ
	if startName != nil {
		newKernel = s.startKernel(startName.(string)).id
	}
	if newKernel != "" && newKernel != sess.kernelID {
		s.shutdownKernel(sess.kernelID)
		sess.kernelID = newKernel
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

// legacyNotebook applies the deprecated {"notebook": {"path": p}} form.
func legacyNotebook(model map[string]any) {
	if nb, ok := model["notebook"].(map[string]any); ok {
		if p, ok := nb["path"]; ok {
			model["path"] = p
			model["type"] = "notebook"
		}
	}
}
