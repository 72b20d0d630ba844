package refserver

// The storage under the contents API: a small file-system interface with
// two implementations, an in-memory tree (the default: fast, isolated per
// server) and a real directory (Options.ContentsRoot). Paths are
// slash-separated, relative to the root, already normalized ("" is the
// root); errors are *osError values carrying the errno Python would see,
// so that messages read as Jupyter's do.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// fileInfo is what a stat gives the contents manager.
type fileInfo struct {
	name         string
	dir          bool
	size         int64
	mtime, ctime time.Time
	writable     bool
	unreadable   bool // a directory that cannot be listed: Jupyter hides it
}

// osError is an OSError as Python prints it: "[Errno 2] No such file or
// directory: '/root/x'".
type osError struct {
	errno syscall.Errno
	path  string
	path2 string // the second file name of a two-name call (rename)
}

func (e *osError) Error() string {
	s := fmt.Sprintf("[Errno %d] %s: %s", int(e.errno), pyStrerror(e.errno), pyStrRepr(e.path))
	if e.path2 != "" {
		s += " -> " + pyStrRepr(e.path2)
	}
	return s
}

// pyStrerror is the C library's message, as Python shows it.
func pyStrerror(n syscall.Errno) string {
	switch n {
	case syscall.ENOENT:
		return "No such file or directory"
	case syscall.ENOTDIR:
		return "Not a directory"
	case syscall.EISDIR:
		return "Is a directory"
	case syscall.EEXIST:
		return "File exists"
	case syscall.EACCES:
		return "Permission denied"
	case syscall.ENOTEMPTY:
		return "Directory not empty"
	}
	s := n.Error()
	return strings.ToUpper(s[:1]) + s[1:]
}

// nonFileError refuses a path that is neither a regular file nor a
// directory (a FIFO, a socket, a device, or a symlink to one): opening a
// FIFO blocks until a writer comes and /dev/zero never ends, and the
// contents lock is held across the open, so such files are refused before
// any byte is read or written. Jupyter answers "Cannot read non-file".
type nonFileError struct{ path string }

func (e *nonFileError) Error() string { return "not a regular file: " + pyStrRepr(e.path) }

func errnoOf(err error) syscall.Errno {
	var oe *osError
	if errors.As(err, &oe) {
		return oe.errno
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		return en
	}
	return 0
}

// fsys is the storage behind the contents API. Implementations need not
// be safe for concurrent use: the contents manager serializes calls.
type fsys interface {
	// osPath is the path Jupyter would print for rel.
	osPath(rel string) string
	stat(rel string) (fileInfo, error)
	list(rel string) ([]fileInfo, error)
	read(rel string) ([]byte, error)
	// open returns the content for streaming; the reader stays valid
	// after later writes (memory: a snapshot; disk: an open file).
	open(rel string) (io.ReadSeekCloser, fileInfo, error)
	// write creates or truncates the file; appending adds to its end,
	// creating it if need be. The caller must not change data afterwards.
	write(rel string, data []byte, appending bool) error
	mkdir(rel string) error
	mkdirAll(rel string) error
	rename(from, to string) error
	removeAll(rel string) error
	remove(rel string) error
	// chtimes sets the modification time, as shutil.copystat does.
	chtimes(rel string, mtime time.Time) error
}

// ---- in memory ----

type memNode struct {
	dir          bool
	data         []byte // never changed in place below len: readers hold snapshots
	children     map[string]*memNode
	mtime, ctime time.Time
}

type memFS struct {
	root *memNode
	now  func() time.Time
}

func newMemFS() *memFS {
	t := time.Now().UTC()
	return &memFS{root: &memNode{dir: true, children: map[string]*memNode{}, mtime: t, ctime: t},
		now: func() time.Time { return time.Now().UTC() }}
}

// The in-memory tree prints its paths as if its root were "/".
func (m *memFS) osPath(rel string) string { return "/" + rel }

func splitRel(rel string) []string {
	if rel == "" {
		return nil
	}
	return strings.Split(rel, "/")
}

// walk finds rel's node, or the errno the OS would give.
func (m *memFS) walk(rel string) (*memNode, syscall.Errno) {
	if strings.IndexByte(rel, 0) >= 0 {
		return nil, syscall.EINVAL // what the OS gives a real directory's NUL path
	}
	n := m.root
	for _, part := range splitRel(rel) {
		if !n.dir {
			return nil, syscall.ENOTDIR
		}
		c := n.children[part]
		if c == nil {
			return nil, syscall.ENOENT
		}
		n = c
	}
	return n, 0
}

// parent finds the directory that holds rel, and rel's last name.
func (m *memFS) parent(rel string) (*memNode, string, syscall.Errno) {
	if strings.IndexByte(rel, 0) >= 0 {
		return nil, "", syscall.EINVAL
	}
	dir, name := path.Split(rel)
	p, e := m.walk(strings.TrimSuffix(dir, "/"))
	if e != 0 {
		return nil, "", e
	}
	if !p.dir {
		return nil, "", syscall.ENOTDIR
	}
	return p, name, 0
}

func (m *memFS) info(name string, n *memNode) fileInfo {
	fi := fileInfo{name: name, dir: n.dir, mtime: n.mtime, ctime: n.ctime, writable: true, size: int64(len(n.data))}
	if n.dir {
		fi.size = 4096
	}
	return fi
}

func (m *memFS) stat(rel string) (fileInfo, error) {
	n, e := m.walk(rel)
	if e != 0 {
		return fileInfo{}, &osError{errno: e, path: m.osPath(rel)}
	}
	return m.info(path.Base("/"+rel), n), nil
}

func (m *memFS) list(rel string) ([]fileInfo, error) {
	n, e := m.walk(rel)
	if e == 0 && !n.dir {
		e = syscall.ENOTDIR
	}
	if e != 0 {
		return nil, &osError{errno: e, path: m.osPath(rel)}
	}
	out := make([]fileInfo, 0, len(n.children))
	for name, c := range n.children {
		out = append(out, m.info(name, c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func (m *memFS) read(rel string) ([]byte, error) {
	n, e := m.walk(rel)
	if e == 0 && n.dir {
		e = syscall.EISDIR
	}
	if e != 0 {
		return nil, &osError{errno: e, path: m.osPath(rel)}
	}
	return n.data[:len(n.data):len(n.data)], nil
}

type nopSeekCloser struct{ *bytes.Reader }

func (nopSeekCloser) Close() error { return nil }

func (m *memFS) open(rel string) (io.ReadSeekCloser, fileInfo, error) {
	b, err := m.read(rel)
	if err != nil {
		return nil, fileInfo{}, err
	}
	fi, _ := m.stat(rel)
	return nopSeekCloser{bytes.NewReader(b)}, fi, nil
}

func (m *memFS) write(rel string, data []byte, appending bool) error {
	p, name, e := m.parent(rel)
	if e != 0 {
		return &osError{errno: e, path: m.osPath(rel)}
	}
	t := m.now()
	n := p.children[name]
	switch {
	case n == nil:
		n = &memNode{ctime: t}
		p.children[name] = n
		p.mtime, p.ctime = t, t
	case n.dir:
		return &osError{errno: syscall.EISDIR, path: m.osPath(rel)}
	}
	if appending {
		n.data = append(n.data, data...) // past len only: snapshots stay intact
	} else {
		n.data = data[:len(data):len(data)] // the caller hands data over
	}
	n.mtime, n.ctime = t, t
	return nil
}

func (m *memFS) mkdir(rel string) error {
	p, name, e := m.parent(rel)
	if e == 0 && p.children[name] != nil {
		e = syscall.EEXIST
	}
	if e != 0 {
		return &osError{errno: e, path: m.osPath(rel)}
	}
	t := m.now()
	p.children[name] = &memNode{dir: true, children: map[string]*memNode{}, mtime: t, ctime: t}
	p.mtime, p.ctime = t, t
	return nil
}

func (m *memFS) mkdirAll(rel string) error {
	cur := ""
	for _, part := range splitRel(rel) {
		cur = path.Join(cur, part)
		n, e := m.walk(cur)
		if e == syscall.ENOENT {
			if err := m.mkdir(cur); err != nil {
				return err
			}
			continue
		}
		if e != 0 || !n.dir {
			return &osError{errno: syscall.ENOTDIR, path: m.osPath(rel)}
		}
	}
	return nil
}

func (m *memFS) rename(from, to string) error {
	fp, fname, e := m.parent(from)
	if e == 0 && fp.children[fname] == nil {
		e = syscall.ENOENT
	}
	if e != 0 {
		return &osError{errno: e, path: m.osPath(from)}
	}
	if from == "" || to == from || strings.HasPrefix(to+"/", from+"/") {
		return &osError{errno: syscall.EINVAL, path: m.osPath(from), path2: m.osPath(to)}
	}
	tp, tname, e := m.parent(to)
	if e != 0 {
		return &osError{errno: e, path: m.osPath(to)}
	}
	n := fp.children[fname]
	if old := tp.children[tname]; old != nil && old.dir && !n.dir {
		return &osError{errno: syscall.EISDIR, path: m.osPath(to)}
	}
	delete(fp.children, fname)
	tp.children[tname] = n
	t := m.now()
	fp.mtime, fp.ctime, tp.mtime, tp.ctime, n.ctime = t, t, t, t, t
	return nil
}

func (m *memFS) removeAll(rel string) error {
	p, name, e := m.parent(rel)
	if e == 0 && p.children[name] == nil {
		e = syscall.ENOENT
	}
	if e != 0 {
		return &osError{errno: e, path: m.osPath(rel)}
	}
	delete(p.children, name)
	t := m.now()
	p.mtime, p.ctime = t, t
	return nil
}

func (m *memFS) remove(rel string) error {
	n, e := m.walk(rel)
	if e == 0 && n.dir && len(n.children) > 0 {
		e = syscall.ENOTEMPTY
	}
	if e != 0 {
		return &osError{errno: e, path: m.osPath(rel)}
	}
	return m.removeAll(rel)
}

func (m *memFS) chtimes(rel string, mtime time.Time) error {
	n, e := m.walk(rel)
	if e != 0 {
		return &osError{errno: e, path: m.osPath(rel)}
	}
	n.mtime = mtime
	return nil
}

// ---- a real directory ----

type dirFS struct{ root string } // absolute and clean

func newDirFS(root string) (*dirFS, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", abs)
	}
	return &dirFS{root: abs}, nil
}

func (d *dirFS) osPath(rel string) string {
	if rel == "" {
		return d.root
	}
	return filepath.Join(d.root, filepath.FromSlash(rel))
}

// wrap turns a Go file error into the osError Python would have raised.
func (d *dirFS) wrap(err error, rel string) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		var en syscall.Errno
		if errors.As(pe.Err, &en) {
			return &osError{errno: en, path: d.osPath(rel)}
		}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		var en syscall.Errno
		if errors.As(le.Err, &en) {
			return &osError{errno: en, path: le.Old, path2: le.New}
		}
	}
	return err
}

func (d *dirFS) infoOf(name, osPath string, st fs.FileInfo) fileInfo {
	fi := fileInfo{name: name, dir: st.IsDir(), size: st.Size(), mtime: st.ModTime().UTC(), ctime: ctimeOf(st)}
	fi.writable = canAccess(osPath, 2)
	if fi.dir {
		fi.unreadable = !canAccess(osPath, 5)
	}
	return fi
}

func (d *dirFS) stat(rel string) (fileInfo, error) {
	p := d.osPath(rel)
	st, err := os.Stat(p)
	if err != nil {
		return fileInfo{}, d.wrap(err, rel)
	}
	return d.infoOf(path.Base("/"+rel), p, st), nil
}

func (d *dirFS) list(rel string) ([]fileInfo, error) {
	p := d.osPath(rel)
	ents, err := os.ReadDir(p)
	if err != nil {
		return nil, d.wrap(err, rel)
	}
	out := make([]fileInfo, 0, len(ents))
	for _, e := range ents {
		cp := filepath.Join(p, e.Name())
		st, err := os.Stat(cp)
		if err != nil || !(st.Mode().IsRegular() || st.IsDir()) {
			continue // broken links and special files, as Jupyter skips them
		}
		out = append(out, d.infoOf(e.Name(), cp, st))
	}
	return out, nil
}

// openRegular opens rel without blocking and only if it is a regular file
// (a directory gives EISDIR, anything else a *nonFileError). O_NONBLOCK
// makes open(2) of a FIFO return at once instead of waiting for its other
// end; the fstat that follows looks at what was opened, so a path swapped
// for a FIFO between a stat and the open is refused too. O_NONBLOCK does
// nothing to a regular file's reads and writes.
func (d *dirFS) openRegular(rel string, flag int) (*os.File, fs.FileInfo, error) {
	p := d.osPath(rel)
	f, err := os.OpenFile(p, flag|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return nil, nil, d.wrap(err, rel)
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		err = d.wrap(err, rel)
	case st.IsDir():
		err = &osError{errno: syscall.EISDIR, path: p}
	case !st.Mode().IsRegular():
		err = &nonFileError{path: p}
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func (d *dirFS) read(rel string) ([]byte, error) {
	f, _, err := d.openRegular(rel, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return b, d.wrap(err, rel)
}

func (d *dirFS) open(rel string) (io.ReadSeekCloser, fileInfo, error) {
	f, st, err := d.openRegular(rel, os.O_RDONLY)
	if err != nil {
		return nil, fileInfo{}, err
	}
	return f, d.infoOf(path.Base("/"+rel), d.osPath(rel), st), nil
}

func (d *dirFS) write(rel string, data []byte, appending bool) error {
	// Truncated only once known to be a regular file: O_TRUNC would come
	// before openRegular's check.
	flag := os.O_WRONLY | os.O_CREATE
	if appending {
		flag |= os.O_APPEND
	}
	f, _, err := d.openRegular(rel, flag)
	if err != nil {
		return err
	}
	if !appending {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return d.wrap(err, rel)
}

func (d *dirFS) mkdir(rel string) error { return d.wrap(os.Mkdir(d.osPath(rel), 0o755), rel) }

func (d *dirFS) mkdirAll(rel string) error { return d.wrap(os.MkdirAll(d.osPath(rel), 0o755), rel) }

func (d *dirFS) rename(from, to string) error {
	if from == "" || strings.HasPrefix(to+"/", from+"/") {
		return &osError{errno: syscall.EINVAL, path: d.osPath(from), path2: d.osPath(to)}
	}
	return d.wrap(os.Rename(d.osPath(from), d.osPath(to)), from)
}

func (d *dirFS) removeAll(rel string) error {
	if _, err := os.Lstat(d.osPath(rel)); err != nil {
		return d.wrap(err, rel)
	}
	return d.wrap(os.RemoveAll(d.osPath(rel)), rel)
}

func (d *dirFS) remove(rel string) error { return d.wrap(os.Remove(d.osPath(rel)), rel) }

func (d *dirFS) chtimes(rel string, mtime time.Time) error {
	return d.wrap(os.Chtimes(d.osPath(rel), time.Time{}, mtime), rel)
}
