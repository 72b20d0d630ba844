// Package transport is the one HTTP transport of the SDK's packages
// (nbserv, hub and the kernel channels): it sends calls, retries them by
// one rule (go-retryablehttp runs the attempts), bounds what it reads and
// decodes, builds the headers, removes the token from what servers echo,
// and turns every answer that is not a success into a typed error. The
// public packages re-export its errors, options and constants.
package transport

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
)

// Client sends the calls of one server (or hub). It is safe for
// concurrent use.
type Client struct {
	name     string   // starts errors and log records
	base     *url.URL // scheme and host: the only origin credentials go to
	baseURL  string   // always ends with "/"
	basePath string   // its escaped path, for error messages
	// token, header and jsonHeader hold credentials where fmt, printing a
	// Client by reflection (a client value in an unexported field, with a
	// bad verb), never reaches them: behind a pointer and closures.
	token  Secret
	redact *redactor    // the token's and Header's forms, removed from what servers echo
	header SecretHeader // every request's headers, built once, never modified
	// jsonHeader is header with the Content-Type of a JSON body.
	jsonHeader SecretHeader
	settings   settings
	costs      Costs
	logger     *slog.Logger
	http       *http.Client // a copy of the caller's, with the redirect policy
	// engineHTTP is http with its transport behind keepIdle: the retry
	// engine's, which must not close the pool's idle connections.
	engineHTTP *http.Client
	calls      sync.Pool // of *engineCall
	// shareHeader: requests without headers of their own may share header
	// (or jsonHeader) instead of a copy, as nothing writes to theirs.
	shareHeader bool
	// wsMu guards ws and wsOwn, built by the first WebSocket dial: most
	// clients (the hub's, one that never connects to a kernel) dial none,
	// and a transport of their own would be a second pool for nothing.
	wsMu sync.Mutex
	// ws dials WebSockets: http with a transport of its own whose
	// connections acknowledge at once (QuickAckHTTPClient), unless the
	// caller's RoundTripper is not an *http.Transport: then it is http's.
	ws *http.Client
	// wsOwn: ws has a transport of its own, whose idle connections
	// CloseIdleConnections closes besides http's.
	wsOwn bool
}

// wsClient returns the WebSocket dialer's client, built on first use.
func (c *Client) wsClient() *http.Client {
	c.wsMu.Lock()
	defer c.wsMu.Unlock()
	if c.ws == nil {
		c.ws = QuickAckHTTPClient(c.http)
		_, c.wsOwn = c.ws.Transport.(*http.Transport) // a clone: the caller's own RoundTripper is used as it is
	}
	return c.ws
}

// New validates s and returns a Client. A malformed BaseURL, a negative
// setting, or a token or header no HTTP request can carry is a
// *ValidationError naming the Config field.
func New(s Settings) (*Client, error) {
	base, err := ParseBaseURL(s.BaseURL)
	if err != nil {
		return nil, err
	}
	set, err := s.settings()
	if err != nil {
		return nil, err
	}
	if err := s.checkCredentials(); err != nil {
		return nil, err
	}
	c := &Client{
		name:     s.Name,
		base:     base,
		baseURL:  base.String(),
		basePath: base.EscapedPath(),
		token:    s.Token,
		redact:   newRedactor(s.Token.Reveal(), s.Header.Clone()),
		header:   holdHeader(baseHeader(s.Config, s.Product)),
		settings: set,
		costs:    s.Costs.orDefault(),
		logger:   s.Logger,
	}
	// A shallow copy: the caller's client (and its Transport, Jar and
	// Timeout) is shared, never modified.
	if s.HTTPClient != nil {
		hc := *s.HTTPClient
		c.http = &hc
	} else {
		c.http = cleanhttp.DefaultPooledClient()
	}
	c.http.CheckRedirect = c.checkRedirect
	if s.NoRedirects {
		c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	// net/http's own transport never writes to a request's header; a
	// caller's RoundTripper may (many auth and tracing ones do, though they
	// should not), and http.Client adds a cookie jar's cookies in place.
	_, stdTransport := c.http.Transport.(*http.Transport)
	c.shareHeader = (c.http.Transport == nil || stdTransport) && c.http.Jar == nil
	jh := c.header.Clone()
	jh.Set("Content-Type", "application/json")
	c.jsonHeader = holdHeader(jh)
	eh := *c.http
	eh.Transport = keepIdle{c.http.Transport}
	c.engineHTTP = &eh
	c.calls.New = func() any { return c.newEngineCall() }
	return c, nil
}

// BaseURL returns the base URL, always ending in "/".
func (c *Client) BaseURL() string { return c.baseURL }

// BasePath returns the base URL's escaped path, which error messages
// put before a call's path.
func (c *Client) BasePath() string { return c.basePath }

// Header returns a copy of every request's headers (the token's
// Authorization among them), for a request the transport does not send
// itself, such as a WebSocket handshake.
func (c *Client) Header() http.Header { return c.header.Clone() }

// HTTP returns the http.Client the calls go through, with the redirect
// policy.
func (c *Client) HTTP() *http.Client { return c.http }

// Timeout is the bound of one call, NoTimeout for none.
func (c *Client) Timeout() time.Duration { return c.settings.timeout }

// MaxBody is the largest body the transport reads, in bytes.
func (c *Client) MaxBody() int64 { return c.settings.maxBody }

// RetryMax is how many times a failed attempt may be retried.
func (c *Client) RetryMax() int { return c.settings.retryMax }

// CloseIdleConnections closes the idle keep-alive connections, the
// WebSocket dialer's included.
func (c *Client) CloseIdleConnections() {
	c.http.CloseIdleConnections()
	c.wsMu.Lock()
	ws, own := c.ws, c.wsOwn
	c.wsMu.Unlock()
	if own {
		ws.CloseIdleConnections()
	}
}

// NewError makes the *Error of a non-2xx answer to a request the transport
// did not send itself, with the token and Config.Header's credentials
// removed.
func (c *Client) NewError(method, path string, status int, header http.Header, body []byte) *Error {
	return newError(method, path, status, header, body, c.redact)
}

// RedactErr removes the token and Config.Header's credentials from an
// error's text, which may quote a URL; an error without them is returned
// as it is.
func (c *Client) RedactErr(err error) error {
	if !c.redact.contains(err.Error()) {
		return err
	}
	return errors.New(c.redact.string(err.Error()))
}
