package nbserv

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hashicorp/go-cleanhttp"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.2.0"

// Client talks to one Jupyter Server. It is safe for concurrent use; create
// one per server and reuse it, so that connections are reused.
type Client struct {
	// Sessions manages sessions: /api/sessions.
	Sessions *SessionsService
	// Kernels reads, starts and stops kernels: /api/kernels.
	Kernels *KernelsService
	// KernelSpecs lists installable kernels and serves their logos.
	KernelSpecs *KernelSpecsService
	// Server reports the server's status, version and API spec.
	Server *ServerService
	// ConfigSections reads and merges frontend config: /api/config.
	ConfigSections *ConfigSectionsService
	// Identity tells who the token belongs to: /api/me (Jupyter Server 2.x).
	Identity *IdentityService
	// Terminals manages terminals: /api/terminals.
	Terminals *TerminalsService
	// Contents reads and writes files, notebooks and directories:
	// /api/contents, and /files for large downloads.
	Contents *ContentsService

	base     *url.URL // scheme and host: the only origin credentials go to
	baseURL  string   // always ends with "/"
	basePath string   // its escaped path, for error messages
	token    string
	redact   *redactor   // the token's forms, removed from what servers echo
	header   http.Header // every request's headers, built once; cloned per call
	settings settings
	logger   *slog.Logger
	http     *http.Client // a copy of the caller's, with the SDK's redirect policy
}

// NewClient validates cfg and returns a Client. A malformed BaseURL or a
// negative setting is an error here, not at the first call.
func NewClient(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	set, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:     base,
		baseURL:  base.String(),
		basePath: base.EscapedPath(),
		token:    string(cfg.Token),
		redact:   newRedactor(string(cfg.Token)),
		header:   baseHeader(cfg),
		settings: set,
		logger:   cfg.Logger,
	}
	// A shallow copy: the caller's client (and its Transport, Jar and
	// Timeout) is shared, never modified.
	if cfg.HTTPClient != nil {
		hc := *cfg.HTTPClient
		c.http = &hc
	} else {
		c.http = cleanhttp.DefaultPooledClient()
	}
	c.http.CheckRedirect = c.checkRedirect
	c.Sessions = &SessionsService{c: c}
	c.Kernels = &KernelsService{c: c}
	c.KernelSpecs = &KernelSpecsService{c: c}
	c.Server = &ServerService{c: c}
	c.ConfigSections = &ConfigSectionsService{c: c}
	c.Identity = &IdentityService{c: c}
	c.Terminals = &TerminalsService{c: c}
	c.Contents = &ContentsService{c: c}
	return c, nil
}

// parseBaseURL accepts an absolute http(s) URL with an optional path
// prefix, and returns it with the path ending in "/".
func parseBaseURL(raw string) (*url.URL, error) {
	invalid := func(problem string, cause error) error {
		return &ValidationError{Field: "BaseURL", Value: redactUserinfo(raw), Problem: problem, Err: cause}
	}
	const want = `an absolute http or https URL such as "http://127.0.0.1:8888/"`
	if raw == "" {
		return nil, invalid("empty; want "+want, nil)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its message quotes the URL: no password in it
			err = &url.Error{Op: ue.Op, URL: redactUserinfo(raw), Err: ue.Err}
		}
		if !strings.Contains(raw, "://") {
			return nil, invalid(fmt.Sprintf("not %s; add the scheme: %q", want, "http://"+raw), err)
		}
		return nil, invalid("not "+want, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Opaque != "" || u.Scheme != "" && !strings.Contains(raw, "://") {
			// "localhost:8888" parses as scheme "localhost".
			return nil, invalid(fmt.Sprintf("no scheme; want %s: %q", want, "http://"+raw), nil)
		}
		return nil, invalid(fmt.Sprintf("scheme %q; want http or https", u.Scheme), nil)
	case u.Host == "":
		return nil, invalid("no host; want "+want, nil)
	case u.User != nil:
		return nil, invalid("must not carry credentials; use Config.Token", nil)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, invalid("must not have a query or fragment", nil)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// redactUserinfo hides a password in a URL given as a Config value, so an
// error can quote what was given, even when the URL does not parse.
func redactUserinfo(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	colon := strings.Index(rest[:max(at, 0)], ":")
	if at < 0 || colon < 0 {
		return raw
	}
	return raw[:i+3] + rest[:colon+1] + "xxxxx" + rest[at:]
}

// BaseURL returns the server's base URL, always ending in "/".
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("nbserv.Client{BaseURL: %q}", c.baseURL)
}

// GoString is String, so that %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// CloseIdleConnections closes the client's idle keep-alive connections,
// for a program or test that is done with the server.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// baseHeader is the header every request starts from: the SDK's Accept
// and User-Agent, then Config.Header, then the token.
func baseHeader(cfg Config) http.Header {
	h := http.Header{
		"Accept":     {"application/json"},
		"User-Agent": {strings.TrimSpace(cfg.UserAgent + " go-nbserv/" + Version)},
	}
	for k, v := range cfg.Header {
		h[http.CanonicalHeaderKey(k)] = slices.Clone(v)
	}
	if cfg.Token != "" {
		h.Set("Authorization", "token "+string(cfg.Token))
	}
	return h
}
