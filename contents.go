package nbserv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nbserv/go-nbserv/internal/jsonscan"
	"github.com/nbserv/go-nbserv/internal/transport"
	"github.com/nbserv/go-nbserv/nbformat"
)

// ContentsType is what a contents model is: Contents.Type and the Type
// of the requests that name one. A server may send another string; it is
// kept as it came.
type ContentsType string

// The contents types of Jupyter's contents manager.
const (
	// ContentsDirectory is a directory; its content is its entries.
	ContentsDirectory ContentsType = "directory"
	// ContentsFile is a file other than a notebook; its content is text
	// or base64.
	ContentsFile ContentsType = "file"
	// ContentsNotebook is a notebook; its content is the notebook's JSON.
	ContentsNotebook ContentsType = "notebook"
)

// Contents formats: how a model's content is encoded.
const (
	FormatJSON   = "json"   // notebooks and directory listings
	FormatText   = "text"   // files that are UTF-8 text
	FormatBase64 = "base64" // any file, as base64
)

// ContentsService reads and writes files, notebooks and directories
// (/api/contents), and streams large files. Reach it as Client.Contents.
// Its methods Get, Create, Save, Rename, Delete, ListCheckpoints,
// CreateCheckpoint, RestoreCheckpoint and DeleteCheckpoint mirror the
// Python client's ContentsApi one to one; the others (GetNotebook,
// SaveNotebook, ReadFile, WriteFile, ReadText, WriteText, Stat, List,
// Mkdir, NewUntitled, Copy, Upload, Download, Open) build on them.
//
// Paths are relative to the server's root and use "/" between segments,
// whatever they contain (spaces, unicode, '#', '?', '%'): each segment is
// escaped on the wire. Leading, trailing and repeated slashes and "."
// segments are dropped, as Jupyter drops them; a ".." segment or a NUL
// byte is refused with a *ValidationError before any request, since it
// can only be an attempt to leave the root.
type ContentsService struct{ c *Client }

// Contents is a contents model: a file, notebook or directory, with its
// content when it was asked for.
type Contents struct {
	// Name is the last segment of Path ("" for the root).
	Name string
	// Path is the path from the server's root.
	Path string
	// Type is ContentsDirectory, ContentsFile or ContentsNotebook.
	Type ContentsType
	// Writable reports whether the server may write the file.
	Writable bool
	// Created and LastModified are the file's times, as the server
	// reports them.
	Created      time.Time
	LastModified time.Time
	// Mimetype is a file's MIME type (empty for notebooks, directories
	// and files the server cannot guess).
	Mimetype string
	// Format is how the content was sent: FormatJSON, FormatText or
	// FormatBase64; empty when the model has no content.
	Format string
	// Size is the file's size in bytes; nil for directories.
	Size *int64
	// Message is the server's notebook validation message, if any: a
	// notebook that fails nbformat validation is still read and saved.
	Message string

	// The content, when requested; which field depends on Type and Format.

	// Entries lists a directory's entries, without their content.
	Entries []Contents
	// Text is a file's content in FormatText.
	Text string
	// Data is a file's content in FormatBase64, decoded.
	Data []byte
	// Notebook is a notebook's content.
	Notebook *nbformat.Notebook

	// Malformed holds, by JSON key, the raw value of each field whose
	// JSON type did not fit, as in Session.Malformed.
	Malformed map[string]json.RawMessage
}

// Checkpoint is a saved copy of a file that RestoreCheckpoint can go back
// to. Jupyter's file manager keeps one per file, with the ID "checkpoint".
type Checkpoint struct {
	// ID names the checkpoint.
	ID string `json:"id"`
	// LastModified is when it was taken.
	LastModified time.Time `json:"last_modified"`
}

// GetOptions are Get's query parameters.
type GetOptions struct {
	// Type asks for the path as ContentsFile, ContentsNotebook or
	// ContentsDirectory; a mismatch fails with ErrBadRequest ("bad type").
	// Empty lets the server decide (.ipynb files are notebooks).
	Type ContentsType
	// Format asks for a file's content as FormatText or FormatBase64.
	// Text fails with ErrBadRequest on a file that is not UTF-8; empty
	// tries text, then base64.
	Format string
	// NoContent leaves the content out (content=0): the model alone.
	NoContent bool
}

// CreateRequest is the body of Create.
type CreateRequest struct {
	// Type of the new untitled entry: ContentsNotebook, ContentsFile or
	// ContentsDirectory. Empty means a file (or a notebook if Ext is
	// ".ipynb").
	Type ContentsType `json:"type,omitempty"`
	// Ext is a new file's extension, such as ".txt" (default: none).
	Ext string `json:"ext,omitempty"`
	// CopyFrom, when set, makes Create copy that file instead of creating
	// an empty one (see Copy).
	CopyFrom string `json:"copy_from,omitempty"`
}

// SaveRequest is the body of Save: a model with content.
type SaveRequest struct {
	// Type is ContentsFile, ContentsNotebook or ContentsDirectory.
	Type ContentsType `json:"type"`
	// Format is FormatText or FormatBase64 for a file, FormatJSON for a
	// notebook, empty for a directory.
	Format string `json:"format,omitempty"`
	// Content is a string for a text file; a []byte (sent as base64) or a
	// base64 string for a base64 file; a *nbformat.Notebook for a
	// notebook; nil for a directory.
	Content any `json:"content"`
}

// Get returns the model of a file, notebook or directory, with its
// content unless opt.NoContent (GET /api/contents/{path}; Python:
// api_contents_path_get). "" is the root directory. A missing path fails
// with ErrNotFound, as does a hidden one (a segment starting with ".").
func (s *ContentsService) Get(ctx context.Context, path string, opt GetOptions, opts ...CallOption) (*Contents, error) {
	p, err := contentsURL(path, true)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opt.Type != "" {
		q.Set("type", string(opt.Type))
	}
	if opt.Format != "" {
		q.Set("format", opt.Format)
	}
	if opt.NoContent {
		q.Set("content", "0")
	}
	return s.model(ctx, transport.Call{Method: "GET", Path: p, Query: q}, opts)
}

// Create makes a new untitled file, notebook or directory in the
// directory dir, named by the server ("Untitled.ipynb", "Untitled1.ipynb",
// "untitled.txt", "Untitled Folder"), or, with req.CopyFrom, copies a file
// (POST /api/contents/{dir}; Python: api_contents_path_post). A POST to an
// existing file fails with ErrBadRequest. It is not retried once the
// server may have acted, since each attempt creates another file.
func (s *ContentsService) Create(ctx context.Context, dir string, req CreateRequest, opts ...CallOption) (*Contents, error) {
	p, err := contentsURL(dir, true)
	if err != nil {
		return nil, err
	}
	if req.CopyFrom != "" {
		if req.CopyFrom, err = cleanPath("copyFrom", req.CopyFrom, false); err != nil {
			return nil, err
		}
	}
	// Always a JSON body: Jupyter 1.23 crashes (500) on a POST without one.
	return s.model(ctx, transport.Call{Method: "POST", Path: p, Body: req}, opts)
}

// Save writes a file, notebook or directory at path, creating or
// replacing it (PUT /api/contents/{path}; Python: api_contents_path_put).
// The answer is 201 when the file was created, 200 when it existed (see
// Response.StatusCode with WithResponse); the model returned has no
// content. A notebook that fails validation is saved anyway, with the
// reason in Contents.Message. Save writes the whole file, so it is
// retried like a GET.
func (s *ContentsService) Save(ctx context.Context, path string, req SaveRequest, opts ...CallOption) (*Contents, error) {
	p, err := contentsURL(path, false)
	if err != nil {
		return nil, err
	}
	return s.model(ctx, transport.Call{Method: "PUT", Path: p, Body: req, Idempotent: true}, opts)
}

// Rename moves a file or directory to newPath, which must not exist
// (PATCH /api/contents/{path}; Python: api_contents_path_patch). An
// existing newPath fails with ErrConflict (409); on Jupyter 1.23 a missing
// path fails with ErrServer (500, "Unknown error renaming file").
func (s *ContentsService) Rename(ctx context.Context, path, newPath string, opts ...CallOption) (*Contents, error) {
	p, err := contentsURL(path, false)
	if err != nil {
		return nil, err
	}
	to, err := cleanPath("newPath", newPath, false)
	if err != nil {
		return nil, err
	}
	body := struct {
		Path string `json:"path"`
	}{to}
	return s.model(ctx, transport.Call{Method: "PATCH", Path: p, Body: body}, opts)
}

// Delete deletes a file or directory (DELETE /api/contents/{path};
// Python: api_contents_path_delete). Jupyter refuses a non-empty
// directory with ErrBadRequest unless it sends deletes to the trash, and
// hidden files with ErrBadRequest. As for sessions, a 404 counts as
// success after an earlier attempt of the same call the server may have
// carried out, its answer lost (not after attempts it refused, such as a
// 503): that attempt may have deleted it.
func (s *ContentsService) Delete(ctx context.Context, path string, opts ...CallOption) error {
	p, err := contentsURL(path, false)
	if err != nil {
		return err
	}
	return transport.Deleted(s.c.t.Do(ctx, transport.Call{Method: "DELETE", Path: p}, opts))
}

// ListCheckpoints lists a file's checkpoints (GET
// /api/contents/{path}/checkpoints; Python:
// api_contents_path_checkpoints_get). A file without checkpoints, or a
// missing file, has none.
func (s *ContentsService) ListCheckpoints(ctx context.Context, path string, opts ...CallOption) ([]Checkpoint, error) {
	p, err := contentsURL(path, false)
	if err != nil {
		return nil, err
	}
	var list []Checkpoint
	_, err = s.c.t.Do(ctx, transport.Call{Method: "GET", Path: p + "/checkpoints", Decode: decodeInto(&list)}, opts)
	if err == nil && list == nil {
		list = []Checkpoint{}
	}
	return list, err
}

// CreateCheckpoint saves the file's current content as a checkpoint,
// replacing the previous one (POST /api/contents/{path}/checkpoints;
// Python: api_contents_path_checkpoints_post). On Jupyter 1.23 a missing
// file fails with ErrServer (500).
func (s *ContentsService) CreateCheckpoint(ctx context.Context, path string, opts ...CallOption) (*Checkpoint, error) {
	p, err := contentsURL(path, false)
	if err != nil {
		return nil, err
	}
	cp := new(Checkpoint)
	_, err = s.c.t.Do(ctx, transport.Call{Method: "POST", Path: p + "/checkpoints", Decode: decodeInto(cp), Idempotent: true}, opts)
	if err != nil {
		return nil, err
	}
	return cp, nil
}

// RestoreCheckpoint puts the checkpoint's content back into the file
// (POST /api/contents/{path}/checkpoints/{id}; Python:
// api_contents_path_checkpoints_checkpoint_id_post). On Jupyter 1.23 an
// unknown checkpoint fails with ErrServer (500).
func (s *ContentsService) RestoreCheckpoint(ctx context.Context, path, id string, opts ...CallOption) error {
	p, err := checkpointURL(path, id)
	if err != nil {
		return err
	}
	_, err = s.c.t.Do(ctx, transport.Call{Method: "POST", Path: p, Idempotent: true}, opts)
	return err
}

// DeleteCheckpoint deletes a checkpoint (DELETE
// /api/contents/{path}/checkpoints/{id}; Python:
// api_contents_path_checkpoints_checkpoint_id_delete); an unknown one
// fails with ErrNotFound, except on a retry, as for Delete.
func (s *ContentsService) DeleteCheckpoint(ctx context.Context, path, id string, opts ...CallOption) error {
	p, err := checkpointURL(path, id)
	if err != nil {
		return err
	}
	return transport.Deleted(s.c.t.Do(ctx, transport.Call{Method: "DELETE", Path: p}, opts))
}

// ---- helpers over the nine calls ----

// Stat returns the model of path without its content.
func (s *ContentsService) Stat(ctx context.Context, path string, opts ...CallOption) (*Contents, error) {
	return s.Get(ctx, path, GetOptions{NoContent: true}, opts...)
}

// List returns the entries of the directory dir ("" for the root), without
// their content, in the server's order. A path that is not a directory
// fails with ErrBadRequest.
func (s *ContentsService) List(ctx context.Context, dir string, opts ...CallOption) ([]Contents, error) {
	m, err := s.Get(ctx, dir, GetOptions{Type: ContentsDirectory}, opts...)
	if err != nil {
		return nil, err
	}
	if m.Entries == nil {
		return []Contents{}, nil
	}
	return m.Entries, nil
}

// GetNotebook reads the notebook at path. Jupyter reads any file as a
// notebook when asked, failing with ErrBadRequest if it is not one.
func (s *ContentsService) GetNotebook(ctx context.Context, path string, opts ...CallOption) (*nbformat.Notebook, error) {
	m, err := s.Get(ctx, path, GetOptions{Type: ContentsNotebook}, opts...)
	if err != nil {
		return nil, err
	}
	if m.Notebook == nil {
		return nil, fmt.Errorf("nbserv: GET %s: the answer holds no notebook", path)
	}
	return m.Notebook, nil
}

// SaveNotebook writes nb at path, creating or replacing it. If the
// notebook fails nbformat validation, Jupyter saves it anyway and says
// why in the returned Contents.Message.
func (s *ContentsService) SaveNotebook(ctx context.Context, path string, nb *nbformat.Notebook, opts ...CallOption) (*Contents, error) {
	if nb == nil {
		return nil, &ValidationError{Field: "nb", Problem: "nil"}
	}
	return s.Save(ctx, path, SaveRequest{Type: ContentsNotebook, Format: FormatJSON, Content: nb}, opts...)
}

// ReadFile returns the bytes of the file at path, whatever they are
// (format base64). The whole file is held in memory, within
// Config.MaxResponseBytes (the base64 is a third larger than the file);
// use Download or Open for large files.
func (s *ContentsService) ReadFile(ctx context.Context, path string, opts ...CallOption) ([]byte, error) {
	m, err := s.Get(ctx, path, GetOptions{Type: ContentsFile, Format: FormatBase64}, opts...)
	if err != nil {
		return nil, err
	}
	if m.Data == nil {
		if raw, ok := m.Malformed["content"]; ok {
			return nil, fmt.Errorf("nbserv: GET %s: content is not base64: %.40s", path, raw)
		}
		return []byte{}, nil
	}
	return m.Data, nil
}

// WriteFile writes data to the file at path in one request, creating or
// replacing it; Jupyter writes it atomically. The request holds the data
// as base64, so use Upload for large files.
func (s *ContentsService) WriteFile(ctx context.Context, path string, data []byte, opts ...CallOption) (*Contents, error) {
	if data == nil {
		data = []byte{} // encoding/json sends nil as null, which Jupyter cannot save
	}
	return s.Save(ctx, path, SaveRequest{Type: ContentsFile, Format: FormatBase64, Content: data}, opts...)
}

// ReadText returns the content of a UTF-8 text file; a file that is not
// UTF-8 fails with ErrBadRequest ("bad format").
func (s *ContentsService) ReadText(ctx context.Context, path string, opts ...CallOption) (string, error) {
	m, err := s.Get(ctx, path, GetOptions{Type: ContentsFile, Format: FormatText}, opts...)
	if err != nil {
		return "", err
	}
	return m.Text, nil
}

// WriteText writes text to the file at path, creating or replacing it.
func (s *ContentsService) WriteText(ctx context.Context, path, text string, opts ...CallOption) (*Contents, error) {
	return s.Save(ctx, path, SaveRequest{Type: ContentsFile, Format: FormatText, Content: text}, opts...)
}

// Mkdir creates the directory path; its parent must exist. An existing
// directory is not an error.
func (s *ContentsService) Mkdir(ctx context.Context, path string, opts ...CallOption) (*Contents, error) {
	return s.Save(ctx, path, SaveRequest{Type: ContentsDirectory}, opts...)
}

// NewUntitled creates an empty untitled entry of type typ
// (ContentsNotebook, ContentsFile, ContentsDirectory) with extension ext
// ("" for none) in dir, and returns its model: Create without CopyFrom.
func (s *ContentsService) NewUntitled(ctx context.Context, dir string, typ ContentsType, ext string, opts ...CallOption) (*Contents, error) {
	return s.Create(ctx, dir, CreateRequest{Type: typ, Ext: ext}, opts...)
}

// Copy copies the file from to "to": into the directory "to" under a name
// the server picks ("a-Copy1.txt" when "a.txt" is taken), or to the new
// file "to" if that is not a directory. Directories cannot be copied; an
// existing file "to" fails with ErrBadRequest ("Cannot POST to files").
func (s *ContentsService) Copy(ctx context.Context, from, to string, opts ...CallOption) (*Contents, error) {
	if _, err := cleanPath("from", from, false); err != nil {
		return nil, err
	}
	return s.Create(ctx, to, CreateRequest{CopyFrom: from}, opts...)
}

// model sends a call answered by one contents model.
func (s *ContentsService) model(ctx context.Context, cl transport.Call, opts []CallOption) (*Contents, error) {
	var m *Contents
	cl.Decode = func(b []byte) (err error) {
		m, err = decodeContents(b)
		return err
	}
	if _, err := s.c.t.Do(ctx, cl, opts); err != nil {
		return nil, err
	}
	return m, nil
}

// ---- paths ----

// cleanPath turns a user's path into Jupyter's API form: segments joined
// by "/", without empty or "." segments. It refuses NUL bytes and ".."
// segments, which can only aim outside the root, and (unless rootOK) the
// root itself.
func cleanPath(field, p string, rootOK bool) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", &ValidationError{Field: field, Problem: "contains a NUL byte"}
	}
	segs := strings.Split(p, "/")
	segs = slices.DeleteFunc(segs, func(s string) bool { return s == "" || s == "." })
	if slices.Contains(segs, "..") {
		return "", &ValidationError{Field: field, Problem: `has a ".." segment`}
	}
	if len(segs) == 0 && !rootOK {
		return "", &ValidationError{Field: field, Problem: "empty (the root directory)"}
	}
	return strings.Join(segs, "/"), nil
}

// escapePath escapes each segment of a clean path for the URL. A segment
// named "checkpoints" or "trust" also gets its first letter escaped:
// Jupyter routes on the raw URL, where ".../checkpoints" and ".../trust"
// are other endpoints, then unescapes the path, so "%63heckpoints" reaches
// the file named "checkpoints".
func escapePath(clean string) string {
	if clean == "" {
		return ""
	}
	segs := strings.Split(clean, "/")
	for i, seg := range segs {
		e := url.PathEscape(seg)
		switch seg {
		case "checkpoints":
			e = "%63" + e[1:]
		case "trust":
			e = "%74" + e[1:]
		}
		segs[i] = e
	}
	return strings.Join(segs, "/")
}

// contentsURL returns the API path of a contents path.
func contentsURL(path string, rootOK bool) (string, error) {
	clean, err := cleanPath("path", path, rootOK)
	if err != nil {
		return "", err
	}
	if clean == "" {
		return "api/contents", nil
	}
	return "api/contents/" + escapePath(clean), nil
}

// validCheckpointID reports whether id can reach Jupyter's checkpoint
// route, [\w-]+ matched on the raw URL: so ASCII letters, digits, '_' and
// '-' only (anything else is escaped, and an escaped id routes to the
// contents handler instead).
func validCheckpointID(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func checkpointURL(path, id string) (string, error) {
	p, err := contentsURL(path, false)
	if err != nil {
		return "", err
	}
	if !validCheckpointID(id) {
		return "", &ValidationError{Field: "checkpointID", Problem: "not a Jupyter checkpoint id (letters, digits, _ and -)"}
	}
	return p + "/checkpoints/" + id, nil
}

// ---- the model's decoding ----

// contentsReader is the contents model's decoder: jsonscan's reader with
// a method for each part of the model.
type contentsReader struct{ jsonscan.Reader }

// decodeContents decodes a contents model in one pass (see
// jsonscan.Reader): a notebook's content straight into a Notebook. Fields whose JSON type
// does not fit go to Malformed; only invalid JSON or a body that is not
// an object is an error.
func decodeContents(body []byte) (*Contents, error) {
	r := contentsReader{jsonscan.Reader{Data: body}}
	if r.Peek() != '{' {
		if err := jsonscan.Check(body); err != nil {
			return nil, err
		}
		return nil, errors.New("not a contents model (a JSON object)")
	}
	m := new(Contents)
	r.contents(m)
	r.End()
	if r.Err != nil {
		return nil, r.Err
	}
	return m, nil
}

func (r *contentsReader) contents(m *Contents) {
	var n int
	var content []byte // the raw content, when it is a string
	r.OpenObject()
	for key := r.Member(&n); key != nil; key = r.Member(&n) {
		switch string(key) {
		case "name":
			r.nullableStr(&m.Name, &m.Malformed, key)
		case "path":
			r.nullableStr(&m.Path, &m.Malformed, key)
		case "type":
			r.nullableStr((*string)(&m.Type), &m.Malformed, key)
		case "mimetype":
			r.nullableStr(&m.Mimetype, &m.Malformed, key)
		case "format":
			r.nullableStr(&m.Format, &m.Malformed, key)
		case "message":
			r.nullableStr(&m.Message, &m.Malformed, key)
		case "writable":
			switch r.Peek() {
			case 't':
				r.Literal("true")
				m.Writable = true
			case 'f':
				r.Literal("false")
				m.Writable = false
			default:
				r.Keep(&m.Malformed, key)
			}
		case "created":
			r.time(&m.Created, &m.Malformed, key)
		case "last_modified":
			r.time(&m.LastModified, &m.Malformed, key)
		case "size":
			m.Size = nil
			if r.Peek() == 'n' {
				r.Literal("null")
			} else if v, ok := r.ReadInt64(); ok {
				m.Size = &v
			} else {
				r.Keep(&m.Malformed, key)
			}
		case "content":
			m.Entries, m.Text, m.Notebook, content = nil, "", nil, nil
			switch r.Peek() {
			case 'n':
				r.Literal("null")
			case '"':
				start := r.Pos
				m.Text = r.ReadString()
				content = r.Data[start:r.Pos]
			case '{':
				// One pass still: nbformat reads the notebook where it
				// starts and says where it ends. (Its nesting is counted
				// from the content, not the model: a bound of MaxDepth
				// either way.)
				nb, n, err := nbformat.ParsePrefix(r.Data[r.Pos:])
				if err != nil {
					// The body's first syntax error, at its offset in the
					// body, as for any other part of the model.
					if r.Err = jsonscan.Check(r.Data); r.Err == nil {
						r.Err = err
					}
					r.Pos = len(r.Data)
					break
				}
				m.Notebook = nb
				r.Pos += n
			case '[':
				m.Entries = r.entries(&m.Malformed, key)
			default:
				r.Keep(&m.Malformed, key)
			}
		default:
			r.Skip() // hash, hash_algorithm (Jupyter Server 2.x), ...
		}
	}
	if r.Err == nil && content != nil && m.Format == FormatBase64 {
		// Jupyter wraps base64 every 76 characters; the decoder skips the
		// newlines.
		data, err := base64.StdEncoding.DecodeString(m.Text)
		if err != nil {
			if m.Malformed == nil {
				m.Malformed = map[string]json.RawMessage{}
			}
			m.Malformed["content"] = slices.Clone(content)
		} else {
			m.Data = data
		}
		m.Text = ""
	}
}

func (r *contentsReader) entries(bad *map[string]json.RawMessage, key []byte) []Contents {
	start, depth := r.Pos, r.Depth
	list := []Contents{}
	var n int
	r.OpenArray()
	for r.Element(&n) {
		if r.Peek() != '{' {
			r.Pos, r.Depth = start, depth
			r.Keep(bad, key)
			return nil
		}
		list = append(list, Contents{})
		r.contents(&list[len(list)-1])
	}
	return list
}

// nullableStr reads a string or null ("").
func (r *contentsReader) nullableStr(dst *string, bad *map[string]json.RawMessage, key []byte) {
	if r.Peek() == 'n' {
		r.Literal("null")
		*dst = ""
		return
	}
	r.Str(dst, bad, key)
}

func (r *contentsReader) time(dst *time.Time, bad *map[string]json.RawMessage, key []byte) {
	*dst = time.Time{}
	switch r.Peek() {
	case 'n':
		r.Literal("null")
		return
	case '"':
		start, depth := r.Pos, r.Depth
		if t, err := time.Parse(time.RFC3339Nano, r.ReadString()); err == nil {
			*dst = t
			return
		}
		r.Pos, r.Depth = start, depth
	}
	r.Keep(bad, key)
}
