package nbserv

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
)

// SessionsService manages sessions (/api/sessions). Reach it as
// Client.Sessions; the methods mirror the Python client's SessionsApi.
type SessionsService struct{ c *Client }

// validID reports whether id matches Jupyter's route for session and
// kernel ids, \w+-\w+-\w+-\w+-\w+ (a UUID is one). Any other id can only
// reach Jupyter's "no route" 404 page, or, with "/" or "..", another
// endpoint, so it is refused before any request. (Hand-written rather than
// a regexp: it runs on every call.)
func validID(id string) bool {
	groups, n := 1, 0 // groups seen, word characters in the current one
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '-':
			if n == 0 {
				return false
			}
			groups, n = groups+1, 0
		case c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			n++
		default:
			return false
		}
	}
	return groups == 5 && n > 0
}

// idPath returns prefix + the escaped id, or a *ValidationError.
func idPath(prefix, field, id string) (string, error) {
	if id == "" {
		return "", &ValidationError{Field: field, Problem: "empty"}
	}
	if !validID(id) {
		return "", &ValidationError{Field: field, Problem: "not a Jupyter id (five groups of letters, digits or _ joined by -)"}
	}
	return prefix + url.PathEscape(id), nil
}

// List returns every session on the server (GET /api/sessions), in the
// server's order. A session with a field of an unexpected JSON type is
// still returned, with that field in Session.Malformed.
func (s *SessionsService) List(ctx context.Context, opts ...CallOption) ([]Session, error) {
	var list []Session
	_, err := s.c.do(ctx, "GET", "api/sessions", nil, func(b []byte) (err error) {
		list, err = decodeSessions(b)
		return err
	}, opts)
	return list, err
}

// Create starts a session for req.Path (POST /api/sessions) and returns it.
//
// If the path already has a session, Jupyter returns that session
// unchanged: req.Name and req.Kernel are ignored, and no new kernel is
// started. Compare the returned kernel with what you asked for if it
// matters. An unknown kernelspec name fails with ErrKernelUnavailable.
// The Location header of the answer is in Response.Header (WithResponse).
func (s *SessionsService) Create(ctx context.Context, req CreateSessionRequest, opts ...CallOption) (*Session, error) {
	if req.Path == "" {
		return nil, &ValidationError{Field: "path", Problem: "empty"}
	}
	if req.Type == "" {
		return nil, &ValidationError{Field: "type", Problem: "empty"}
	}
	return s.send(ctx, "POST", "api/sessions", req, opts)
}

// Get returns one session (GET /api/sessions/{id}). An unknown id fails
// with ErrNotFound.
func (s *SessionsService) Get(ctx context.Context, id string, opts ...CallOption) (*Session, error) {
	path, err := idPath("api/sessions/", "id", id)
	if err != nil {
		return nil, err
	}
	return s.send(ctx, "GET", path, nil, opts)
}

// Rename changes a session's name and/or path (PATCH /api/sessions/{id}).
// An empty newName or newPath leaves that field as it is; use Update to
// set a field to the empty string.
func (s *SessionsService) Rename(ctx context.Context, id, newName, newPath string, opts ...CallOption) (*Session, error) {
	var req UpdateSessionRequest
	if newName != "" {
		req.Name = &newName
	}
	if newPath != "" {
		req.Path = &newPath
	}
	if req.Name == nil && req.Path == nil {
		return nil, &ValidationError{Field: "newName", Problem: "newName and newPath are both empty"}
	}
	return s.Update(ctx, id, req, opts...)
}

// Update changes a session (PATCH /api/sessions/{id}): only the non-nil
// fields of req are sent, so the others are left as they are.
//
// Switching kernels: Kernel.Name makes the server start a new kernel of
// that kernelspec, Kernel.ID attaches the session to a running kernel
// (an unknown id fails with ErrBadRequest); either way the session's old
// kernel is shut down, along with any other session that shared it.
func (s *SessionsService) Update(ctx context.Context, id string, req UpdateSessionRequest, opts ...CallOption) (*Session, error) {
	path, err := idPath("api/sessions/", "id", id)
	if err != nil {
		return nil, err
	}
	return s.send(ctx, "PATCH", path, req, opts)
}

// Delete deletes a session and shuts its kernel down
// (DELETE /api/sessions/{id}).
//
// An unknown id fails with ErrNotFound, except when this very call was
// retried: an earlier attempt may have deleted the session before its
// answer was lost, so a 404 after a retry counts as success.
// ErrKernelGone (410) means the kernel vanished first and the session may
// remain.
func (s *SessionsService) Delete(ctx context.Context, id string, opts ...CallOption) error {
	path, err := idPath("api/sessions/", "id", id)
	if err != nil {
		return err
	}
	r, err := s.c.do(ctx, "DELETE", path, nil, nil, opts)
	if errors.Is(err, ErrNotFound) && r.Attempts > 1 && isJSON(r.Body) {
		return nil
	}
	return err
}

// isJSON tells Jupyter's "session not found" 404 (JSON) from its "no such
// route" page (HTML), which a retry cannot explain away.
func isJSON(b []byte) bool { return json.Valid(b) }

func (s *SessionsService) send(ctx context.Context, method, path string, in any, opts []CallOption) (*Session, error) {
	var sess *Session
	_, err := s.c.do(ctx, method, path, in, func(b []byte) (err error) {
		sess, err = decodeSession(b)
		return err
	}, opts)
	return sess, err
}
