// Package nbservtest runs an in-process Jupyter Server for tests: the
// SDK's reference server, which answers the sessions API exactly as Jupyter
// Server 1.23 does, in microseconds, with no Python and no kernel
// processes.
//
//	srv := nbservtest.NewServer(t)
//	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.TypeNotebook})
//
// Like net/http/httptest, it serves on a loopback port; unlike it, the
// fault controls (FailNext, SetLatency, GoneOnDelete, KillKernel) let a
// test provoke every error a real server can give.
package nbservtest

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/refserver"
)

// Server is a running reference server and a client for it.
type Server struct {
	// URL is the base URL, prefix included, ending in "/".
	URL string
	// Token is the token the server requires ("" when it requires none).
	Token string
	// Client is an *nbserv.Client configured for this server.
	Client *nbserv.Client

	ref  *refserver.Server
	http *httptest.Server
}

// Option configures a Server.
type Option func(*config)

type config struct {
	ref    refserver.Options
	client func(*nbserv.Config)
}

// WithToken sets the token the server requires; "" requires none. By
// default a random token is required, as by a stock Jupyter Server.
func WithToken(token string) Option { return func(c *config) { c.ref.Token = token } }

// WithBaseURL serves under a path prefix, as JupyterHub's user servers do:
// WithBaseURL("/user/alice/").
func WithBaseURL(prefix string) Option { return func(c *config) { c.ref.BaseURL = prefix } }

// WithKernelSpecs sets the installed kernelspecs; the first is the
// default. By default only "python3" is installed.
func WithKernelSpecs(names ...string) Option {
	return func(c *config) { c.ref.KernelSpecs = names }
}

// WithVersion sets the version GET /api reports.
func WithVersion(v string) Option { return func(c *config) { c.ref.Version = v } }

// WithClientConfig adjusts the configuration of Server.Client (retries,
// timeouts) after URL and Token are filled in.
func WithClientConfig(f func(*nbserv.Config)) Option { return func(c *config) { c.client = f } }

// NewServer starts a server for the test and stops it when the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := Start(opts...)
	if err != nil {
		t.Fatalf("nbservtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a server outside a test (an example program, a demo); call
// Close when done.
func Start(opts ...Option) (*Server, error) {
	c := config{ref: refserver.Options{Token: rand.Text()}}
	for _, o := range opts {
		o(&c)
	}
	ref := refserver.New(c.ref)
	ts := httptest.NewServer(ref)
	s := &Server{URL: ts.URL + ref.Prefix(), Token: c.ref.Token, ref: ref, http: ts}
	cfg := nbserv.Config{BaseURL: s.URL, Token: nbserv.Secret(s.Token)}
	if c.client != nil {
		c.client(&cfg)
	}
	client, err := nbserv.NewClient(cfg)
	if err != nil {
		ts.Close()
		return nil, err
	}
	s.Client = client
	return s, nil
}

// Close stops the server, its kernel channels (their WebSocket
// connections and kernels' work) and the idle connections of Client.
func (s *Server) Close() {
	s.Client.CloseIdleConnections()
	s.ref.Close()
	s.http.Close()
}

// Handler returns the reference server's http.Handler, to mount elsewhere.
func (s *Server) Handler() http.Handler { return s.ref }

// Fault is an answer to force on matching requests.
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path is a path.Match pattern for the request path below the prefix,
	// such as "/api/sessions/*"; empty matches any.
	Path string
	// Status is the status to answer, such as 503.
	Status int
	// Body is the answer's body; empty means Jupyter's JSON error form.
	Body string
	// Header is added to the answer (for example Retry-After).
	Header http.Header
}

// FailNext makes the next n requests matching f answer with f.
func (s *Server) FailNext(n int, f Fault) {
	s.ref.FailNext(n, refserver.Fault(f))
}

// SetLatency delays every answer by d; 0 removes the delay.
func (s *Server) SetLatency(d time.Duration) { s.ref.SetLatency(d) }

// GoneOnDelete makes the next DELETE of the session answer 410 "Kernel
// deleted before session", as when its kernel dies mid-delete.
func (s *Server) GoneOnDelete(sessionID string) error { return s.ref.GoneOnDelete(sessionID) }

// KillKernel kills the session's kernel, so the session disappears.
func (s *Server) KillKernel(sessionID string) error { return s.ref.KillKernel(sessionID) }

// SetKernelActivity sets a kernel's execution_state and last_activity.
func (s *Server) SetKernelActivity(kernelID, state string, last time.Time) error {
	return s.ref.SetKernelActivity(kernelID, state, last)
}

// Requests returns how many requests the server has received.
func (s *Server) Requests() int { return s.ref.Requests() }
