package nbserv

import (
	"context"
	"encoding/json"
	"errors"
)

// SessionsService manages sessions (/api/sessions). Reach it as
// Client.Sessions; the methods mirror the Python client's SessionsApi.
type SessionsService struct{ c *Client }

// List returns every session on the server (GET /api/sessions), in the
// server's order. A session with a field of an unexpected JSON type is
// still returned, with that field in Session.Malformed.
func (s *SessionsService) List(ctx context.Context, opts ...CallOption) ([]Session, error) {
	var list []Session
	_, err := s.c.do(ctx, call{method: "GET", path: "api/sessions", decode: func(b []byte) (err error) {
		list, err = decodeSessions(b)
		return err
	}}, opts)
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
	path, err := idPath("api/sessions/", id)
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
	path, err := idPath("api/sessions/", id)
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
	path, err := idPath("api/sessions/", id)
	if err != nil {
		return err
	}
	r, err := s.c.do(ctx, call{method: "DELETE", path: path}, opts)
	// A JSON 404 is Jupyter's "session not found"; its HTML 404 means "no
	// such route", which a retry cannot explain away.
	if errors.Is(err, ErrNotFound) && r.Attempts > 1 && json.Valid(r.Body) {
		return nil
	}
	return err
}

func (s *SessionsService) send(ctx context.Context, method, path string, in any, opts []CallOption) (*Session, error) {
	var sess *Session
	_, err := s.c.do(ctx, call{method: method, path: path, body: in, decode: func(b []byte) (err error) {
		sess, err = decodeSession(b)
		return err
	}}, opts)
	return sess, err
}
