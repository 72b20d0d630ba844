package nbserv

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// notSupported turns err into a *NotSupportedError when it is Jupyter's
// "no such route" answer (a 404 with its HTML page rather than a JSON
// message) and the server nevertheless answers GET /api as a Jupyter
// Server: then the route is missing from this server, not the client's
// prefix wrong. Any other error is returned as it is. It costs one more
// request, on that failure only.
func (c *Client) notSupported(ctx context.Context, feature string, err error, opts []CallOption) error {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 404 || transport.IsJSON(e.Body) {
		return err
	}
	v, verr := c.Server.Version(ctx, transport.WithoutResponse(opts)...)
	if verr != nil {
		return err
	}
	return &NotSupportedError{Feature: feature, ServerVersion: v.Raw, Err: err}
}

// IdentityService tells who the client is authenticated as (/api/me,
// Jupyter Server 2.x). Reach it as Client.Identity; it mirrors the Python
// client's IdentityApi.
type IdentityService struct{ c *Client }

// CurrentUser is the answer of GET /api/me: who the token belongs to, and
// which of the permissions asked about are granted.
type CurrentUser struct {
	// Identity describes the user.
	Identity Identity `json:"identity"`
	// Permissions maps each resource asked about to the actions the user
	// may take on it. Jupyter Server 2.x also reports the identity fields
	// the user may change, under "updatable_fields".
	Permissions Permissions `json:"permissions"`
}

// Identity is the user model of Jupyter Server 2.x. Fields the server
// leaves null are empty.
type Identity struct {
	// Username is the only field every identity has.
	Username string `json:"username"`
	// Name is the user's full name; Jupyter fills it from Username.
	Name string `json:"name"`
	// DisplayName is the name to show; Jupyter fills it from Name.
	DisplayName string `json:"display_name"`
	// Initials, for an avatar without a picture.
	Initials string `json:"initials"`
	// AvatarURL locates the user's picture.
	AvatarURL string `json:"avatar_url"`
	// Color is the user's color in collaborative UIs (a CSS color).
	Color string `json:"color"`
}

// Permissions maps a resource ("contents", "kernels", "terminals", ...) to
// the actions granted on it ("read", "write", "execute").
type Permissions map[string][]string

// Allows reports whether action is granted on resource.
func (p Permissions) Allows(resource, action string) bool {
	return slices.Contains(p[resource], action)
}

// Me returns the identity the client is authenticated as (GET /api/me).
// check, when not empty, asks which of
// the listed actions per resource the user may take, such as
// {"contents": {"read", "write"}, "kernels": {"execute"}}; the answer's
// Permissions holds the granted subset.
//
// Jupyter Server 1.x has no /api/me: there Me fails with an error matching
// ErrNotSupported (a *NotSupportedError holding the server's version).
// Server.Version tells the generations apart beforehand.
//
// Python: IdentityApi.api_me_get.
func (s *IdentityService) Me(ctx context.Context, check map[string][]string, opts ...CallOption) (*CurrentUser, error) {
	var q url.Values
	if len(check) > 0 {
		sent := make(map[string][]string, len(check))
		for res, actions := range check {
			sent[res] = append([]string{}, actions...) // never null: Jupyter wants a list
		}
		b, _ := json.Marshal(sent) // a map of string slices always encodes
		q = url.Values{"permissions": {string(b)}}
	}
	me := new(CurrentUser)
	if _, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/me", Query: q, Decode: decodeInto(me)}, opts); err != nil {
		return nil, s.c.notSupported(ctx, "GET /api/me", err, opts)
	}
	return me, nil
}
