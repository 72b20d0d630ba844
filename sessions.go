package nbserv

import (
	"context"
	"errors"
	"fmt"

	"github.com/nbserv/go-nbserv/internal/transport"
	"github.com/nbserv/go-nbserv/kernel"
)

// SessionsService manages sessions (/api/sessions). Reach it as
// Client.Sessions; the methods mirror the Python client's SessionsApi.
type SessionsService struct{ c *Client }

// List returns every session on the server (GET /api/sessions), in the
// server's order. A session with a field of an unexpected JSON type is
// still returned, with that field in Session.Malformed.
//
// Python: SessionsApi.api_sessions_get.
func (s *SessionsService) List(ctx context.Context, opts ...CallOption) ([]Session, error) {
	budget := s.c.t.DecodeBudget()
	return transport.DoDecode(ctx, s.c.t, transport.Call{Method: "GET", Path: "api/sessions"}, func(b []byte) ([]Session, error) {
		return decodeSessions(b, budget)
	}, opts)
}

// Create starts a session for req.Path (POST /api/sessions) and returns it.
//
// If the path already has a session, Jupyter returns that session
// unchanged: req.Name and req.Kernel are ignored, and no new kernel is
// started. Compare the returned kernel with what you asked for if it
// matters. An unknown kernelspec name fails with ErrKernelUnavailable.
// The Location header of the answer is in Response.Header (WithResponse).
//
// Create is sent again only when the server provably did not act on it.
// When its answer is lost instead (the connection broke after the request
// was sent, or a gateway answered 502 or 504), it is not re-sent, since a
// real Jupyter Server still starting the first kernel would make a second
// session; Create looks for the session at req.Path instead, up to
// RetryMax times with the retry waits, and returns it if it appears.
// Otherwise the error matches ErrOutcomeUnknown.
//
// Python: SessionsApi.api_sessions_post.
func (s *SessionsService) Create(ctx context.Context, req CreateSessionRequest, opts ...CallOption) (*Session, error) {
	if req.Path == "" {
		return nil, &ValidationError{Field: "path", Problem: "empty"}
	}
	if req.Type == "" {
		return nil, &ValidationError{Field: "type", Problem: "empty"}
	}
	ctx, opts, cancel := s.c.t.Bound(ctx, opts) // one budget for the create and any search after it
	defer cancel()
	sess, err := s.send(ctx, "POST", "api/sessions", req, opts)
	if !errors.Is(err, ErrOutcomeUnknown) {
		return sess, err
	}
	if found := s.reconcile(ctx, req.Path); found != nil {
		return found, nil
	}
	return nil, err
}

// reconcile looks for the session a Create whose answer was lost may have
// made, waiting between looks as between retries.
func (s *SessionsService) reconcile(ctx context.Context, path string) *Session {
	deadline, _ := ctx.Deadline()
	for attempt := 0; attempt <= s.c.t.RetryMax(); attempt++ {
		if attempt > 0 {
			wait, ok := s.c.t.RetryWait(attempt-1, nil, deadline)
			if !ok || transport.Sleep(ctx, wait) != nil {
				return nil
			}
		}
		list, err := s.List(ctx, WithTimeout(NoTimeout))
		if err != nil {
			continue
		}
		for i := range list {
			if list[i].Path == path {
				return &list[i]
			}
		}
	}
	return nil
}

// Get returns one session (GET /api/sessions/{id}). An unknown id fails
// with ErrNotFound.
//
// Python: SessionsApi.api_sessions_session_get.
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
//
// Python: SessionsApi.api_sessions_session_patch.
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
// Since a repeated switch would start another kernel, Update is sent
// again only when the server provably did not act; after a lost answer
// the error matches ErrOutcomeUnknown: Get the session to see where it is.
//
// Python: SessionsApi.api_sessions_session_patch.
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
// An unknown id fails with ErrNotFound, except when an earlier attempt of
// this very call may have reached the server and been carried out before
// its answer was lost: then the 404 means the session is gone, and Delete
// succeeds. (A 404 after attempts the server refused, with a 503 say,
// stays ErrNotFound.)
//
// ErrKernelGone (410) means the kernel vanished first: Jupyter has then
// shut the kernel down and keeps the session's row until its next read
// prunes it, so the session is gone for every later call (Get answers
// ErrNotFound); there is nothing left to delete.
//
// Python: SessionsApi.api_sessions_session_delete.
func (s *SessionsService) Delete(ctx context.Context, id string, opts ...CallOption) error {
	path, err := idPath("api/sessions/", id)
	if err != nil {
		return err
	}
	return transport.Deleted(s.c.t.Do(ctx, transport.Call{Method: "DELETE", Path: path}, opts))
}

func (s *SessionsService) send(ctx context.Context, method, path string, in any, opts []CallOption) (*Session, error) {
	return transport.DoDecode(ctx, s.c.t, transport.Call{Method: method, Path: path, Body: in}, decodeSession, opts)
}

// Connect opens a connection to the channels of a session's kernel, the
// kernel the session has now (it is read first, as sessions can switch
// kernels): see Kernels.Connect and kernel.Conn. An unknown session fails
// with ErrNotFound, a session without a kernel with ErrKernelDead.
func (s *SessionsService) Connect(ctx context.Context, sessionID string, opts ...kernel.Option) (*kernel.Conn, error) {
	sess, err := s.Get(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if sess.Kernel == nil || sess.Kernel.ID == "" {
		return nil, fmt.Errorf("%w: session %s has no kernel", ErrKernelDead, sessionID)
	}
	return s.c.Kernels.Connect(ctx, sess.Kernel.ID, opts...)
}
