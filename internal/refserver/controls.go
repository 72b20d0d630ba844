package refserver

// Controls: what tests use to steer and observe the server (faults,
// latency, kernel deaths, activity, the request count).

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// Fault is an answer to force on matching requests, to test a client's
// error handling.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path is a path.Match pattern for the request path below the prefix,
	// such as "/api/sessions" or "/api/sessions/*"; empty matches any.
	Path string
	// Status is the status to answer, such as 503.
	Status int
	// Body is the answer's body. Empty means Jupyter's JSON error form:
	// {"message": "<status text>", "reason": null}.
	Body string
	// Header is added to the answer (for example Retry-After).
	Header http.Header
}

type fault struct {
	Fault
	left int
}

// ErrNoSuchSession is returned by the fault controls for unknown ids.
var ErrNoSuchSession = errors.New("refserver: no such session")

// ErrNoSuchKernel is returned by the kernel controls for unknown ids.
var ErrNoSuchKernel = errors.New("refserver: no such kernel")

// FailNext makes the next n requests that match f answer with f instead of
// being served. Faults queue in the order they were added.
func (s *Server) FailNext(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.faults = append(s.faults, &fault{Fault: f, left: n})
	s.mu.Unlock()
}

// SetLatency delays every answer by d (0 removes the delay). A client that
// gives up early is not kept waiting.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// GoneOnDelete makes the next DELETE of the session answer 410 "Kernel
// deleted before session", as when its kernel dies mid-delete: the kernel
// is gone afterwards and so, on the next read, is the session.
func (s *Server) GoneOnDelete(sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID[sessionID] == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchSession, sessionID)
	}
	s.gone[sessionID] = true
	return nil
}

// KillKernel stops the session's kernel as if it had died, so the session
// disappears on the next read.
func (s *Server) KillKernel(sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[sessionID]
	if sess == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchSession, sessionID)
	}
	s.shutdownKernel(sess.kernelID)
	return nil
}

// SetKernelActivity sets a kernel's execution_state and last_activity, as
// a client working in it would (for example to make it look idle for an
// hour).
func (s *Server) SetKernelActivity(kernelID, state string, last time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kernels[kernelID]
	if k == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchKernel, kernelID)
	}
	k.state, k.lastActivity = state, last.UTC()
	return nil
}

// FailRestarts makes the kernel's next n restarts fail as a real restart
// fails when the kernel's launcher has gone (Jupyter's 500 "Exception
// restarting kernel"). A failed restart has shut the old process down:
// the kernel stays listed, "idle", but an interrupt then answers 500 until
// a restart succeeds. n <= 0 lets restarts succeed again.
func (s *Server) FailRestarts(kernelID string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kernels[kernelID]
	if k == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchKernel, kernelID)
	}
	k.failRestarts = max(n, 0)
	return nil
}

// KillKernelByID makes the kernel die for good, as when its process exits
// and Jupyter's restarter gives up: it leaves the kernel list (a GET
// answers 404 "Kernel does not exist"), and its sessions disappear on
// their next read.
func (s *Server) KillKernelByID(kernelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kernels[kernelID] == nil {
		return fmt.Errorf("%w: %s", ErrNoSuchKernel, kernelID)
	}
	s.shutdownKernel(kernelID)
	return nil
}

// Requests returns how many requests the server has received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// beforeRequest counts the request, applies latency and answers a matching
// fault; it reports whether the request should be served normally.
func (s *Server) beforeRequest(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	s.requests++
	delay := s.latency
	f := s.takeFault(r)
	s.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	if f == nil {
		return true
	}
	for k, v := range f.Header {
		w.Header()[k] = v
	}
	body := f.Body
	if body == "" {
		body = fmt.Sprintf(`{"message": %q, "reason": null}`, http.StatusText(f.Status))
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(f.Status)
	_, _ = w.Write([]byte(body))
	return false
}

// takeFault consumes one use of the first fault matching r; the caller
// holds s.mu.
func (s *Server) takeFault(r *http.Request) *Fault {
	if len(s.faults) == 0 {
		return nil
	}
	rel := "/" + strings.TrimPrefix(r.URL.EscapedPath(), s.prefix)
	for i, f := range s.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if f.Path != "" {
			if ok, _ := path.Match(f.Path, rel); !ok {
				continue
			}
		}
		f.left--
		if f.left == 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return &f.Fault
	}
	return nil
}
