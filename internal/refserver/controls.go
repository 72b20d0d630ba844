package refserver

// Controls: what tests use to steer and observe the server (faults,
// latency, kernel start delay, kernel deaths, activity, the request count).

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
)

// The controls' documentation for users is on their public wrappers in
// package nbservtest (nbservtest.Fault, nbservtest.Server.FailNext, …); the
// comments here say only what the wrappers do not.

// Fault is nbservtest.Fault, field for field: nbservtest converts one to
// the other, so the compiler keeps the two in step.
type Fault struct {
	Method string
	Path   string // path.Match pattern, below the prefix
	Status int
	Body   string
	Header http.Header
}

type fault struct {
	Fault
	left int
}

// ErrNoSuchSession and ErrNoSuchKernel are returned by the controls for
// unknown ids.
var (
	ErrNoSuchSession = errors.New("refserver: no such session")
	ErrNoSuchKernel  = errors.New("refserver: no such kernel")
)

// FailNext: see nbservtest.Server.FailNext.
func (s *Server) FailNext(n int, f Fault) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.faults = append(s.faults, &fault{Fault: f, left: n})
	s.mu.Unlock()
}

// SetLatency: see nbservtest.Server.SetLatency.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	s.latency = d
	s.mu.Unlock()
}

// SetKernelStartDelay: see nbservtest.Server.SetKernelStartDelay. A
// negative d counts as 0.
func (s *Server) SetKernelStartDelay(d time.Duration) {
	s.mu.Lock()
	s.kernelDelay = max(d, 0)
	s.mu.Unlock()
}

// controlSession is the session a control names, or an error wrapping
// ErrNoSuchSession; every control that takes a session id looks it up
// here. The caller holds s.mu.
func (s *Server) controlSession(sessionID string) (*session, error) {
	if sess := s.byID[sessionID]; sess != nil {
		return sess, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoSuchSession, sessionID)
}

// controlKernel is the kernel a control names, or an error wrapping
// ErrNoSuchKernel; every control that takes a kernel id looks it up here.
// The caller holds s.mu.
func (s *Server) controlKernel(kernelID string) (*kernel, error) {
	if k := s.kernels[kernelID]; k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrNoSuchKernel, kernelID)
}

// GoneOnDelete: see nbservtest.Server.GoneOnDelete.
func (s *Server) GoneOnDelete(sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.controlSession(sessionID); err != nil {
		return err
	}
	s.gone[sessionID] = true
	return nil
}

// KillSessionKernel: see nbservtest.Server.KillSessionKernel.
func (s *Server) KillSessionKernel(sessionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, err := s.controlSession(sessionID)
	if err != nil {
		return err
	}
	s.shutdownKernel(sess.kernelID)
	return nil
}

// KillKernel: see nbservtest.Server.KillKernel.
func (s *Server) KillKernel(kernelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.controlKernel(kernelID); err != nil {
		return err
	}
	s.shutdownKernel(kernelID)
	return nil
}

// SetKernelActivity: see nbservtest.Server.SetKernelActivity.
func (s *Server) SetKernelActivity(kernelID, state string, last time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.controlKernel(kernelID)
	if err != nil {
		return err
	}
	k.state, k.lastActivity = state, last.UTC()
	if k.lastActivity.After(s.kernelAct) {
		s.kernelAct = k.lastActivity
	}
	return nil
}

// FailRestarts: see nbservtest.Server.FailRestarts. A failed restart has
// shut the old process down: the kernel stays listed, "idle", but an
// interrupt then answers 500 until a restart succeeds.
func (s *Server) FailRestarts(kernelID string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.controlKernel(kernelID)
	if err != nil {
		return err
	}
	k.failRestarts = max(n, 0)
	return nil
}

// Requests: see nbservtest.Server.Requests.
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
