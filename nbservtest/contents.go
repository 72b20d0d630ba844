package nbservtest

// Contents helpers: seed files for a test and read back what the code
// under test wrote, directly in the server's tree (in memory unless
// WithContentsRoot names a directory).

import "github.com/nbserv/go-nbserv/internal/refserver"

// ErrOutsideRoot is returned by the contents helpers for a path that
// leaves the server's contents root, such as "../x".
var ErrOutsideRoot = refserver.ErrOutsideRoot

// WithContentsRoot serves the contents API from the directory dir, read
// and written in place, instead of a fresh in-memory tree.
func WithContentsRoot(dir string) Option { return func(c *config) { c.ref.ContentsRoot = dir } }

// WriteFile creates or replaces the file at path (an API path such as
// "work/a.ipynb") with data, creating missing parent directories. It
// bypasses the API: no checkpoint is made and a notebook is not checked.
func (s *Server) WriteFile(path string, data []byte) error { return s.ref.WriteFile(path, data) }

// ReadFile returns the bytes of the file at path, as stored.
func (s *Server) ReadFile(path string) ([]byte, error) { return s.ref.ReadFile(path) }

// Mkdir creates the directory at path and any missing parents.
func (s *Server) Mkdir(path string) error { return s.ref.Mkdir(path) }

// ListDir returns the sorted names in the directory at path, hidden ones
// (such as .ipynb_checkpoints) included.
func (s *Server) ListDir(path string) ([]string, error) { return s.ref.ListDir(path) }
