package nbserv

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestSessionsRequests asserts the exact request of every sessions
// operation: method, URL (with and without prefix), headers and JSON body.
func TestSessionsRequests(t *testing.T) {
	ctx := context.Background()
	for _, base := range []string{"http://jupyter.test", "https://hub.example.org/user/alice/"} {
		root := strings.TrimSuffix(base, "/") + "/api/sessions"
		one := root + "/" + testSessionID
		cases := []struct {
			name         string
			call         func(c *Client) error
			method, url  string
			status       int
			answer, body string
		}{
			{"List", func(c *Client) error { _, err := c.Sessions.List(ctx); return err },
				"GET", root, 200, "[" + wireNotebookSession + "]", ""},
			{"Create", func(c *Client) error {
				_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "foo/nb1.ipynb", Type: SessionNotebook, Name: "nb1",
					Kernel: &KernelRequest{Name: "python3", Env: map[string]string{"A": "1"}}})
				return err
			}, "POST", root, 201, wireNotebookSession,
				`{"path":"foo/nb1.ipynb","type":"notebook","name":"nb1","kernel":{"name":"python3","env":{"A":"1"}}}`},
			{"CreateMinimal", func(c *Client) error {
				_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "c1", Type: SessionConsole})
				return err
			}, "POST", root, 201, wireConsoleSession, `{"path":"c1","type":"console"}`},
			{"CreateByKernelID", func(c *Client) error {
				_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "c1", Type: "file", Kernel: &KernelRequest{ID: testKernelID}})
				return err
			}, "POST", root, 201, wireConsoleSession, `{"path":"c1","type":"file","kernel":{"id":"` + testKernelID + `"}}`},
			{"Get", func(c *Client) error { _, err := c.Sessions.Get(ctx, testSessionID); return err },
				"GET", one, 200, wireNotebookSession, ""},
			{"RenameName", func(c *Client) error { _, err := c.Sessions.Rename(ctx, testSessionID, "renamed", ""); return err },
				"PATCH", one, 200, wireNotebookSession, `{"name":"renamed"}`},
			{"RenameBoth", func(c *Client) error {
				_, err := c.Sessions.Rename(ctx, testSessionID, "renamed", "foo/renamed.ipynb")
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{"path":"foo/renamed.ipynb","name":"renamed"}`},
			{"UpdateEmpty", func(c *Client) error {
				_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{})
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{}`},
			{"UpdateAll", func(c *Client) error {
				_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{Path: Ptr(""), Name: Ptr("n"), Type: Ptr(SessionConsole),
					Kernel: &KernelRequest{Name: "python3"}})
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{"path":"","name":"n","type":"console","kernel":{"name":"python3"}}`},
			{"UpdateKernelID", func(c *Client) error {
				_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{Kernel: &KernelRequest{ID: testKernelID}})
				return err
			}, "PATCH", one, 200, wireNotebookSession, `{"kernel":{"id":"` + testKernelID + `"}}`},
			{"Delete", func(c *Client) error { return c.Sessions.Delete(ctx, testSessionID) },
				"DELETE", one, 204, "", ""},
			{"KernelsList", func(c *Client) error { _, err := c.Kernels.List(ctx); return err },
				"GET", strings.TrimSuffix(base, "/") + "/api/kernels", 200, "[]", ""},
			{"KernelsStart", func(c *Client) error { _, err := c.Kernels.Start(ctx, StartKernelRequest{Name: "python3"}); return err },
				"POST", strings.TrimSuffix(base, "/") + "/api/kernels", 201, `{"id": "` + testKernelID + `", "name": "python3", "last_activity": "2026-11-27T00:28:40.011808Z", "execution_state": "starting", "connections": 0}`, `{"name":"python3"}`},
			{"KernelsDelete", func(c *Client) error { return c.Kernels.Delete(ctx, testKernelID) },
				"DELETE", strings.TrimSuffix(base, "/") + "/api/kernels/" + testKernelID, 204, "", ""},
		}
		for _, tc := range cases {
			t.Run(base+"/"+tc.name, func(t *testing.T) {
				c, m := newMock(t, base, func(cfg *Config) {
					cfg.UserAgent = "myapp/2"
					cfg.Header = NewSecretHeader(http.Header{"X-Team": {"data"}})
				})
				m.on(tc.method, tc.url, tc.status, tc.answer)
				if err := tc.call(c); err != nil {
					t.Fatal(err)
				}
				reqs := m.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests, want 1", len(reqs))
				}
				r := reqs[0]
				if r.Method != tc.method || r.URL != tc.url {
					t.Errorf("request %s %s, want %s %s", r.Method, r.URL, tc.method, tc.url)
				}
				if r.Body != tc.body {
					t.Errorf("body %s, want %s", r.Body, tc.body)
				}
				want := map[string]string{
					"Authorization": "token " + testToken,
					"Accept":        "application/json",
					"User-Agent":    "myapp/2 go-nbserv/" + Version,
					"X-Team":        "data",
					"Content-Type":  "",
				}
				if tc.body != "" {
					want["Content-Type"] = "application/json"
				}
				for k, v := range want {
					if got := r.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
			})
		}
	}
}
