package hub_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/hub"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// The hub client's end-to-end tests run against the hub stand-in
// (nbservtest.NewHub, with spawns that take a few polls) by default, and
// against a real JupyterHub when NBSERV_HUB_URL, NBSERV_HUB_TOKEN and
// NBSERV_HUB_USER are set (scripts/with-jupyterhub.sh does that; the user
// is one whose server the tests may start and stop). The assertions are
// the same.

type hubTarget struct {
	url, token, user string
}

func hubTargetFor(t *testing.T) hubTarget {
	if u := os.Getenv("NBSERV_HUB_URL"); u != "" {
		return hubTarget{url: u, token: os.Getenv("NBSERV_HUB_TOKEN"), user: os.Getenv("NBSERV_HUB_USER")}
	}
	fake := nbservtest.NewHub(t, nbservtest.WithUsers("ci", "hubclient"), nbservtest.WithSpawnPolls(3))
	return hubTarget{url: fake.URL, token: fake.Token, user: "hubclient"}
}

func newHub(t *testing.T, url, token string) *hub.Client {
	t.Helper()
	h, err := hub.New(hub.Config{URL: url, Token: nbserv.NewSecret(token), Client: nbserv.Config{Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.CloseIdleConnections)
	return h
}

// notRunning reports whether err is the hub's answer for a server that
// does not run, as the SDK types it (docs/wire/jupyterhub.md H3, H9): the 424 of
// a GET, the HTML 405 (3.0) or 403 (6.x) of another method.
func notRunning(err error, method string) bool {
	var e *nbserv.Error
	if !errors.As(err, &e) || !errors.Is(err, nbserv.ErrServerNotRunning) {
		return false
	}
	if method == "GET" {
		return e.StatusCode == http.StatusFailedDependency
	}
	return e.StatusCode == http.StatusMethodNotAllowed || e.StatusCode == http.StatusForbidden
}

func TestE2EHubStartDriveStop(t *testing.T) {
	tg := hubTargetFor(t)
	h := newHub(t, tg.url, tg.token)
	ctx := context.Background()
	if err := h.StopServer(ctx, tg.user); err != nil { // a clean start, whatever ran before
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.StopServer(context.Background(), tg.user); err != nil {
			t.Errorf("cleanup: StopServer: %v", err)
		}
	})

	u, err := h.User(ctx, tg.user)
	if err != nil || u.Name != tg.user || len(u.Servers) != 0 || u.Server != "" || u.Pending != "" || u.Created.IsZero() {
		t.Fatalf("User before start: %+v, %v", u, err)
	}
	stopped, err := h.ClientFor(tg.user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopped.CloseIdleConnections)
	if _, err := stopped.Sessions.List(ctx); !notRunning(err, "GET") {
		t.Errorf("List on a stopped server: %v", err)
	}
	if _, err := stopped.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "x.ipynb", Type: nbserv.SessionNotebook}); !notRunning(err, "POST") {
		t.Errorf("Create on a stopped server: %v", err)
	}

	c, err := h.StartServer(ctx, tg.user)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	if want := h.URL() + "user/" + tg.user + "/"; c.BaseURL() != want {
		t.Errorf("client for %s at %s, want %s", tg.user, c.BaseURL(), want)
	}
	u, err = h.User(ctx, tg.user)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := u.Servers[""]
	if !ok || !s.Ready || s.Pending != "" || s.URL != "/user/"+tg.user+"/" || s.Started.IsZero() || u.Server != s.URL {
		t.Errorf("User after start: %+v", u)
	}

	// A session on the server, through the proxy, with the hub's token.
	sess, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "hub-e2e.ipynb", Type: nbserv.SessionNotebook})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Kernel == nil || sess.Path != "hub-e2e.ipynb" {
		t.Fatalf("session %+v", sess)
	}
	ks, err := c.Kernels.List(ctx)
	if err != nil || !slices.ContainsFunc(ks, func(k nbserv.Kernel) bool { return k.ID == sess.Kernel.ID }) {
		t.Errorf("kernels %+v, %v: lacks %s", ks, err, sess.Kernel.ID)
	}
	if err := c.Sessions.Delete(ctx, sess.ID); err != nil {
		t.Error(err)
	}

	// Starting a running server again changes nothing.
	again, err := h.StartServer(ctx, tg.user)
	if err != nil {
		t.Fatalf("StartServer when running: %v", err)
	}
	again.CloseIdleConnections()

	users, err := h.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(users, func(x hub.User) bool { return x.Name == tg.user })
	if i < 0 || !users[i].Servers[""].Ready || !slices.ContainsFunc(users, func(x hub.User) bool { return x.Name == "ci" }) {
		t.Errorf("ListUsers: %+v", users)
	}

	if err := h.StopServer(ctx, tg.user); err != nil {
		t.Fatal(err)
	}
	u, err = h.User(ctx, tg.user)
	if err != nil || len(u.Servers) != 0 || u.Server != "" {
		t.Errorf("User after stop: %+v, %v", u, err)
	}
	if _, err := c.Sessions.List(ctx); !notRunning(err, "GET") {
		t.Errorf("List after stop: %v", err)
	}
	if err := h.StopServer(ctx, tg.user); err != nil {
		t.Errorf("StopServer when stopped: %v", err)
	}
}

func TestE2EHubErrors(t *testing.T) {
	tg := hubTargetFor(t)
	h := newHub(t, tg.url, tg.token)
	ctx := context.Background()
	const nobody = "no-such-user-e2e"
	if _, err := h.User(ctx, nobody); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("User of an unknown user: %v", err)
	}
	if _, err := h.StartServer(ctx, nobody); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("StartServer of an unknown user: %v", err)
	}
	if err := h.StopServer(ctx, nobody); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("StopServer of an unknown user: %v", err)
	}

	bad := newHub(t, tg.url, "wrong-token")
	var e *nbserv.Error
	_, err := bad.ListUsers(ctx)
	// The message is JupyterHub 3.0's, then 6.1's.
	if !errors.Is(err, nbserv.ErrUnauthorized) || !errors.As(err, &e) || e.StatusCode != http.StatusForbidden ||
		e.Message != "Action is not authorized with current scopes; requires any of [list:users]" &&
			e.Message != "Missing or invalid credentials." {
		t.Errorf("ListUsers with a wrong token: %v", err)
	}
	if _, err := bad.User(ctx, tg.user); !errors.Is(err, nbserv.ErrUnauthorized) {
		t.Errorf("User with a wrong token: %v", err)
	}
	if _, err := bad.StartServer(ctx, tg.user); !errors.Is(err, nbserv.ErrUnauthorized) || strings.Contains(err.Error(), tg.token) {
		t.Errorf("StartServer with a wrong token: %v", err)
	}
}
