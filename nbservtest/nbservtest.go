// Package nbservtest runs an in-process Jupyter Server for tests: the
// SDK's reference server, which answers the REST API exactly as Jupyter
// Server 2.21.1 does (the generation most servers run), or with
// WithGeneration(1) as Jupyter Server 1.23.3, in microseconds, with no
// Python and no kernel processes.
//
//	srv := nbservtest.NewServer(t)
//	s, err := srv.Client.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})
//
// Like net/http/httptest, it serves on a loopback port; unlike it, the
// controls (FailNext, SetLatency, SetKernelStartDelay, GoneOnDelete,
// KillSessionKernel, KillKernel, CrashKernel, FailRestarts,
// SetKernelActivity) let a test provoke every error a real server can
// give. Controls named for a session take a
// session id; those named for a kernel take a kernel id. An id the server
// does not have is an error wrapping ErrNoSuchSession or ErrNoSuchKernel,
// whichever the control names.
package nbservtest

import (
	"crypto/rand"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/refserver"
)

// DefaultGeneration is the Jupyter Server generation a Server answers as
// when WithGeneration does not choose one: 2, the generation most users
// run.
const DefaultGeneration = refserver.DefaultGeneration

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
	tls    bool
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

// WithVersion sets the version GET /api reports, and nothing else: the
// behaviour is the generation's (WithGeneration), so WithVersion("2.14.0")
// tests how a client reads an older 2.x version. By default GET /api
// reports the generation's version, 2.21.1 or 1.23.3.
func WithVersion(v string) Option { return func(c *config) { c.ref.Version = v } }

// WithGeneration chooses the Jupyter Server generation the server answers
// as: 2 (the default) for Jupyter Server 2.21.1, 1 for 1.23.3, whose
// differences (Bearer tokens, /api/me, empty tracebacks, kernel ids chosen
// by the client, contents hashes, ...) the repository's
// docs/wire/jupyter-server-2.md G2 records. GET /api then reports that
// generation's version unless WithVersion sets another.
func WithGeneration(n int) Option { return func(c *config) { c.ref.Generation = n } }

// WithJupyterServer2 is WithGeneration(2): the server answers as Jupyter
// Server 2.21.1, the generation most servers run today. It is the default;
// the option says so where a test depends on it.
func WithJupyterServer2() Option { return WithGeneration(2) }

// WithWebSocketPing sets how often the server pings each WebSocket
// (kernel channels and terminals); one that answers no ping within three
// times d is closed, as Jupyter closes it. The default is Jupyter's 30 s; a test of how a client
// copes with pings, or with being dropped for not answering, makes it
// short.
func WithWebSocketPing(d time.Duration) Option { return func(c *config) { c.ref.WebSocketPing = d } }

// WithTLS serves https (and wss:// for the WebSockets), as
// httptest.NewTLSServer does: with net/http/httptest's self-signed
// certificate for 127.0.0.1, ::1 and example.com. Server.Client trusts it
// (its HTTPClient's TLS configuration does, and nothing else); another
// client trusts Certificate.
func WithTLS() Option { return func(c *config) { c.tls = true } }

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
	ts := httptest.NewUnstartedServer(ref)
	// A client that stalls before its headers or idles between requests
	// does not hold a connection for the rest of the test. There is no read
	// or write timeout: SetLatency and SetKernelStartDelay may hold an
	// answer as long as a test asks, and a test may send a body as slowly as
	// it likes.
	ts.Config.ReadHeaderTimeout = 10 * time.Second
	ts.Config.IdleTimeout = time.Minute
	ts.Config.MaxHeaderBytes = 64 << 10
	if c.tls {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	s := &Server{URL: ts.URL + ref.Prefix(), Token: c.ref.Token, ref: ref, http: ts}
	cfg := nbserv.Config{BaseURL: s.URL, Token: nbserv.NewSecret(s.Token)}
	if c.tls {
		// httptest's client: a transport of its own that trusts this
		// server's certificate, and that Close closes.
		cfg.HTTPClient = ts.Client()
	}
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

// Generation reports the Jupyter Server generation the server answers as:
// 1 or 2.
func (s *Server) Generation() int { return s.ref.Generation() }

// Certificate returns the certificate a server started WithTLS presents,
// for a client of its own to trust (x509.CertPool.AddCert); nil without
// WithTLS.
func (s *Server) Certificate() *x509.Certificate { return s.http.Certificate() }

// Handler returns the reference server's http.Handler, to mount elsewhere.
func (s *Server) Handler() http.Handler { return s.ref }

// Fault is an answer to force on matching requests, to test a client's
// error handling (see FailNext).
type Fault struct {
	// Method matches the request method; empty matches any.
	Method string
	// Path is a path.Match pattern for the request path below the base
	// URL, with a leading slash, such as "/api/sessions" or
	// "/api/sessions/*"; empty matches any.
	Path string
	// Status is the status to answer, such as 503.
	Status int
	// Body is the answer's body. Empty means Jupyter's JSON error form,
	// {"message": "<status text>", "reason": null}, as application/json.
	Body string
	// Header is added to the answer (for example Retry-After, or a
	// Content-Type for a Body that is not JSON).
	Header http.Header
}

// ErrNoSuchSession and ErrNoSuchKernel are what every control that takes a
// session or kernel id returns, wrapped with the id, for one the server
// does not have.
var (
	ErrNoSuchSession = refserver.ErrNoSuchSession
	ErrNoSuchKernel  = refserver.ErrNoSuchKernel
)

// FailNext makes the next n requests that match f answer with f instead
// of being served (and so change nothing). Faults queue in the order they
// were added; a request uses up one answer of the first fault it matches.
// Every request counts, retries included.
func (s *Server) FailNext(n int, f Fault) {
	s.ref.FailNext(n, refserver.Fault(f))
}

// SetLatency delays every answer by d, before anything else happens (0
// removes the delay). A client that gives up early is not kept waiting.
func (s *Server) SetLatency(d time.Duration) { s.ref.SetLatency(d) }

// SetKernelStartDelay makes every kernel start (a session created without
// an existing kernel, POST /api/kernels, a PATCH to a new kernel) take d,
// during which the server serves other requests, as Jupyter does while it
// awaits a kernel process. As in Jupyter Server 1.23 and 2.21, a session's row is
// written only once its kernel has started, so concurrent creates for one
// path each make a session and a kernel then; with the default 0, creates
// are atomic and they share one. The start completes even if the client
// gives up, and Close waits for it.
func (s *Server) SetKernelStartDelay(d time.Duration) { s.ref.SetKernelStartDelay(d) }

// GoneOnDelete makes the next DELETE of the session (a session id) answer
// 410 "Kernel deleted before session", as when its kernel dies mid-delete:
// the kernel is gone afterwards and so, on the next read, is the session.
// The error wraps ErrNoSuchSession for an unknown id.
func (s *Server) GoneOnDelete(sessionID string) error { return s.ref.GoneOnDelete(sessionID) }

// KillSessionKernel stops the kernel of the session (a session id) as if it
// had died: the session disappears on its next read, as in Jupyter. The
// error wraps ErrNoSuchSession for an unknown id.
func (s *Server) KillSessionKernel(sessionID string) error { return s.ref.KillSessionKernel(sessionID) }

// KillKernel stops a kernel (a kernel id) as if it had died: it leaves the
// kernel list, and every session on it disappears on its next read. The
// error wraps ErrNoSuchKernel for an unknown id.
func (s *Server) KillKernel(kernelID string) error { return s.ref.KillKernel(kernelID) }

// SetKernelActivity sets a kernel's (a kernel id) execution_state and
// last_activity, as a client working in it would, for example to make it
// look idle for an hour. The error wraps ErrNoSuchKernel for an unknown id.
func (s *Server) SetKernelActivity(kernelID, state string, last time.Time) error {
	return s.ref.SetKernelActivity(kernelID, state, last)
}

// Requests returns how many requests the server has received, faulted and
// retried ones included.
func (s *Server) Requests() int { return s.ref.Requests() }
