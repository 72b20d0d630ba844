package refserver

// ContentsHandler: GET, PUT, POST, PATCH and DELETE on
// /api/contents/{path}, in the order Jupyter's handler checks things.

import (
	"net/http"
	"strings"
)

func (s *Server) contentsHandler(r *http.Request, p string) reply {
	c := s.contents
	switch r.Method {
	case http.MethodGet:
		if s.isGen2() {
			return s.contentsGet2(r, p)
		}
		return s.contentsGet(r, p)
	case http.MethodDelete:
		c.mu.Lock()
		defer c.mu.Unlock()
		if h, e := c.hiddenAPI(p); e != nil {
			return e.reply()
		} else if h {
			return errorReply(400, "Cannot delete file or directory "+pyStrRepr(p))
		}
		if e := c.deletePath(p); e != nil {
			return e.reply()
		}
		return reply{status: http.StatusNoContent}
	}
	// Jupyter reads the body before anything else; so does this server,
	// outside the lock.
	if r.Method == http.MethodPost {
		c.mu.Lock()
		rel, e := osRel(p)
		isFile := e == nil && c.isFile(rel)
		c.mu.Unlock()
		if e != nil {
			return e.reply()
		}
		if isFile {
			return errorReply(400, "Cannot POST to files, use PUT instead.")
		}
	}
	body, err := readContentsJSON(r)
	if err != nil {
		return contentsBodyError(err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var m model
	var e *httpError
	status := http.StatusOK
	switch r.Method {
	case http.MethodPut:
		if s.isGen2() {
			if body, e = typeFallback2(body); e != nil {
				break
			}
		}
		m, status, e = s.contentsPut(body, p)
	case http.MethodPost:
		if s.isGen2() {
			m, e = s.contentsPost2(body, p)
		} else {
			m, e = s.contentsPost(body, p)
		}
		status = http.StatusCreated
	case http.MethodPatch:
		m, e = s.contentsPatch(body, p)
	}
	if e != nil {
		return e.reply()
	}
	return reply{status: status, body: m, location: s.contentsLocation(m.Path)}
}

// queryArg is Tornado's get_query_argument: the last value, stripped;
// ok is false when absent.
func queryArg(r *http.Request, name string) (string, bool) {
	vs, ok := r.URL.Query()[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return strings.TrimSpace(vs[len(vs)-1]), true
}

func (s *Server) contentsGet(r *http.Request, p string) reply {
	typ, hasType := queryArg(r, "type")
	if hasType && typ != "directory" && typ != "file" && typ != "notebook" {
		return errorReply(400, "Type "+pyStrRepr(typ)+" is invalid")
	}
	format, hasFormat := queryArg(r, "format")
	if hasFormat && format != "text" && format != "base64" {
		return errorReply(400, "Format "+pyStrRepr(format)+" is invalid")
	}
	content := "1"
	if v, ok := queryArg(r, "content"); ok {
		content = v
	}
	if content != "0" && content != "1" {
		return errorReply(400, "Content "+pyStrRepr(content)+" is invalid")
	}
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, e := c.hiddenAPI(p); e != nil {
		return e.reply()
	} else if h {
		return errorReply(404, "file or directory "+pyStrRepr(p)+" does not exist")
	}
	m, e := c.get(p, content == "1", typ, format)
	if e != nil {
		return e.reply()
	}
	return reply{status: http.StatusOK, body: m}
}

// contentsPut saves (200) or uploads (201) the model, or with no model
// creates an untitled file in the directory p (201).
func (s *Server) contentsPut(body any, p string) (model, int, *httpError) {
	c := s.contents
	if !truthy(body) {
		m, e := c.newUntitled(p, "", "")
		return m, http.StatusCreated, e
	}
	cf, e := pyGet(body, "copy_from")
	if e != nil {
		return model{}, 0, e
	}
	if truthy(cf) {
		return model{}, 0, herr(400, "Cannot copy with PUT, only POST")
	}
	in := body.(map[string]any)
	hidden := false
	if mp := in["path"]; truthy(mp) {
		mps, e := pyStrArg(mp)
		if e != nil {
			return model{}, 0, e
		}
		if hidden, e = c.hiddenAPI(mps); e != nil {
			return model{}, 0, e
		}
	}
	if !hidden {
		var e *httpError
		if hidden, e = c.hiddenAPI(p); e != nil {
			return model{}, 0, e
		}
	}
	if hidden {
		return model{}, 0, herr(400, "Cannot create file or directory %s", pyStrRepr(p))
	}
	rel, e := osRel(p)
	if e != nil {
		return model{}, 0, e
	}
	if c.isFile(rel) {
		m, e := c.save(in, p)
		return m, http.StatusOK, e
	}
	m, e := c.newFile(in, p)
	return m, http.StatusCreated, e
}

func (s *Server) contentsPost(body any, p string) (model, *httpError) {
	c := s.contents
	cf, e := pyGet(body, "copy_from")
	if e != nil {
		return model{}, e
	}
	in := body.(map[string]any)
	if truthy(cf) {
		h, e := c.hiddenAPI(p)
		if e != nil {
			return model{}, e
		}
		if !h {
			from, e := pyStrArg(cf)
			if e != nil {
				return model{}, e
			}
			if h, e = c.hiddenAPI(from); e != nil {
				return model{}, e
			}
		}
		if h {
			return model{}, herr(400, "Cannot copy file or directory %s", pyStrRepr(p))
		}
		return c.copyFile(cf.(string), p)
	}
	ext, ok := in["ext"]
	if !ok {
		ext = ""
	}
	typ, ok := in["type"]
	if !ok {
		typ = ""
	}
	return c.newUntitled(p, typ, ext)
}

func (s *Server) contentsPatch(body any, p string) (model, *httpError) {
	c := s.contents
	if body == nil {
		return model{}, herr(400, "JSON body missing")
	}
	newV, e := pyGet(body, "path")
	if e != nil {
		return model{}, e
	}
	if truthy(newV) {
		h, e := c.hiddenAPI(p)
		if e != nil {
			return model{}, e
		}
		if !h {
			np, e := pyStrArg(newV)
			if e != nil {
				return model{}, e
			}
			if h, e = c.hiddenAPI(np); e != nil {
				return model{}, e
			}
		}
		if h {
			return model{}, herr(400, "Cannot rename file or directory %s", pyStrRepr(p))
		}
	}
	// update(model, path)
	oldP := strings.Trim(p, "/")
	newP := oldP
	if v, ok := body.(map[string]any)["path"]; ok {
		s, e := pyStrArg(v)
		if e != nil {
			return model{}, e
		}
		newP = strings.Trim(s, "/")
	}
	if oldP != newP {
		if e := c.rename(oldP, newP); e != nil {
			return model{}, e
		}
	}
	return c.get(newP, false, "", "")
}
