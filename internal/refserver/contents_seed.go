package refserver

// Controls for tests: seed and read the contents tree directly, without
// going through the API (and so without Jupyter's checks or checkpoints).

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"sort"
)

// ErrOutsideRoot is returned by the contents controls for a path that
// leaves the contents root.
var ErrOutsideRoot = errors.New("refserver: path is outside the contents root")

func (c *contents) seedRel(p string) (string, error) {
	rel, e := osRel(p)
	if e != nil {
		return "", fmt.Errorf("%w: %q", ErrOutsideRoot, p)
	}
	if c.err != nil {
		return "", c.err
	}
	return rel, nil
}

// WriteFile creates or replaces the file at the API path p (such as
// "dir/a.ipynb") with data, creating missing parent directories.
func (s *Server) WriteFile(p string, data []byte) error {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	rel, err := c.seedRel(p)
	if err != nil {
		return err
	}
	if rel == "" {
		return fmt.Errorf("refserver: cannot write the root directory")
	}
	if dir := path.Dir(rel); dir != "." {
		if err := c.fs.mkdirAll(dir); err != nil {
			return fmt.Errorf("refserver: %w", err)
		}
	}
	if err := c.fs.write(rel, bytes.Clone(data), false); err != nil {
		return fmt.Errorf("refserver: %w", err)
	}
	return nil
}

// ReadFile returns the bytes of the file at the API path p.
func (s *Server) ReadFile(p string) ([]byte, error) {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	rel, err := c.seedRel(p)
	if err != nil {
		return nil, err
	}
	b, err := c.fs.read(rel)
	if err != nil {
		return nil, fmt.Errorf("refserver: %w", err)
	}
	return append([]byte(nil), b...), nil
}

// Mkdir creates the directory at the API path p and any missing parents;
// an existing directory is not an error.
func (s *Server) Mkdir(p string) error {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	rel, err := c.seedRel(p)
	if err != nil {
		return err
	}
	if err := c.fs.mkdirAll(rel); err != nil {
		return fmt.Errorf("refserver: %w", err)
	}
	return nil
}

// ListDir returns the names in the directory at the API path p, hidden
// ones included, sorted.
func (s *Server) ListDir(p string) ([]string, error) {
	c := s.contents
	c.mu.Lock()
	defer c.mu.Unlock()
	rel, err := c.seedRel(p)
	if err != nil {
		return nil, err
	}
	ents, err := c.fs.list(rel)
	if err != nil {
		return nil, fmt.Errorf("refserver: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.name)
	}
	sort.Strings(names)
	return names, nil
}
