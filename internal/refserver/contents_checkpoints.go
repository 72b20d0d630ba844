package refserver

// Checkpoints as FileCheckpoints keeps them: one per file, id
// "checkpoint", stored beside the file as
// .ipynb_checkpoints/<name>-checkpoint<ext> (hidden, so never listed).
// Looking a checkpoint up creates that directory, parents included, as
// Jupyter's ensure_dir_exists does.

import (
	"fmt"
	"net/http"
	"strings"
)

const checkpointID = "checkpoint"

type checkpointModel struct {
	ID           string `json:"id"`
	LastModified string `json:"last_modified"`
}

// checkpointPathRel is checkpoint_path(id, path) for an API path.
func (c *contents) checkpointPathRel(id, p string) (string, *httpError) {
	p = strings.Trim(p, "/")
	parent, name := "", p
	if i := strings.LastIndex(p, "/"); i >= 0 {
		parent, name = p[:i], p[i+1:]
	}
	base, ext := pySplitext(name)
	parentRel, e := osRel(parent)
	if e != nil {
		return "", e
	}
	dir := strings.TrimPrefix(parentRel+"/.ipynb_checkpoints", "/")
	if c.gen >= 2 && !c.isDir(parentRel) {
		// 2.x keeps the checkpoints of a directory it cannot write (a
		// missing one included) in the system's temporary directory
		// instead of creating it: no checkpoint is found there.
		return dir + "/" + base + "-" + id + ext, nil
	}
	if err := c.fs.mkdirAll(dir); err != nil {
		return "", crashOS(err)
	}
	return dir + "/" + base + "-" + id + ext, nil
}

func (c *contents) checkpointRel(p string) (string, *httpError) {
	return c.checkpointPathRel(checkpointID, p)
}

func (c *contents) listCheckpoints(p string) ([]checkpointModel, *httpError) {
	rel, e := c.checkpointRel(p)
	if e != nil {
		return nil, e
	}
	fi, err := c.fs.stat(rel)
	if err != nil || fi.dir {
		return []checkpointModel{}, nil
	}
	return []checkpointModel{{ID: checkpointID, LastModified: pyISO(fi.mtime)}}, nil
}

// copyPreserving is shutil.copyfile then copystat: the copy keeps the
// source's modification time. Errors are the unhandled OSErrors Jupyter
// crashes with.
func (c *contents) copyPreserving(from, to string) *httpError {
	data, err := c.fs.read(from)
	if err != nil {
		return crashOS(err)
	}
	fi, _ := c.fs.stat(from)
	if err := c.fs.write(to, data, false); err != nil {
		return crashOS(err)
	}
	_ = c.fs.chtimes(to, fi.mtime)
	return nil
}

func (c *contents) createCheckpoint(p string) (checkpointModel, *httpError) {
	src, e := osRel(p)
	if e != nil {
		return checkpointModel{}, e
	}
	dst, e := c.checkpointRel(p)
	if e != nil {
		return checkpointModel{}, e
	}
	if e := c.copyPreserving(src, dst); e != nil {
		return checkpointModel{}, e
	}
	fi, _ := c.fs.stat(dst)
	return checkpointModel{ID: checkpointID, LastModified: pyISO(fi.mtime)}, nil
}

func (c *contents) restoreCheckpoint(id, p string) *httpError {
	src, e := c.checkpointPathRel(id, p)
	if e != nil {
		return e
	}
	dst, e := osRel(p)
	if e != nil {
		return e
	}
	return c.copyPreserving(src, dst)
}

func (c *contents) deleteCheckpoint(id, p string) *httpError {
	rel, e := c.checkpointPathRel(id, p)
	if e != nil {
		return e
	}
	if fi, err := c.fs.stat(rel); err != nil || fi.dir {
		return herr(404, "Checkpoint does not exist: %s@%s", strings.Trim(p, "/"), id)
	}
	if err := c.fs.remove(rel); err != nil {
		return crashOS(err)
	}
	return nil
}

// checkpointsRoot answers GET (list) and POST (create) on
// /api/contents/{path}/checkpoints.
func (s *Server) checkpointsRoot(r *http.Request, p string) reply {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	if r.Method == http.MethodGet {
		cps, e := c.listCheckpoints(p)
		if e != nil {
			return e.reply()
		}
		return reply{status: http.StatusOK, body: cps}
	}
	cp, e := c.createCheckpoint(p)
	if e != nil {
		return e.reply()
	}
	loc := urlPathJoin(s.prefix, "api/contents", pyQuote(p), "checkpoints", pyQuote(cp.ID))
	return reply{status: http.StatusCreated, body: cp, location: loc}
}

// checkpointByID answers POST (restore) and DELETE on
// /api/contents/{path}/checkpoints/{id}.
func (s *Server) checkpointByID(r *http.Request, p, id string) reply {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	var e *httpError
	if r.Method == http.MethodPost {
		e = c.restoreCheckpoint(id, p)
	} else {
		e = c.deleteCheckpoint(id, p)
	}
	if e != nil {
		return e.reply()
	}
	return reply{status: http.StatusNoContent}
}

// trustNotebook answers POST /api/contents/{path}/trust: the notebook is
// signed as trusted, as "jupyter trust" does.
func (s *Server) trustNotebook(_ *http.Request, p string) reply {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	m, e := c.get(p, true, "", "")
	if e != nil {
		return e.reply()
	}
	nb, ok := m.Content.(map[string]any)
	if !ok {
		return crash(fmt.Sprintf("TypeError: string indices must be integers, not 'str' (%s is a %s)", strings.Trim(p, "/"), m.Type)).reply()
	}
	// mark_cells(True), then check_cells pops the marks as it signs.
	cells, _ := nb["cells"].([]any)
	for _, cl := range cells {
		if cell, ok := cl.(map[string]any); ok {
			if md, ok := cell["metadata"].(map[string]any); ok {
				delete(md, "trusted")
			}
		}
	}
	if md, ok := nb["metadata"].(map[string]any); ok {
		c.signed[nbDigest(nb, md)] = true
	}
	return reply{status: http.StatusCreated, body: emptyHTML{}}
}
