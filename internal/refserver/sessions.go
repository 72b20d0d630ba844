package refserver

import (
	"encoding/json"
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

func (s *Server) sessionsRoot(w http.ResponseWriter, r *http.Request, _ string) {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		list := make([]sessionModel, 0, len(s.sessions))
		for _, sess := range slices.Clone(s.sessions) {
			if live, _ := s.lookup(sess.id); live != nil {
				list = append(list, s.model(live))
			}
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, list)
		return
	}
	s.create(w, r)
}

// create is POST /api/sessions: a new session, or the existing one for
// that path, unchanged.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	v, err := readJSON(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	model, ok := v.(map[string]any)
	if !ok {
		writeCrash(w, fmt.Sprintf("TypeError: the JSON body is a %s, not an object", pyType(v)))
		return
	}
	legacyNotebook(model)
	path, ok := model["path"]
	if !ok {
		writeError(w, http.StatusBadRequest, "Missing field in JSON data: path")
		return
	}
	typ, ok := model["type"]
	if !ok {
		writeError(w, http.StatusBadRequest, "Missing field in JSON data: type")
		return
	}
	name := model["name"]
	kreq := map[string]any{}
	if k, ok := model["kernel"]; ok {
		if kreq, ok = k.(map[string]any); !ok {
			writeCrash(w, fmt.Sprintf("AttributeError: '%s' object has no attribute 'get'", pyType(k)))
			return
		}
	}
	kid, kname := kreq["id"], kreq["name"]
	if !truthy(kid) && !truthy(kname) {
		kname = nil
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if sess := s.forPath(path); sess != nil {
		s.writeSession(w, http.StatusCreated, sess)
		return
	}
	var k *kernel
	if id, ok := kid.(string); ok {
		k = s.kernels[id]
	}
	if k == nil {
		if _, ok := path.(string); !ok { // Jupyter calls path.strip() to find the kernel's cwd
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("'%s' object has no attribute 'strip'", pyType(path)))
			return
		}
		if kname == nil {
			kname = s.specs[0]
		}
		if !s.hasSpec(kname) {
			writeJSON(w, http.StatusNotImplemented, map[string]string{
				"message":       fmt.Sprintf("The '%s' kernel is not available. Please pick another suitable kernel instead, or install that kernel.", pyStr(kname)),
				"short_message": fmt.Sprintf("%s not found", pyStr(kname)),
			})
			return
		}
	}
	if k == nil {
		k = s.startKernel(kname.(string))
	}
	sess := &session{id: newID()}
	var bad int
	if sess.path, sess.name, sess.typ, bad = storable(path, name, typ); bad != 0 {
		// Jupyter has started the kernel before SQLite refuses the row,
		// and leaves it running.
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("Error binding parameter %d: type '%s' is not supported", bad, pyType([]any{path, name, typ}[bad-2])))
		return
	}
	sess.kernelID = k.id
	s.sessions = append(s.sessions, sess)
	s.byID[sess.id] = sess
	s.writeSession(w, http.StatusCreated, sess)
}

// writeSession answers with a session model; 201 adds the Location header
// (prefix included). The caller holds s.mu.
func (s *Server) writeSession(w http.ResponseWriter, status int, sess *session) {
	if status == http.StatusCreated {
		w.Header().Set("Location", s.prefix+"api/sessions/"+sess.id)
	}
	writeJSON(w, status, s.model(sess))
}

func (s *Server) sessionByID(w http.ResponseWriter, r *http.Request, id string) {
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		sess, msg := s.lookup(id)
		if sess == nil {
			writeError(w, http.StatusNotFound, msg)
			return
		}
		s.writeSession(w, http.StatusOK, sess)
	case http.MethodPatch:
		s.patch(w, r, id)
	case http.MethodDelete:
		s.delete(w, id)
	}
}

// patch is PATCH /api/sessions/{id}: only the keys present change. A new
// kernel (by name) or another running kernel (by id, which wins) replaces
// the session's kernel, and the old kernel is shut down. Every check runs
// before any change, so a refused PATCH changes nothing.
func (s *Server) patch(w http.ResponseWriter, r *http.Request, id string) {
	v, err := readJSON(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, msg := s.lookup(id)
	if sess == nil {
		writeError(w, http.StatusNotFound, msg)
		return
	}
	var model map[string]any
	switch v := v.(type) {
	case map[string]any:
		model = v
	case []any: // Jupyter finds none of its keys "in" a list: nothing changes
	default:
		writeCrash(w, fmt.Sprintf("TypeError: argument of type '%s' is not iterable", pyType(v)))
		return
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
	path, name, typ, bad := storable(path, name, typ)
	if bad != 0 {
		writeCrash(w, "sqlite3.ProgrammingError: Error binding parameter: type '"+pyType([]any{path, name, typ}[bad-2])+"' is not supported")
		return
	}

	newKernel := ""   // id of a running kernel to move to
	var startName any // or the kernelspec of a kernel to start
	if kv, ok := model["kernel"]; ok {
		kreq, ok := kv.(map[string]any)
		if !ok {
			writeCrash(w, fmt.Sprintf("AttributeError: '%s' object has no attribute 'get'", pyType(kv)))
			return
		}
		if kid := kreq["id"]; kid != nil {
			str, _ := kid.(string)
			if s.kernels[str] == nil {
				writeError(w, http.StatusBadRequest, "No such kernel: "+pyStr(kid))
				return
			}
			newKernel = str
		} else if kn := kreq["name"]; kn != nil {
			if !s.hasSpec(kn) {
				writeCrash(w, "jupyter_client.kernelspec.NoSuchKernel: No such kernel named "+pyStr(kn))
				return
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
	s.writeSession(w, http.StatusOK, sess)
}

// delete is DELETE /api/sessions/{id}: the session goes and its kernel is
// shut down (any other session on that kernel then disappears too).
func (s *Server) delete(w http.ResponseWriter, id string) {
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
		writeError(w, http.StatusGone, "Kernel deleted before session")
		return
	}
	sess, msg := s.lookup(id)
	if sess == nil {
		writeError(w, http.StatusNotFound, msg)
		return
	}
	s.shutdownKernel(sess.kernelID)
	s.removeSession(sess)
	w.WriteHeader(http.StatusNoContent)
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

// storable converts values as Python's sqlite3 stores them: strings,
// numbers and null as they are, booleans as 1 or 0. It returns the SQL
// parameter number (2 for path, 3 name, 4 type) of an object or array,
// which SQLite cannot bind, or 0.
func storable(path, name, typ any) (any, any, any, int) {
	out := [3]any{path, name, typ}
	for i, v := range out {
		switch v := v.(type) {
		case bool:
			out[i] = json.Number("0")
			if v {
				out[i] = json.Number("1")
			}
		case map[string]any, []any:
			return nil, nil, nil, i + 2
		}
	}
	return out[0], out[1], out[2], 0
}

// sameValue is SQL equality of two stored values (neither NULL).
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return ok && a == b
	case json.Number:
		switch b := b.(type) {
		case json.Number:
			return a == b
		case bool:
			return (a == "1" && b) || (a == "0" && !b)
		}
	}
	return false
}

// truthy is Python's truth value of a decoded JSON value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// pyType names the Python type json.loads gives for a decoded value.
func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "int"
		}
		return "float"
	case []any:
		return "list"
	}
	return "dict"
}

// pyStr renders a value as Python's "%s" does, for error messages.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
