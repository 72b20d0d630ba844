package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hubRecording is an answer JupyterHub 3.0 sent, as `curl -i` saved it in
// testdata/jupyterhub-3.0 (docs/wire/jupyterhub.md H3, H4, H5, H6 have each command).
type hubRecording struct {
	status int
	header http.Header
	body   []byte
}

func readHubRecording(t *testing.T, name string) hubRecording {
	t.Helper()
	if !strings.Contains(name, "/") {
		name = filepath.Join("jupyterhub-3.0", name)
	}
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return hubRecording{status: resp.StatusCode, header: resp.Header, body: body}
}

// hubError is the *Error the SDK makes of a recorded answer.
func hubError(t *testing.T, method, name string) *Error {
	rec := readHubRecording(t, name)
	return newError(method, "/user/hubclient/api/sessions", rec.status, rec.header, rec.body, newRedactor(testToken, nil))
}

// is is (*Error).Is with hubIs folded in as the lead wires it: the hub's
// answers first, then the status classes.
func is(e *Error, target error) bool { return hubIs(e, target) || e.Is(target) }

func TestHubAnswersAreTyped(t *testing.T) {
	all := []error{ErrServerNotRunning, ErrLoginRequired, ErrUnauthorized, ErrRedirect, ErrNotFound, ErrServer, ErrBadRequest}
	cases := []struct {
		file, method string
		want         []error // every sentinel of all that must match; the rest must not
		hint         string
	}{
		// The hub's answers.
		{"stopped-get-followed.http", "GET", []error{ErrServerNotRunning}, ""},
		{"stopped-post.http", "POST", []error{ErrServerNotRunning}, "JupyterHub answered: the user's server is not running"},
		{"stopped-delete.http", "DELETE", []error{ErrServerNotRunning}, "JupyterHub answered: the user's server is not running"},
		{"stopped-get.http", "GET", []error{ErrServerNotRunning, ErrRedirect}, "JupyterHub answered: the user's server is not running"},
		{"stopped-get-wrong-token-followed.http", "GET", []error{ErrLoginRequired, ErrUnauthorized, ErrRedirect},
			"JupyterHub asks to log in: the token is missing, wrong or expired"},
		// JupyterHub 6.1.1: the same, but its XSRF check answers the
		// other methods with an HTML 403 before the 405.
		{"jupyterhub-6.1.1/stopped-get-followed.http", "GET", []error{ErrServerNotRunning}, ""},
		{"jupyterhub-6.1.1/stopped-post.http", "POST", []error{ErrServerNotRunning, ErrUnauthorized}, "JupyterHub answered: the user's server is not running"},
		{"jupyterhub-6.1.1/stopped-delete.http", "DELETE", []error{ErrServerNotRunning, ErrUnauthorized}, "JupyterHub answered: the user's server is not running"},
		{"jupyterhub-6.1.1/stopped-get-wrong-token-followed.http", "GET", []error{ErrLoginRequired, ErrUnauthorized, ErrRedirect},
			"JupyterHub asks to log in: the token is missing, wrong or expired"},
		{"jupyterhub-6.1.1/hubapi-wrong-token.http", "GET", []error{ErrUnauthorized}, ""},
		{"jupyterhub-6.1.1/hubapi-delete-unknown.http", "DELETE", []error{ErrNotFound}, ""},
		// The single-user server's own answers through the proxy are
		// Jupyter's, and none of the hub's.
		{"running-wrong-token.http", "GET", []error{ErrUnauthorized}, ""},
		{"running-session-not-found.http", "GET", []error{ErrNotFound}, ""},
		// The hub's API refuses a wrong token with its own 403 body.
		{"hubapi-wrong-token.http", "GET", []error{ErrUnauthorized}, ""},
		// A prefix that names no user: the hub's 404 (empty when the
		// token is a service's: the hub fails to render its page).
		{"unknown-user-get-followed.http", "GET", []error{ErrNotFound}, ""},
		{"wrong-prefix-get-followed.http", "GET", []error{ErrNotFound}, ""},
	}
	for _, tc := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(tc.file), ".http")+"@"+filepath.Dir(tc.file), func(t *testing.T) {
			e := hubError(t, tc.method, tc.file)
			for _, target := range all {
				want := false
				for _, w := range tc.want {
					want = want || w == target
				}
				if got := is(e, target); got != want {
					t.Errorf("%d answer: matches %v = %v, want %v", e.StatusCode, target, got, want)
				}
			}
			if got := hubHint(e); got != tc.hint {
				t.Errorf("hint %q, want %q", got, tc.hint)
			}
		})
	}
}

func TestHubNotRunningMessageIsKept(t *testing.T) {
	e := hubError(t, "GET", "stopped-get-followed.http")
	const want = "JupyterHub server no longer running at /user/hubclient/api/sessions. Restart the server at http://127.0.0.1:46653/hub/spawn/hubclient"
	if e.StatusCode != http.StatusFailedDependency || e.Message != want || !strings.Contains(e.Error(), want) {
		t.Errorf("%d %q: %v", e.StatusCode, e.Message, e)
	}
}

// A hub configured with use_legacy_stopped_server_status_code answers 503
// with the same body; only that body makes a 503 the hub's.
func TestHubLegacyNotRunningStatus(t *testing.T) {
	rec := readHubRecording(t, "stopped-get-followed.http")
	legacy := newError("GET", "/user/hubclient/api/sessions", http.StatusServiceUnavailable, rec.header, rec.body, nil)
	plain := newError("GET", "/api/sessions", http.StatusServiceUnavailable, http.Header{"Content-Type": {"application/json"}},
		[]byte(`{"message": "Service Unavailable", "reason": null}`), nil)
	if !is(legacy, ErrServerNotRunning) || !is(legacy, ErrServer) {
		t.Errorf("legacy 503: not running %v, server %v", is(legacy, ErrServerNotRunning), is(legacy, ErrServer))
	}
	if is(plain, ErrServerNotRunning) {
		t.Error("a plain 503 matches ErrServerNotRunning")
	}
}

// Jupyter Server's own 405 is JSON: not the hub's.
func TestHubJupyter405IsNotTheHubs(t *testing.T) {
	e := newError("DELETE", "/user/ci/api/sessions", http.StatusMethodNotAllowed,
		http.Header{"Content-Type": {"application/json"}, "X-Jupyterhub-Version": {"3.0.0"}},
		[]byte(`{"message": "Method Not Allowed", "reason": null}`), nil)
	if is(e, ErrServerNotRunning) {
		t.Error("Jupyter's JSON 405 matches ErrServerNotRunning")
	}
}

// replayHub serves the recorded answers of a hub whose user "hubclient"
// has no server running: the proxy's route to the hub, then the hub.
func replayHub(t *testing.T) *Client {
	t.Helper()
	stoppedGet := readHubRecording(t, "stopped-get.http")
	followed := readHubRecording(t, "stopped-get-followed.http")
	post := readHubRecording(t, "stopped-post.http")
	write := func(w http.ResponseWriter, rec hubRecording) {
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.Header().Del("Connection")
		w.WriteHeader(rec.status)
		_, _ = w.Write(rec.body)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodGet:
			write(w, post)
		case r.URL.Path == "/user/hubclient/api/sessions":
			write(w, stoppedGet)
		case r.URL.Path == "/hub/user/hubclient/api/sessions":
			write(w, followed)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Settings{Config: Config{BaseURL: srv.URL + "/user/hubclient/", Token: NewSecret(testToken)}, Name: "nbserv"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// Through the SDK: a GET follows the hub's redirect to its 424, the other
// methods get the hub's 405; both are ErrServerNotRunning.
func TestHubNotRunningThroughTheClient(t *testing.T) {
	c := replayHub(t)
	ctx := context.Background()
	var r Response
	_, err := c.Do(ctx, Call{Method: "GET", Path: "api/sessions"}, []CallOption{WithResponse(&r)})
	var e *Error
	if !errors.As(err, &e) || !is(e, ErrServerNotRunning) || r.StatusCode != http.StatusFailedDependency || r.Attempts != 1 {
		t.Errorf("List: %v (status %d, %d attempts)", err, r.StatusCode, r.Attempts)
	}
	_, err = c.Do(ctx, Call{Method: "POST", Path: "api/sessions", Body: map[string]string{"path": "a.ipynb", "type": "notebook"}}, nil)
	if !errors.As(err, &e) || !is(e, ErrServerNotRunning) || e.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("Create: %v", err)
	}
	if _, err := c.Do(ctx, Call{Method: "DELETE", Path: "api/sessions/" + testSessionID}, nil); !errors.As(err, &e) || !is(e, ErrServerNotRunning) {
		t.Errorf("Delete: %v", err)
	}
}
