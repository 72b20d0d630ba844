package nbservtest

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/nbserv/go-nbserv/internal/refserver"
)

// Hub is a running stand-in for JupyterHub and its proxy, for testing code
// that manages users' servers behind a hub (package hub) or meets a hub's
// answers: the hub's API for users and their default servers, a reference
// server per user at URL + "user/<name>/" while it runs, and, when it does
// not, what the real hub answers in its place (a GET is redirected to a
// 424, other methods get an HTML 405, both matching
// nbserv.ErrServerNotRunning), as recorded from JupyterHub 3.0.
type Hub struct {
	// URL is the hub's public URL, ending in "/".
	URL string
	// Token is the hub API token it and the users' servers accept.
	Token string

	ref  *refserver.Hub
	http *httptest.Server
}

// HubOption configures a Hub.
type HubOption func(*refserver.HubOptions)

// WithUsers sets the hub's users, in the order it lists them; by default
// one user, "alice". No user's server runs at first.
func WithUsers(names ...string) HubOption {
	return func(o *refserver.HubOptions) { o.Users = names }
}

// WithSpawnPolls makes a server start take n reads of its user's model
// before it is ready, as a real spawn does; by default servers start at
// once.
func WithSpawnPolls(n int) HubOption {
	return func(o *refserver.HubOptions) { o.SpawnPolls = n }
}

// NewHub starts a hub for the test and stops it when the test ends.
func NewHub(t testing.TB, opts ...HubOption) *Hub {
	t.Helper()
	h := StartHub(opts...)
	t.Cleanup(h.Close)
	return h
}

// StartHub starts a hub outside a test (an example, a demo); call Close
// when done.
func StartHub(opts ...HubOption) *Hub {
	o := refserver.HubOptions{Token: rand.Text(), Users: []string{"alice"}}
	for _, opt := range opts {
		opt(&o)
	}
	ref := refserver.NewHub(o)
	ts := httptest.NewServer(ref)
	return &Hub{URL: ts.URL + "/", Token: o.Token, ref: ref, http: ts}
}

// Close stops the hub and every user's server.
func (h *Hub) Close() { h.http.Close() }

// Running reports whether user's server is running (started, not pending).
func (h *Hub) Running(user string) bool { return h.ref.Server(user) != nil }

// Handler returns the hub's http.Handler, to mount elsewhere.
func (h *Hub) Handler() http.Handler { return h.ref }
