package refserver

// The contents API in the Jupyter Server 2.x personality
// (docs/wire/jupyter-server-2.md G10): every model carries hash
// and hash_algorithm (null unless GET asks with ?hash=1), and GET answers
// a missing path with a plain-text 404 body.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"time"
)

// model2 is a contents model as 2.x writes it: model's keys with hash and
// hash_algorithm between writable and type.
type model2 struct {
	Name          string  `json:"name"`
	Path          string  `json:"path"`
	LastModified  string  `json:"last_modified"`
	Created       string  `json:"created"`
	Content       any     `json:"content"`
	Format        any     `json:"format"`
	Mimetype      any     `json:"mimetype"`
	Size          any     `json:"size"`
	Writable      bool    `json:"writable"`
	Hash          *string `json:"hash"`
	HashAlgorithm *string `json:"hash_algorithm"`
	Type          string  `json:"type"`
	Message       string  `json:"message,omitempty"`

	mtime time.Time
}

// withHashKeys is m as 2.x writes it, a directory's children included,
// with hash as given (nil: null).
func withHashKeys(m model, hash *string) model2 {
	out := model2{Name: m.Name, Path: m.Path, LastModified: m.LastModified, Created: m.Created,
		Content: m.Content, Format: m.Format, Mimetype: m.Mimetype, Size: m.Size, Writable: m.Writable,
		Hash: hash, Type: m.Type, Message: m.Message, mtime: m.mtime}
	if hash != nil {
		alg := "sha256"
		out.HashAlgorithm = &alg
	}
	if children, ok := m.Content.([]model); ok {
		list := make([]model2, len(children))
		for i, c := range children {
			list[i] = withHashKeys(c, nil)
		}
		out.Content = list
	}
	return out
}

// plainText404 is 2.x's answer to a GET of a path that is not there: the
// message written as the body, not as JSON, under Jupyter's JSON
// Content-Type.
type plainText404 string

// contentsGet2 is GET /api/contents/{path} in 2.x: 1.x's answer, with the
// hash argument checked and honoured and a 404 written as 2.x writes it.
func (s *Server) contentsGet2(r *http.Request, p string) reply {
	want := "0"
	if v, ok := queryArg(r, "hash"); ok {
		want = v
	}
	if want != "0" && want != "1" {
		return errorReply(http.StatusBadRequest, "Hash argument "+pyStrRepr(want)+" is invalid. It must be '0' or '1'.")
	}
	if typ, ok := queryArg(r, "type"); ok && typ != "directory" && typ != "file" && typ != "notebook" {
		// 2.x reads an unknown type as "file" where 1.x refuses it.
		r = r.Clone(r.Context())
		q := r.URL.Query()
		q.Set("type", "file")
		r.URL.RawQuery = q.Encode()
	}
	// A path outside the root fails 2.x's hidden-file check, before the
	// handler's plain-text 404: that 404 stays JSON.
	if _, e := osRel(strings.Trim(p, "/")); e != nil {
		return e.reply()
	}
	rp := s.contentsGet(r, p)
	if rp.status == http.StatusNotFound {
		return reply{status: http.StatusNotFound, body: plainText404("file or directory " + pyStrRepr(p) + " does not exist")}
	}
	m, ok := rp.body.(model)
	if !ok || want != "1" {
		return rp
	}
	if m.Type == "directory" {
		return errorReply(http.StatusInternalServerError, "Keys unexpectedly None: ['hash', 'hash_algorithm']")
	}
	c := s.contents
	c.mu.Lock()
	rel, e := osRel(strings.Trim(p, "/"))
	var data []byte
	var err error
	if e == nil {
		data, err = c.fs.read(rel)
	}
	c.mu.Unlock()
	if e != nil || err != nil { // gone since: as a missing path
		return reply{status: http.StatusNotFound, body: plainText404("file or directory " + pyStrRepr(p) + " does not exist")}
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	rp.body = withHashKeys(m, &hash)
	return rp
}

// write writes the text as the body, labelled as JSON as 2.x labels it.
func (t plainText404) write(w http.ResponseWriter, status int) {
	writeBody(w, status, "application/json", string(t))
}

// contentsPost2 is POST /api/contents/{dir} in 2.x: a body that is empty
// or falsy makes an untitled file, and a type other than "", "directory",
// "file" and "notebook" is read as "file" (1.x refuses both); the rest is
// 1.x's (jupyter-server-2.md, "More differences found by the differential
// test"). The caller holds the contents lock.
func (s *Server) contentsPost2(body any, p string) (model, *httpError) {
	if !truthy(body) {
		return s.contents.newUntitled(p, "", "")
	}
	in, ok := body.(map[string]any)
	if !ok {
		return s.contentsPost(body, p) // 1.x's crash on a body without .get
	}
	if !truthy(in["copy_from"]) {
		b, e := typeFallback2(in)
		if e != nil {
			return model{}, e
		}
		return s.contentsPost(b, p)
	}
	return s.contentsPost(in, p)
}

// typeFallback2 is 2.x's reading of a PUT or POST model's type: one other
// than null, "", "directory", "file" and "notebook" is "file"; one that
// cannot be looked up in a set crashes.
func typeFallback2(body any) (any, *httpError) {
	in, ok := body.(map[string]any)
	if !ok {
		return body, nil
	}
	typ, ok := in["type"]
	if !ok || typ == nil {
		return body, nil
	}
	if unhashable(typ) {
		return nil, crash(fmt.Sprintf("TypeError: unhashable type: '%s'", pyType(typ)))
	}
	if str, isStr := typ.(string); !isStr || str != "" && str != "directory" && str != "file" && str != "notebook" {
		in = maps.Clone(in)
		in["type"] = "file"
	}
	return in, nil
}

// copyDir2 is 2.x's copy of a directory from (a stripped API path) into
// the directory to: shutil.copytree to "<name>-Copy<n>" (the name as given
// when to is not a directory), files and directories keeping their
// modification times; the answer is the copy's model without content. A
// copy that fails is 2.x's 400. The caller holds the contents lock.
func (c *contents) copyDir2(from, fromName, to string) (model, *httpError) {
	toName := copyPat.ReplaceAllString(fromName, ".")
	toRel, e := osRel(to)
	if e != nil {
		return model{}, e
	}
	if c.isDir(toRel) {
		toName = c.incrementFilename(toName, to, "-Copy")
	}
	dest := strings.TrimPrefix(to+"/"+toName, "/")
	fromRel, e := osRel(from)
	if e != nil {
		return model{}, e
	}
	destRel, e := osRel(dest)
	if e != nil {
		return model{}, e
	}
	if c.exists(destRel) || c.copyTree(fromRel, destRel) != nil {
		return model{}, herr(400, "Can't copy '%s' into read-only Folder '%s'", from, dest)
	}
	return c.get(dest, false, "", "")
}

// copyTree is shutil.copytree: the tree at from recreated at to, whose
// parents it makes, with copy2's modification times. Like copytree it
// lists from before making to, so a tree copied into itself holds one
// copy, not an endless nest.
func (c *contents) copyTree(from, to string) error {
	ents, err := c.fs.list(from)
	if err != nil {
		return err
	}
	if err := c.fs.mkdirAll(to); err != nil {
		return err
	}
	for _, ent := range ents {
		src, dst := from+"/"+ent.name, to+"/"+ent.name
		if ent.dir {
			if err := c.copyTree(src, dst); err != nil {
				return err
			}
			continue
		}
		data, err := c.fs.read(src)
		if err != nil {
			return err
		}
		if err := c.fs.write(dst, data, false); err != nil {
			return err
		}
		if err := c.fs.chtimes(dst, ent.mtime); err != nil {
			return err
		}
	}
	fi, err := c.fs.stat(from) // copystat, last: from's time after to was made in it
	if err != nil {
		return err
	}
	return c.fs.chtimes(to, fi.mtime)
}
