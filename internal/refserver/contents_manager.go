package refserver

// The contents manager: FileContentsManager's get, save, new, copy,
// rename and delete, with LargeFileManager's chunked saves, on an fsys.
// Every method's caller holds c.mu. Paths named p are API paths as the
// manager receives them; rel is the normalized path in the fsys.

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// pyISO is a datetime's isoformat() as Jupyter writes it: microseconds
// unless there are none, and "Z".
func pyISO(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

func lastName(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// baseModel is _base_model for the stripped API path p.
func (c *contents) baseModel(p, rel string, fi fileInfo) model {
	return model{Name: lastName(p), Path: p, LastModified: pyISO(fi.mtime), Created: pyISO(fi.ctime),
		Size: fi.size, Writable: fi.writable, mtime: fi.mtime}
}

// get is the manager's get(path, content, type, format); typ and format
// are "" for None.
func (c *contents) get(p string, content bool, typ, format string) (model, *httpError) {
	p = strings.Trim(p, "/")
	rel, e := osRel(p)
	if e != nil {
		return model{}, e
	}
	fi, err := c.fs.stat(rel)
	if err != nil {
		return model{}, herr(404, "file or directory does not exist: %s", pyStrRepr(p))
	}
	if h, e := c.hidden(rel); e != nil {
		return model{}, e
	} else if h {
		return model{}, herr(404, "file or directory does not exist: %s", pyStrRepr(p))
	}
	switch {
	case fi.dir:
		if typ != "" && typ != "directory" {
			return model{}, &httpError{status: 400, msg: fmt.Sprintf("%s is a directory, not a %s", p, typ), reason: "bad type"}
		}
		return c.dirModel(p, rel, fi, content)
	case typ == "notebook" || (typ == "" && strings.HasSuffix(p, ".ipynb")):
		return c.notebookModel(p, rel, fi, content)
	case typ == "directory":
		return model{}, &httpError{status: 400, msg: p + " is not a directory", reason: "bad type"}
	}
	return c.fileModel(p, rel, fi, content, format)
}

func (c *contents) dirModel(p, rel string, fi fileInfo, content bool) (model, *httpError) {
	m := c.baseModel(p, rel, fi)
	m.Type, m.Size = "directory", nil
	if !content {
		return m, nil
	}
	ents, err := c.fs.list(rel)
	if err != nil {
		return model{}, crashOS(err)
	}
	list := make([]model, 0, len(ents))
	for _, ent := range ents {
		if !shouldList(ent.name) || strings.HasPrefix(ent.name, ".") || ent.unreadable {
			continue
		}
		child, e := c.get(p+"/"+ent.name, false, "", "")
		if e != nil {
			continue
		}
		list = append(list, child)
	}
	m.Content, m.Format = list, "json"
	return m, nil
}

func (c *contents) fileModel(p, rel string, fi fileInfo, content bool, format string) (model, *httpError) {
	m := c.baseModel(p, rel, fi)
	m.Type = "file"
	if mt, _ := guessType(c.fs.osPath(rel)); mt != "" {
		m.Mimetype = mt
	}
	if !content {
		return m, nil
	}
	data, err := c.fs.read(rel)
	if err != nil {
		return model{}, readError(err, c.fs.osPath(rel))
	}
	if format != "base64" && utf8.Valid(data) {
		m.Content, m.Format = string(data), "text"
		if m.Mimetype == nil {
			m.Mimetype = "text/plain"
		}
		return m, nil
	}
	if format == "text" {
		return model{}, &httpError{status: 400, msg: c.fs.osPath(rel) + " is not UTF-8 encoded", reason: "bad format"}
	}
	m.Content, m.Format = encodeBytes(data), "base64"
	if m.Mimetype == nil {
		m.Mimetype = "application/octet-stream"
	}
	return m, nil
}

// readError is _read_file's answer when reading osPath failed: a 400 for
// what is not a regular file, the OSError's 500 otherwise.
func readError(err error, osPath string) *httpError {
	var nf *nonFileError
	if errnoOf(err) == syscall.EISDIR || errors.As(err, &nf) {
		return herr(400, "Cannot read non-file %s", osPath)
	}
	return crashOS(err)
}

func (c *contents) notebookModel(p, rel string, fi fileInfo, content bool) (model, *httpError) {
	m := c.baseModel(p, rel, fi)
	m.Type = "notebook"
	if !content {
		return m, nil
	}
	data, err := c.fs.read(rel)
	if err != nil {
		// Jupyter would block in open(2) on a FIFO here; refusing it as
		// _read_file does is the one answer that keeps the server up.
		return model{}, readError(err, c.fs.osPath(rel))
	}
	nb, minor, err := readNotebook(data, c.gen)
	if err != nil {
		return model{}, herr(400, "Unreadable Notebook: %s %s", c.fs.osPath(rel), err.Error())
	}
	md, _ := nb["metadata"].(map[string]any)
	trusted := md != nil && c.signed[nbDigest(nb, md)]
	markTrusted(nb, trusted)
	m.Content, m.Format = nb, "json"
	m.Message = validateNotebook(nb, minor)
	return m, nil
}

// ---- saving ----

func saveCrash(p string, err error) *httpError {
	return herr(500, "Unexpected error while saving file: %s %s", p, err.Error())
}

// save is the manager's save(model, path), with LargeFileManager's chunks.
func (c *contents) save(in map[string]any, p string) (model, *httpError) {
	p = strings.Trim(p, "/")
	if chunk, ok := in["chunk"]; ok && chunk != nil {
		return c.saveChunk(in, p, chunk)
	}
	typ, ok := in["type"]
	if !ok {
		return model{}, herr(400, "No file type provided")
	}
	if _, ok := in["content"]; !ok && typ != "directory" {
		return model{}, herr(400, "No file content provided")
	}
	rel, e := osRel(p)
	if e != nil {
		return model{}, e
	}
	osPath := c.fs.osPath(rel)
	if h, e := c.hidden(rel); e != nil {
		return model{}, e
	} else if h {
		return model{}, herr(400, "Cannot create file or directory %s", pyStrRepr(osPath))
	}
	var message string
	switch typ {
	case "notebook":
		var minor int64
		nb, digest, msg, err := prepareNotebook(in["content"], &minor)
		if err != nil {
			return model{}, saveCrash(p, err)
		}
		if err := c.fs.write(rel, writeNotebook(nb), false); err != nil {
			return model{}, saveCrash(p, err)
		}
		if digest != "" {
			c.signed[digest] = true
		}
		cps, e := c.listCheckpoints(p)
		if e != nil {
			return model{}, e
		}
		if len(cps) == 0 {
			if _, e := c.createCheckpoint(p); e != nil {
				return model{}, e
			}
		}
		message = msg
	case "file":
		data, e := encodeContent(osPath, in["content"], in["format"])
		if e != nil {
			return model{}, e
		}
		if err := c.fs.write(rel, data, false); err != nil {
			return model{}, saveCrash(p, err)
		}
	case "directory":
		fi, err := c.fs.stat(rel)
		switch {
		case err != nil:
			if err := c.fs.mkdir(rel); err != nil {
				return model{}, saveCrash(p, err)
			}
		case !fi.dir:
			return model{}, herr(400, "Not a directory: %s", osPath)
		}
	default:
		return model{}, herr(400, "Unhandled contents type: %s", pyFormat(typ))
	}
	m, e := c.get(p, false, "", "")
	if e != nil {
		return model{}, e
	}
	m.Message = message
	return m, nil
}

// encodeContent is _save_file's conversion of the model's content to bytes.
func encodeContent(osPath string, content, format any) ([]byte, *httpError) {
	if format != "text" && format != "base64" {
		return nil, herr(400, "Must specify format of file contents as 'text' or 'base64'")
	}
	s, ok := content.(string)
	if !ok {
		return nil, herr(400, "Encoding error saving %s: '%s' object has no attribute 'encode'", osPath, pyType(content))
	}
	if format == "text" {
		return []byte(s), nil
	}
	b, err := a2bBase64(s)
	if err != nil {
		return nil, herr(400, "Encoding error saving %s: %s", osPath, err.Error())
	}
	return b, nil
}

func (c *contents) saveChunk(in map[string]any, p string, chunk any) (model, *httpError) {
	typ, ok := in["type"]
	if !ok {
		return model{}, herr(400, "No file type provided")
	}
	if typ != "file" {
		return model{}, herr(400, "File type \"%s\" is not supported for large file transfer", pyFormat(typ))
	}
	if _, ok := in["content"]; !ok {
		return model{}, herr(400, "No file content provided")
	}
	rel, e := osRel(p)
	if e != nil {
		return model{}, e
	}
	data, e := encodeContent(c.fs.osPath(rel), in["content"], in["format"])
	if e != nil {
		return model{}, e
	}
	if err := c.fs.write(rel, data, !pyEqualsOne(chunk)); err != nil {
		return model{}, saveCrash(p, err)
	}
	return c.get(p, false, "", "")
}

// newFile is the manager's new(model, path): defaults for what the model
// leaves out, then save.
func (c *contents) newFile(in map[string]any, p string) (model, *httpError) {
	p = strings.Trim(p, "/")
	if in == nil {
		in = map[string]any{}
	}
	if _, ok := in["type"]; !ok {
		if strings.HasSuffix(p, ".ipynb") {
			in["type"] = "notebook"
		} else {
			in["type"] = "file"
		}
	}
	if _, ok := in["content"]; !ok && in["type"] != "directory" {
		if in["type"] == "notebook" {
			in["content"] = map[string]any{"cells": []any{}, "metadata": map[string]any{},
				"nbformat": json.Number("4"), "nbformat_minor": json.Number("5")}
			in["format"] = "json"
		} else {
			in["content"], in["type"], in["format"] = "", "file", "text"
		}
	}
	return c.save(in, p)
}

// incrementFilename is the manager's increment_filename.
func (c *contents) incrementFilename(filename, dir, insert string) string {
	base, dot, ext := rpartition(filename, ".")
	if ext != "ipynb" {
		base, dot, ext = partition(filename, ".")
	}
	suffix := dot + ext
	for i := 0; ; i++ {
		ins := ""
		if i > 0 {
			ins = fmt.Sprintf("%s%d", insert, i)
		}
		name := base + ins + suffix
		rel, e := osRel(dir + "/" + name)
		if e != nil || !c.exists(rel) {
			return name
		}
	}
}

func rpartition(s, sep string) (string, string, string) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return "", "", s
	}
	return s[:i], sep, s[i+len(sep):]
}

func partition(s, sep string) (string, string, string) {
	before, after, ok := strings.Cut(s, sep)
	if !ok {
		return s, "", ""
	}
	return before, sep, after
}

// newUntitled is the manager's new_untitled(path, type, ext).
func (c *contents) newUntitled(p string, typ, ext any) (model, *httpError) {
	p = strings.Trim(p, "/")
	rel, e := osRel(p)
	if e != nil {
		return model{}, e
	}
	if !c.isDir(rel) {
		return model{}, herr(404, "No such directory: %s", p)
	}
	in := map[string]any{}
	if truthy(typ) {
		in["type"] = typ
	}
	if ext == ".ipynb" {
		if _, ok := in["type"]; !ok {
			in["type"] = "notebook"
		}
	} else if _, ok := in["type"]; !ok {
		in["type"] = "file"
	}
	var untitled, insert string
	switch in["type"] {
	case "directory":
		untitled, insert = "Untitled Folder", " "
	case "notebook":
		untitled, ext = "Untitled", ".ipynb"
	case "file":
		untitled = "untitled"
	default:
		return model{}, herr(400, "Unexpected model type: %s", pyReprValue(in["type"]))
	}
	extS, ok := ext.(string)
	if !ok {
		return model{}, crash(fmt.Sprintf("TypeError: can only concatenate str (not \"%s\") to str", pyType(ext)))
	}
	name := c.incrementFilename(untitled+extS, p, insert)
	return c.newFile(in, p+"/"+name)
}

var copyPat = regexp.MustCompile(`-Copy\d*\.`)

// copyFile is the manager's copy(from_path, to_path), to_path given.
func (c *contents) copyFile(from, to string) (model, *httpError) {
	p := strings.Trim(from, "/")
	to = strings.Trim(to, "/")
	fromName := lastName(p)
	src, e := c.get(p, true, "", "")
	if e != nil && e.status == 404 && c.gen >= 2 {
		return model{}, herr(404, "No such file or directory: %s", p)
	}
	if e != nil {
		return model{}, e
	}
	if src.Type == "directory" && c.gen >= 2 {
		return c.copyDir2(p, fromName, to) // contents_gen2.go
	}
	if src.Type == "directory" {
		return model{}, herr(400, "Can't copy directories")
	}
	toRel, e := osRel(to)
	if e != nil {
		return model{}, e
	}
	if c.isDir(toRel) {
		name := copyPat.ReplaceAllString(fromName, ".")
		to = to + "/" + c.incrementFilename(name, to, "-Copy")
	} else if i := strings.LastIndex(to, "/"); i >= 0 {
		dir := to[:i]
		dirRel, e := osRel(dir)
		if e != nil {
			return model{}, e
		}
		if !c.isDir(dirRel) {
			return model{}, herr(404, "No such parent directory: %s to copy file in", dir)
		}
	}
	in := map[string]any{"type": src.Type, "content": src.Content, "format": src.Format}
	if nb, ok := src.Content.(map[string]any); ok {
		in["content"] = reDecode(nb) // the read model's own values, as Python hands them on
	}
	return c.save(in, to)
}

// reDecode turns a notebook read back into plain decoded JSON.
func reDecode(v any) any {
	b, _ := json.Marshal(v)
	var out any
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	_ = dec.Decode(&out)
	return out
}

// rename is the manager's rename (rename_file, then the checkpoints).
func (c *contents) rename(oldP, newP string) *httpError {
	oldP, newP = strings.Trim(oldP, "/"), strings.Trim(newP, "/")
	if oldP == newP {
		return nil
	}
	newRel, e := osRel(newP)
	if e != nil {
		return e
	}
	oldRel, e := osRel(oldP)
	if e != nil {
		return e
	}
	hOld, e := c.hidden(oldRel)
	if e != nil {
		return e
	}
	hNew, e := c.hidden(newRel)
	if e != nil {
		return e
	}
	if hOld || hNew {
		return herr(400, "Cannot rename file or directory %s", pyStrRepr(c.fs.osPath(oldRel)))
	}
	if c.exists(newRel) {
		if !c.exists(oldRel) { // os.path.samefile stats the source first
			return crashOS(&osError{errno: syscall.ENOENT, path: c.fs.osPath(oldRel)})
		}
		if oldRel != newRel {
			return herr(409, "File already exists: %s", newP)
		}
	}
	if oldRel != newRel {
		if err := c.move(oldRel, newRel); err != nil {
			if c.gen >= 2 && errnoOf(err) == syscall.ENOENT { // 2.x catches it (jupyter-server-2.md)
				return herr(404, "File or directory does not exist: %s", oldP)
			}
			return herr(500, "Unknown error renaming file: %s %s", oldP, err.Error())
		}
	}
	// rename_all_checkpoints
	cps, e := c.listCheckpoints(oldP)
	if e != nil {
		return e
	}
	if len(cps) > 0 {
		from, e := c.checkpointRel(oldP)
		if e != nil {
			return e
		}
		to, e := c.checkpointRel(newP)
		if e != nil {
			return e
		}
		if err := c.move(from, to); err != nil {
			return crashOS(err)
		}
	}
	return nil
}

// move is shutil.move where the target does not exist: os.rename, and
// on failure shutil's fallbacks and their errors.
func (c *contents) move(from, to string) error {
	err := c.fs.rename(from, to)
	if err == nil {
		return nil
	}
	fi, serr := c.fs.stat(from)
	switch {
	case serr != nil:
		return &osError{errno: syscall.ENOENT, path: c.fs.osPath(from)}
	case fi.dir && errnoOf(err) == syscall.EINVAL:
		return fmt.Errorf("Cannot move a directory %s into itself %s.", pyStrRepr(c.fs.osPath(from)), pyStrRepr(c.fs.osPath(to)))
	case fi.dir:
		// copytree makes the target's missing parents first.
		if merr := c.fs.mkdirAll(parentRel(to)); merr != nil {
			return &osError{errno: errnoOf(merr), path: c.fs.osPath(to)}
		}
		if err := c.fs.rename(from, to); err != nil {
			return &osError{errno: errnoOf(err), path: c.fs.osPath(to)}
		}
		return nil
	}
	return &osError{errno: errnoOf(err), path: c.fs.osPath(to)}
}

func parentRel(rel string) string {
	if i := strings.LastIndex(rel, "/"); i >= 0 {
		return rel[:i]
	}
	return ""
}

// deletePath is the manager's delete: to the trash (Jupyter's default,
// with the root and HOME on one device), which takes non-empty
// directories too, then the file's checkpoints.
func (c *contents) deletePath(p string) *httpError {
	p = strings.Trim(p, "/")
	if p == "" {
		return herr(400, "Can't delete root")
	}
	rel, e := osRel(p)
	if e != nil {
		return e
	}
	if h, e := c.hidden(rel); e != nil {
		return e
	} else if h {
		return herr(400, "Cannot delete file or directory %s", pyStrRepr(c.fs.osPath(rel)))
	}
	fi, err := c.fs.stat(rel)
	if err != nil && c.gen >= 2 { // 2.x names the OS path (jupyter-server-2.md)
		return herr(404, "File or directory does not exist: %s", c.fs.osPath(rel))
	}
	if err != nil {
		return herr(404, "file or directory does not exist: %s", pyStrRepr(p))
	}
	if !fi.writable {
		return herr(403, "Permission denied: %s", p)
	}
	if err := c.fs.removeAll(rel); err != nil {
		return crashOS(err)
	}
	cps, e := c.listCheckpoints(p)
	if e != nil {
		return e
	}
	for _, cp := range cps {
		if e := c.deleteCheckpoint(cp.ID, p); e != nil {
			return e
		}
	}
	return nil
}
