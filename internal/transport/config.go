package transport

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied when the matching Config field is zero.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultRetryMax         = 2
	DefaultRetryWaitMin     = 100 * time.Millisecond
	DefaultRetryWaitMax     = 2 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// Values that switch a feature off, for the Config fields (and WithTimeout)
// where zero means "the default".
const (
	// NoTimeout, as Config.Timeout or WithTimeout, leaves a call bounded by
	// its context alone.
	NoTimeout time.Duration = math.MaxInt64
	// NoRetries, as Config.RetryMax, sends every call once.
	NoRetries = -1
)

// Config is what a caller configures of a transport. Its fields are
// nbserv.Config's, in the same order and of the same types, so that an
// nbserv.Config converts to it (transport.Config(cfg)) and the public
// type keeps its documentation where users read it: nbserv.Config
// documents each field.
type Config struct {
	BaseURL                    string
	Token                      Secret
	Header                     SecretHeader
	UserAgent                  string
	HTTPClient                 *http.Client
	Timeout                    time.Duration
	RetryMax                   int
	RetryWaitMin, RetryWaitMax time.Duration
	MaxResponseBytes           int64
	StreamIdleTimeout          time.Duration
	Logger                     *slog.Logger
}

// Settings is what New needs: the caller's Config and what the package
// built on the transport adds.
type Settings struct {
	Config
	// Name starts the transport's errors ("<Name>: GET path: ...") and
	// log records ("<Name> call"): "nbserv", "hub".
	Name string
	// Product is the SDK's product token in User-Agent, after
	// Config.UserAgent: "go-nbserv/0.3.0".
	Product string
	// NoRedirects follows no redirect at all, instead of the same-origin
	// policy (see checkRedirect): for an API whose redirects only lead to
	// HTML pages.
	NoRedirects bool
	// Costs prices decoded values for the decoding bound; the zero value
	// takes nbserv's prices.
	Costs Costs
}

// settings are a Config's numbers with the defaults applied and checked.
type settings struct {
	timeout          time.Duration // NoTimeout for none
	retryMax         int
	waitMin, waitMax time.Duration
	maxBody          int64
	streamIdle       time.Duration // 0: the call's timeout; NoTimeout for none
}

// settings applies the defaults and refuses negative values that are not
// the named "off" constants.
func (c Config) settings() (settings, error) {
	negative := func(field string) error {
		return &ValidationError{Field: field, Problem: "negative (zero takes the default)"}
	}
	s := settings{
		timeout:    orDefault(c.Timeout, DefaultTimeout),
		retryMax:   orDefault(c.RetryMax, DefaultRetryMax),
		waitMin:    orDefault(c.RetryWaitMin, DefaultRetryWaitMin),
		waitMax:    orDefault(c.RetryWaitMax, DefaultRetryWaitMax),
		maxBody:    orDefault(c.MaxResponseBytes, DefaultMaxResponseBytes),
		streamIdle: c.StreamIdleTimeout,
	}
	switch {
	case s.timeout < 0:
		return s, negative("Timeout")
	case s.retryMax < 0 && s.retryMax != NoRetries:
		return s, negative("RetryMax")
	case s.waitMin < 0:
		return s, negative("RetryWaitMin")
	case s.waitMax < 0:
		return s, negative("RetryWaitMax")
	case s.maxBody < 0:
		return s, negative("MaxResponseBytes")
	case s.streamIdle < 0:
		return s, negative("StreamIdleTimeout")
	case c.RetryWaitMin > 0 && c.RetryWaitMax > 0 && s.waitMin > s.waitMax:
		return s, &ValidationError{Field: "RetryWaitMin", Problem: "greater than RetryWaitMax"}
	}
	// One bound set explicitly and the other defaulted: keep them ordered.
	if s.waitMin > s.waitMax {
		if c.RetryWaitMax > 0 {
			s.waitMin = s.waitMax
		} else {
			s.waitMax = s.waitMin
		}
	}
	s.retryMax = max(s.retryMax, 0)
	return s, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// tokenAdvice says where a token pasted into a URL belongs.
const tokenAdvice = "give the URL without userinfo, query or fragment, and a token in Token (JUPYTER_TOKEN for ConfigFromEnv), never in the URL"

// ParseBaseURL accepts an absolute http(s) URL with an optional path
// prefix, and returns it with the path ending in "/".
func ParseBaseURL(raw string) (*url.URL, error) {
	invalid := func(problem string, cause error) error {
		shown := RedactURL(raw)
		if shown != raw { // whatever else is wrong, say where a token goes
			problem += "; " + tokenAdvice
		}
		return &ValidationError{Field: "BaseURL", Value: shown, Problem: problem, Err: cause}
	}
	const want = `an absolute http or https URL such as "http://127.0.0.1:8888/"`
	if raw == "" {
		return nil, invalid("empty; want "+want, nil)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) { // its message quotes the URL: no secret in it
			err = &url.Error{Op: ue.Op, URL: RedactURL(raw), Err: ue.Err}
			if shown := RedactURL(raw); shown != raw {
				// The cause may quote a piece of the secret (an invalid
				// escape in the query): report what is wrong with the
				// rest, or only where the fault is.
				if _, again := url.Parse(shown); again != nil && errors.As(again, &ue) {
					err = ue
				} else {
					err = &url.Error{Op: ue.Op, URL: shown, Err: errors.New("malformed userinfo, query or fragment")}
				}
			}
		}
		if !strings.Contains(raw, "://") {
			return nil, invalid(fmt.Sprintf("not %s; add the scheme: %q", want, "http://"+RedactURL(raw)), err)
		}
		return nil, invalid("not "+want, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		if u.Opaque != "" || u.Scheme != "" && !strings.Contains(raw, "://") {
			// "localhost:8888" parses as scheme "localhost".
			return nil, invalid(fmt.Sprintf("no scheme; want %s: %q", want, "http://"+RedactURL(raw)), nil)
		}
		return nil, invalid(fmt.Sprintf("scheme %q; want http or https", u.Scheme), nil)
	case u.Host == "":
		return nil, invalid("no host; want "+want, nil)
	case u.User != nil:
		return nil, invalid("must not carry credentials", nil)
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

// RedactURL returns raw, a URL as a caller gave it (perhaps malformed,
// perhaps without a scheme), fit to quote in an error or a log: its
// userinfo, query and fragment each replaced by [REDACTED]. Jupyter prints
// its URL with the token in the query ("/lab?token=..."), and users paste
// it whole; a username alone may be a token too ("https://TOKEN@host/").
// The userinfo is found first, so that a '?' or '#' inside a password
// does not leave part of it behind. In a URL that does not parse, or has
// no scheme, everything up to the last '@' counts as userinfo: a '/'
// inside a password (base64 has them) ends the host for the parser, not
// for the user who typed it. A URL that parses keeps an '@' of its path
// ("/user/a@b/", as JupyterHub spells such users' URLs).
func RedactURL(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 && !strings.ContainsAny(raw[:i], "/?#@") { // not one in the query
		start = i + 3
	}
	end := strings.IndexByte(raw[start:], '/')
	if _, err := url.Parse(raw); end < 0 || err != nil || start == 0 {
		end = len(raw) - start
	}
	if at := strings.LastIndexByte(raw[start:start+end], '@'); at >= 0 {
		raw = raw[:start] + redacted + raw[start+at:]
	}
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i+1] + redacted
	}
	return raw
}

// checkCredentials refuses a Token or Header that net/http would refuse
// at every call: a value holding a control character but a tab (a line
// break read with a token from a file, most often), or a name that is
// not an HTTP token. The values are never quoted; a name is not secret.
func (c Config) checkCredentials() error {
	const problem = "holds a control character (such as a line break read with it from a file), which no HTTP header can carry"
	if !validHeaderValue(c.Token.Reveal()) {
		return &ValidationError{Field: "Token", Problem: problem}
	}
	for _, k := range c.Header.Names() {
		if !validHeaderName(k) {
			return &ValidationError{Field: "Header", Value: k, Problem: "not a valid header name"}
		}
		for _, v := range c.Header.held()[k] {
			if !validHeaderValue(v) {
				return &ValidationError{Field: "Header", Value: k, Problem: "its value " + problem}
			}
		}
	}
	return nil
}

// validHeaderValue is net/http's rule for a field value (RFC 9110's
// field-value with obs-text): no control character but a tab.
func validHeaderValue(v string) bool {
	for i := range len(v) {
		if b := v[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// validHeaderName is net/http's rule for a field name: a non-empty RFC
// 9110 token.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := range len(k) {
		b := k[i]
		if !('a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0) {
			return false
		}
	}
	return true
}

// baseHeader is the header every request starts from: Accept and
// User-Agent (the caller's part, then the SDK's product), then
// Config.Header, then the token.
func baseHeader(cfg Config, product string) http.Header {
	h := http.Header{
		"Accept":     {"application/json"},
		"User-Agent": {strings.TrimSpace(cfg.UserAgent + " " + product)},
	}
	for k, v := range cfg.Header.Clone() {
		h[k] = v // canonical: NewSecretHeader made them so
	}
	if !cfg.Token.IsZero() {
		h.Set("Authorization", "token "+cfg.Token.Reveal())
	}
	return h
}
