// Package hub is a small client for JupyterHub's REST API (/hub/api), for
// platforms that manage many users' Jupyter servers behind a hub: list the
// users and their servers, start a user's server and wait until it answers,
// stop it, and get an *nbserv.Client for it.
//
//	h, err := hub.New(hub.Config{URL: "https://hub.example.org/", Token: nbserv.NewSecret(token)})
//	c, err := h.StartServer(ctx, "alice") // an *nbserv.Client for /user/alice/, once it answers
//	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook})
//	err = h.StopServer(ctx, "alice")
//
// The token is a hub API token: a service's (jupyterhub_config.py's
// c.JupyterHub.services) or a user's. Starting and stopping another user's
// server takes the scope admin:servers (or servers), reaching it through
// the proxy access:servers, and listing users list:users and read:users;
// docs/wire/jupyterhub.md H1 and H7 have a configuration that grants them and what
// the hub answers. The same token is sent to the users' servers, which
// accept a hub token with access:servers.
//
// Only the default server of each user is managed here (named servers are
// listed in User.Servers but not started or stopped).
package hub

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/internal/transport"
)

// Config configures a Client. URL and Token are required.
type Config struct {
	// URL is the hub's public URL, where its proxy listens and users
	// reach their servers, with any base URL the hub is configured with:
	// "https://hub.example.org/" or "https://example.org/jupyter/". The
	// API is at URL + "hub/api/", a user's server at URL + "user/<name>/".
	URL string
	// Token is a hub API token, sent as "Authorization: token <Token>"
	// to URL's origin only, to the hub's API and to users' servers.
	Token nbserv.Secret
	// Client holds the settings of every request, to the hub and to the
	// clients ClientFor returns: Timeout (per call), RetryMax and the
	// retry waits, MaxResponseBytes, StreamIdleTimeout, HTTPClient,
	// Header, UserAgent and Logger. Its BaseURL and Token are ignored. Its zero value takes
	// nbserv's defaults.
	Client nbserv.Config
	// WaitTimeout bounds each StartServer and StopServer as a whole, its
	// waits for the hub and the server included, when the call gives no
	// StartTimeout or StopTimeout: a hub that dies (or keeps answering
	// "pending") after accepting a start or stop never holds the caller
	// longer than this, whatever the context. Zero means
	// DefaultWaitTimeout; nbserv.NoTimeout leaves the waits bounded by
	// their context alone; any other negative value is refused by New.
	WaitTimeout time.Duration
}

// DefaultWaitTimeout is Config.WaitTimeout's default: JupyterHub's own
// start_timeout is 60s and a spawner may take longer to pull an image, so
// a wait this long outlives any start the hub itself would let succeed.
const DefaultWaitTimeout = 5 * time.Minute

// String describes the configuration without secrets: the token
// redacted, URL without any userinfo, query or fragment, and Client as
// nbserv.Config's String describes it (Header's names, not its values).
func (c Config) String() string {
	return fmt.Sprintf("hub.Config{URL: %q, Token: %q, Client: %v}", transport.RedactURL(c.URL), c.Token.String(), c.Client)
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb.
func (c Config) Format(f fmt.State, verb rune) { _, _ = fmt.Fprint(f, c.String()) }

// LogValue makes slog record the configuration as String describes it;
// without it, slog's handlers would print Client.Header's values.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("url", transport.RedactURL(c.URL)), slog.String("token", c.Token.String()),
		slog.Any("client", c.Client))
}

// MarshalJSON encodes the configuration as String describes it, for
// loggers that encode their fields with encoding/json.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		URL    string        `json:"url"`
		Token  string        `json:"token"`
		Client nbserv.Config `json:"client"`
	}{transport.RedactURL(c.URL), c.Token.String(), c.Client})
}

// MarshalText encodes the configuration as String describes it, for
// encoders that fall back on text (encoding/xml, YAML and TOML libraries).
func (c Config) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// MarshalBinary is MarshalText, for encoding/gob, which ignores
// MarshalText.
func (c Config) MarshalBinary() ([]byte, error) { return c.MarshalText() }

// Client talks to one JupyterHub's API. It is safe for concurrent use.
type Client struct {
	token  nbserv.Secret     // a Secret, not a string: a Client printed by reflection shows an address
	server nbserv.Config     // the template of ClientFor's clients
	t      *transport.Client // the SDK's one transport, to the hub's URL
	wait   time.Duration     // Config.WaitTimeout, the default applied
}

// hubCosts price the decoded values of the hub's answers for the decoding
// bound: an object may be a User or Server with its map entry and slack.
var hubCosts = transport.Costs{Object: 1024, Array: 64, Scalar: 48}

// New validates cfg and returns a Client. A malformed URL, an empty token
// or a negative setting is an error here, not at the first call.
func New(cfg Config) (*Client, error) {
	if cfg.Token.IsZero() {
		return nil, &nbserv.ValidationError{Field: "Token", Problem: "empty; the hub's API needs a token"}
	}
	wait := cfg.WaitTimeout
	switch {
	case wait == 0:
		wait = DefaultWaitTimeout
	case wait < 0:
		return nil, &nbserv.ValidationError{Field: "WaitTimeout", Value: wait.String(), Problem: "negative; use nbserv.NoTimeout for none"}
	}
	tc := transport.Config(cfg.Client)
	tc.BaseURL, tc.Token = cfg.URL, cfg.Token
	// The hub's API answers in place: a redirect would lead to its HTML
	// pages, so none is followed (a 3xx is an *nbserv.Error matching
	// nbserv.ErrRedirect).
	t, err := transport.New(transport.Settings{Config: tc, Name: "hub", Product: "go-nbserv-hub/" + nbserv.Version,
		NoRedirects: true, Costs: hubCosts})
	if err != nil {
		var v *nbserv.ValidationError
		if errors.As(err, &v) && v.Field == "BaseURL" {
			v.Field = "URL"
		}
		return nil, err
	}
	return &Client{token: cfg.Token, server: cfg.Client, t: t, wait: wait}, nil
}

// String describes the client without its token.
func (c *Client) String() string { return fmt.Sprintf("hub.Client{URL: %q}", c.t.BaseURL()) }

// GoString is String, so that %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb: without it, a verb such as %d
// would print the fields, the token among them.
func (c *Client) Format(f fmt.State, verb rune) { _, _ = fmt.Fprint(f, c.String()) }

// URL returns the hub's public URL, ending in "/".
func (c *Client) URL() string { return c.t.BaseURL() }

// ServerURL returns the URL of user's default server through the hub's
// proxy, such as "https://hub.example.org/user/alice/". The name is
// escaped as JupyterHub escapes it in its routes.
func (c *Client) ServerURL(user string) string {
	return c.t.BaseURL() + "user/" + escapeName(user) + "/"
}

// ClientFor returns an *nbserv.Client for user's default server, reached
// through the hub's proxy with the hub token, configured by Config.Client.
// It does not check that the server runs: a call to a server that does not
// fails with an error matching nbserv.ErrServerNotRunning.
func (c *Client) ClientFor(user string) (*nbserv.Client, error) {
	if err := checkName(user); err != nil {
		return nil, err
	}
	cfg := c.server
	cfg.BaseURL, cfg.Token = c.ServerURL(user), c.token
	return nbserv.NewClient(cfg)
}

// CloseIdleConnections closes the client's idle keep-alive connections.
func (c *Client) CloseIdleConnections() { c.t.CloseIdleConnections() }

// checkName refuses a user name that cannot name a hub user.
func checkName(user string) error {
	switch user {
	case "":
		return &nbserv.ValidationError{Field: "user", Problem: "empty"}
	case ".", "..": // kept by the escaping, they would climb out of /user/
		return &nbserv.ValidationError{Field: "user", Value: user, Problem: "not a user name"}
	}
	return nil
}

// escapeName escapes a user name as JupyterHub does in URLs
// (url_escape_path: Python's quote with "@" and "~" kept): every byte but
// ASCII letters, digits and "_.-~@" is percent-encoded.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		ch := name[i]
		switch {
		case 'a' <= ch && ch <= 'z', 'A' <= ch && ch <= 'Z', '0' <= ch && ch <= '9',
			ch == '_', ch == '.', ch == '-', ch == '~', ch == '@':
			b.WriteByte(ch)
		default:
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	return b.String()
}
