package nbserv

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// /api/me bodies as Jupyter Server 2.21.1 sent them (docs/wire/server.md
// SV16, SV17, SV18); 1.23.3 answers its HTML 404 page (docs/wire/server.md SV15).
const (
	wireMe          = `{"identity": {"username": "1fb4e130382d46c891f5d9fa8f667220", "name": "Anonymous Aoede", "display_name": "Anonymous Aoede", "initials": "AA", "avatar_url": null, "color": null}, "permissions": {"updatable_fields": ["name", "display_name", "initials", "avatar_url", "color"]}}`
	wireMeChecked   = `{"identity": {"username": "3a90f8c13c744d69bed2ebb6fea1ac57", "name": "Anonymous Euanthe", "display_name": "Anonymous Euanthe", "initials": "AE", "avatar_url": null, "color": null}, "permissions": {"contents": ["read", "write"], "kernels": ["execute"], "nosuch": ["fly"], "updatable_fields": ["name", "display_name", "initials", "avatar_url", "color"]}}`
	wireMeBadPerms  = `{"message": "permissions should be a JSON dict of {\"resource\": [\"action\",]}, got '[1]'", "reason": null}`
	wireForbidden   = `{"message": "Forbidden", "reason": null}`
	testMeURL       = "http://jupyter.test/api/me"
	testVersionURL  = "http://jupyter.test/api"
	wireVersion2x   = `{"version": "2.21.1"}`
	wireVersionNone = `<!DOCTYPE HTML><html><body><h1>404 : Not Found</h1></body></html>`
)

func TestMe(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testMeURL, 200, wireMe)
	me, err := c.Identity.Me(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &CurrentUser{
		Identity:    Identity{Username: "1fb4e130382d46c891f5d9fa8f667220", Name: "Anonymous Aoede", DisplayName: "Anonymous Aoede", Initials: "AA"},
		Permissions: Permissions{"updatable_fields": {"name", "display_name", "initials", "avatar_url", "color"}},
	}
	if diff := cmp.Diff(want, me); diff != "" {
		t.Errorf("Me (-want +got):\n%s", diff)
	}
	if r := m.requests()[0]; r.URL != testMeURL {
		t.Errorf("URL %s: no permissions asked, no query", r.URL)
	}
}

func TestMeChecksPermissions(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/alice/")
	m.on("GET", "http://jupyter.test/user/alice/api/me", 200, wireMeChecked)
	me, err := c.Identity.Me(context.Background(), map[string][]string{
		"contents": {"read", "write"}, "kernels": {"execute"}, "nosuch": {"fly"}, "empty": nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !me.Permissions.Allows("contents", "write") || !me.Permissions.Allows("kernels", "execute") ||
		me.Permissions.Allows("kernels", "read") || me.Permissions.Allows("terminals", "read") {
		t.Errorf("Permissions %v", me.Permissions)
	}
	u, err := url.Parse(m.requests()[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	var sent map[string][]string
	if err := json.Unmarshal([]byte(u.Query().Get("permissions")), &sent); err != nil {
		t.Fatalf("permissions %q: %v", u.Query().Get("permissions"), err)
	}
	// A nil action list is sent as [], which Jupyter accepts; null it refuses.
	want := map[string][]string{"contents": {"read", "write"}, "kernels": {"execute"}, "nosuch": {"fly"}, "empty": {}}
	if diff := cmp.Diff(want, sent); diff != "" || strings.Contains(u.RawQuery, "null") {
		t.Errorf("sent permissions %s (-want +got):\n%s", u.RawQuery, diff)
	}
}

// On Jupyter Server 1.x, /api/me is the HTML 404 page while GET /api
// answers: the SDK reports ErrNotSupported with the server's version.
func TestMeOn1xIsNotSupported(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testMeURL, 404, wireHTML404, "Content-Type", "text/html")
	m.on("GET", testVersionURL, 200, wireVersion)
	var r Response
	_, err := c.Identity.Me(context.Background(), nil, WithResponse(&r))
	var ns *NotSupportedError
	var e *Error
	if !errors.Is(err, ErrNotSupported) || !errors.Is(err, ErrNotFound) || !errors.As(err, &ns) || !errors.As(err, &e) {
		t.Fatalf("err = %v", err)
	}
	if ns.Feature != "GET /api/me" || ns.ServerVersion != "1.23.3" || e.StatusCode != 404 ||
		err.Error() != "nbserv: GET /api/me: not supported by this server (Jupyter Server 1.23.3)" {
		t.Errorf("NotSupportedError %+v: %q", ns, err)
	}
	// The HTML page embeds the token: redacted as in every *Error.
	if strings.Contains(string(e.Body), testToken) || strings.Contains(err.Error(), testToken) {
		t.Errorf("token leaked: %q", e.Body)
	}
	// The Response describes /api/me, not the version check.
	if r.StatusCode != 404 || !strings.Contains(string(r.Body), "404 : Not Found") {
		t.Errorf("Response %d %q", r.StatusCode, r.Body)
	}
}

// Under a wrong prefix GET /api is a 404 too: that is not found, not "not
// supported".
func TestMeUnderAWrongPrefixIsNotFound(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test")
	m.on("GET", testMeURL, 404, wireHTML404, "Content-Type", "text/html")
	m.on("GET", testVersionURL, 404, wireVersionNone, "Content-Type", "text/html")
	_, err := c.Identity.Me(context.Background(), nil)
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNotSupported) {
		t.Errorf("err = %v", err)
	}
}

// Only an HTML 404 leads to the version check; other errors are returned
// as they are, after one request.
func TestMeErrorsWithoutVersionCheck(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   error
	}{
		{403, wireForbidden, ErrUnauthorized},
		{400, wireMeBadPerms, ErrBadRequest},
		{404, `{"message": "Not Found", "reason": null}`, ErrNotFound},
		{500, `{"message": "Unhandled error", "reason": null}`, ErrServer},
	} {
		c, m := newMock(t, "http://jupyter.test")
		m.on("GET", testMeURL, tc.status, tc.body)
		m.on("GET", testVersionURL, 200, wireVersion2x)
		_, err := c.Identity.Me(context.Background(), nil)
		if !errors.Is(err, tc.want) || errors.Is(err, ErrNotSupported) || len(m.requests()) != 1 {
			t.Errorf("%d: err = %v after %d requests", tc.status, err, len(m.requests()))
		}
	}
}

func TestPermissionsAllows(t *testing.T) {
	var nilPerms Permissions
	if nilPerms.Allows("contents", "read") {
		t.Error("nil Permissions allow")
	}
	p := Permissions{"contents": {"read"}}
	if !p.Allows("contents", "read") || p.Allows("contents", "write") || p.Allows("", "") {
		t.Errorf("Allows on %v", p)
	}
}
