package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/transport"
)

// User is a hub user as GET /hub/api/users/{name} reports it.
type User struct {
	// Name is the user's name, as the hub normalised it.
	Name string `json:"name"`
	// Admin is whether the user is a hub admin.
	Admin bool `json:"admin"`
	// Roles and Groups name the user's roles and groups.
	Roles  []string `json:"roles"`
	Groups []string `json:"groups"`
	// Server is the URL path of the default server while it is ready,
	// such as "/user/alice/"; empty otherwise (the hub sends null).
	Server string `json:"server"`
	// Pending is "spawn" or "stop" while the default server is starting
	// or stopping; empty otherwise.
	Pending string `json:"pending"`
	// Created is when the user was added to the hub.
	Created time.Time `json:"created"`
	// LastActivity is the user's last activity the hub knows of; zero
	// when it has none.
	LastActivity time.Time `json:"last_activity"`
	// Servers holds the user's servers that are running, starting or
	// stopping, by name ("" is the default server); a stopped server is
	// absent. The hub fills it only for a token with the read:servers
	// scope (admin:servers includes it): nil otherwise.
	Servers map[string]Server `json:"servers"`
}

// Server is one of a user's servers, as the hub reports it.
type Server struct {
	// Name is the server's name; "" for the default server.
	Name string `json:"name"`
	// Ready is whether the server has started and the hub routes to it.
	// (The proxy may take a moment more: StartServer waits for the server
	// itself to answer.)
	Ready bool `json:"ready"`
	// Pending is "spawn" or "stop" while the server is starting or
	// stopping; empty otherwise.
	Pending string `json:"pending"`
	// Stopped is whether the server is stopped (a stopped server is
	// usually absent from User.Servers instead).
	Stopped bool `json:"stopped"`
	// URL is the server's URL path, such as "/user/alice/".
	URL string `json:"url"`
	// ProgressURL is the path of the hub's event stream of the spawn's
	// progress.
	ProgressURL string `json:"progress_url"`
	// Started is when the server was started; LastActivity its last
	// activity the hub knows of. Zero when unknown.
	Started      time.Time `json:"started"`
	LastActivity time.Time `json:"last_activity"`
	// UserOptions are the options the server was started with.
	UserOptions json.RawMessage `json:"user_options,omitempty"`
}

// defaultServer returns the user's default server, if the hub lists it.
func (u *User) defaultServer() (Server, bool) {
	s, ok := u.Servers[""]
	return s, ok
}

// User returns one user with their servers (GET /hub/api/users/{name}). An
// unknown name fails with an error matching nbserv.ErrNotFound; a token
// without read:users with nbserv.ErrUnauthorized.
func (c *Client) User(ctx context.Context, name string) (*User, error) {
	u, _, err := c.user(ctx, name, false)
	return u, err
}

// user is User; once sends a single attempt, for a poll (see
// transport.Call.Once), and the Response says how it failed.
func (c *Client) user(ctx context.Context, name string, once bool) (*User, *transport.Response, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	var u User
	r, err := c.t.Do(ctx, transport.Call{Method: "GET", Path: "hub/api/users/" + escapeName(name), Decode: decodeUser(&u), Once: once}, nil)
	if err != nil {
		return nil, r, err
	}
	return &u, r, nil
}

// pollUser is one poll of user's model, a single attempt: a failure that
// another attempt may get past (a connection error, a 502 or 503 while
// the hub restarts) is reported as retry, for the poll loop to try again
// at its next interval rather than end the wait.
func (c *Client) pollUser(ctx context.Context, name string) (u *User, retry bool, err error) {
	u, r, err := c.user(ctx, name, true)
	return u, err != nil && ctx.Err() == nil && transport.Temporary(r, err), err
}

func decodeUser(u *User) func([]byte) error {
	return func(b []byte) error {
		if err := json.Unmarshal(b, u); err != nil {
			return err
		}
		if u.Name == "" {
			return errors.New("no user in the answer")
		}
		return nil
	}
}

// paginationMediaType asks JupyterHub (2.0 and later) for pages of the
// form {"items": [...], "_pagination": {...}}; without it the hub sends
// one plain list of at most api_page_max_limit users (200 by default) and
// says nothing of the rest.
const paginationMediaType = "application/jupyterhub-pagination+json"

// pageLimit is the page size asked for: the hub's default maximum.
const pageLimit = 200

// maxPages bounds the pages ListUsers asks for: 2,000,000 users at the
// hub's default page size, far past any real hub. The decode budget alone
// would let a hub whose every page says there is a next one, each with one
// user, be asked millions of times.
const maxPages = 10_000

type page struct {
	Items      []User `json:"items"`
	Pagination *struct {
		Total int `json:"total"`
		Next  *struct {
			Offset int `json:"offset"`
		} `json:"next"`
	} `json:"_pagination"`
}

// ListUsers returns every user of the hub with their servers (GET
// /hub/api/users), page by page. It needs the list:users and read:users
// scopes (read:servers for User.Servers). It asks for at most 10,000
// pages: a hub that says there is a next page after those fails the call
// with an error matching nbserv.ErrResponseTooLarge, as does a list whose
// pages together would decode to more than the client's decode budget.
func (c *Client) ListUsers(ctx context.Context) ([]User, error) {
	var all []User
	var cost int64 // of every page so far: the bound holds for the whole list
	offset := 0
	for pages := 1; ; pages++ {
		if pages > maxPages {
			return nil, fmt.Errorf("hub: GET %shub/api/users: %w: the hub says there is a page after %d pages (%d users), the most ListUsers asks for",
				c.t.BasePath(), nbserv.ErrResponseTooLarge, maxPages, len(all))
		}
		var p page
		var plain bool
		_, err := c.t.Do(ctx, transport.Call{
			Method: "GET", Path: "hub/api/users",
			Query: url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(pageLimit)}},
			Decode: func(b []byte) error {
				if cost += c.t.JSONCost(b); cost > c.t.DecodeBudget() {
					return fmt.Errorf("%w: the pages so far could take %d bytes decoded, over %d",
						nbserv.ErrResponseTooLarge, cost, c.t.DecodeBudget())
				}
				if b = bytes.TrimLeft(b, " \t\r\n"); len(b) > 0 && b[0] == '[' { // a hub before 2.0: no pages
					plain = true
					return json.Unmarshal(b, &p.Items)
				}
				return json.Unmarshal(b, &p)
			},
		}, []transport.CallOption{transport.WithHeader("Accept", paginationMediaType)})
		if err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if plain || p.Pagination == nil || p.Pagination.Next == nil {
			return all, nil
		}
		// A next offset that does not move on would loop for ever.
		if p.Pagination.Next.Offset <= offset || len(p.Items) == 0 {
			return nil, fmt.Errorf("hub: GET %shub/api/users: pagination does not advance (offset %d, next %d)",
				c.t.BasePath(), offset, p.Pagination.Next.Offset)
		}
		offset = p.Pagination.Next.Offset
	}
}
