package nbserv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// Defaults applied when the matching Config field is zero.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultRetryMax         = 2
	DefaultRetryWaitMin     = 100 * time.Millisecond
	DefaultRetryWaitMax     = 2 * time.Second
	DefaultMaxResponseBytes = 64 << 20
)

// NoRetries, as Config.RetryMax, disables retries.
const NoRetries = -1

// Config configures a Client. Only BaseURL is required.
type Config struct {
	// BaseURL is the server's base URL, including any prefix, such as
	// "http://127.0.0.1:8888" or "https://hub.example.org/user/alice/".
	// The trailing slash is optional.
	BaseURL string
	// Token is sent as "Authorization: token <Token>". Empty sends none.
	Token Secret
	// Header is added to every request. It can override the SDK's Accept
	// and User-Agent, and carries another Authorization scheme when Token is
	// empty; when Token is set, Token's Authorization wins.
	Header http.Header
	// UserAgent is prepended to the SDK's own "go-nbserv/<Version>".
	UserAgent string
	// HTTPClient carries the requests; set it for TLS settings, proxies
	// or a custom transport. Its Timeout, if any, applies per attempt.
	// Nil uses a pooled client with keep-alive.
	HTTPClient *http.Client
	// Timeout bounds each call as a whole: every attempt, every wait
	// between attempts and reading the body. Zero means DefaultTimeout;
	// negative means no timeout beyond the context's.
	Timeout time.Duration
	// RetryMax is how many times a failed attempt is retried (see the
	// README's Reliability section). Zero means DefaultRetryMax;
	// NoRetries disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential wait
	// between attempts. A Retry-After longer than RetryWaitMax stops the
	// retries. Zero means the defaults.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxResponseBytes caps the size of a response body; a larger one
	// fails with ErrResponseTooLarge. Zero means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Logger, when set, gets one Debug record per call (method, path,
	// status, attempts, duration, error) and one per retry. Records never
	// hold headers, bodies or the token. Nil logs nothing.
	Logger *slog.Logger
}

// String describes the configuration with the token redacted.
func (c Config) String() string {
	tok := ""
	if c.Token != "" {
		tok = "[REDACTED]"
	}
	return fmt.Sprintf("nbserv.Config{BaseURL: %q, Token: %q, Timeout: %v, RetryMax: %d}",
		c.BaseURL, tok, c.Timeout, c.RetryMax)
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// Client talks to one Jupyter Server. It is safe for concurrent use; create
// one per server and reuse it, so that connections are reused.
type Client struct {
	// Sessions manages sessions: /api/sessions.
	Sessions *SessionsService
	// Kernels reads and stops kernels: /api/kernels.
	Kernels *KernelsService
	// Contents reads and writes files, notebooks and directories:
	// /api/contents, and /files for large downloads.
	Contents *ContentsService

	baseURL  string // always ends with "/"
	basePath string // its escaped path, for error messages
	token    string
	header   http.Header // every request's headers, built once; cloned per call
	timeout  time.Duration
	maxBody  int64
	waitMax  time.Duration
	logger   *slog.Logger
	http     *retryablehttp.Client
}

// NewClient validates cfg and returns a Client. A malformed BaseURL is an
// error here, not at the first call.
func NewClient(cfg Config) (*Client, error) {
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		baseURL:  base.String(),
		basePath: base.EscapedPath(),
		token:    string(cfg.Token),
		header:   baseHeader(cfg),
		timeout:  orDefault(cfg.Timeout, DefaultTimeout),
		maxBody:  orDefault(cfg.MaxResponseBytes, DefaultMaxResponseBytes),
		logger:   cfg.Logger,
	}
	rc := &retryablehttp.Client{
		HTTPClient:     cfg.HTTPClient,
		RetryWaitMin:   orDefault(cfg.RetryWaitMin, DefaultRetryWaitMin),
		RetryWaitMax:   orDefault(cfg.RetryWaitMax, DefaultRetryWaitMax),
		RetryMax:       max(orDefault(cfg.RetryMax, DefaultRetryMax), 0),
		CheckRetry:     c.checkRetry,
		Backoff:        backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: c.beforeAttempt,
	}
	if rc.HTTPClient == nil {
		rc.HTTPClient = cleanhttp.DefaultPooledClient()
	}
	switch {
	case rc.RetryWaitMin < 0 || rc.RetryWaitMax < 0:
		return nil, &ValidationError{Field: "RetryWaitMin", Problem: "negative wait"}
	case rc.RetryWaitMin > rc.RetryWaitMax:
		return nil, &ValidationError{Field: "RetryWaitMin", Problem: "greater than RetryWaitMax"}
	case c.maxBody < 0:
		return nil, &ValidationError{Field: "MaxResponseBytes", Problem: "negative"}
	}
	c.waitMax = rc.RetryWaitMax
	c.http = rc
	c.Sessions = &SessionsService{c: c}
	c.Kernels = &KernelsService{c: c}
	c.Contents = &ContentsService{c: c}
	return c, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// parseBaseURL accepts an absolute http(s) URL with an optional path
// prefix, and returns it with the path ending in "/".
func parseBaseURL(raw string) (*url.URL, error) {
	invalid := func(problem string) error {
		return &ValidationError{Field: "BaseURL", Problem: problem}
	}
	if raw == "" {
		return nil, invalid("empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, invalid("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, invalid("scheme must be http or https")
	case u.Host == "":
		return nil, invalid("no host")
	case u.User != nil:
		return nil, invalid("must not carry credentials; use Config.Token")
	case u.RawQuery != "" || u.Fragment != "":
		return nil, invalid("must not have a query or fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
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
func (c *Client) CloseIdleConnections() { c.http.HTTPClient.CloseIdleConnections() }

// Response is the HTTP metadata of a call, for the few callers who need
// it: pass WithResponse(&r) to any method, one Response per call. It is
// filled whenever the server answered, on errors too.
type Response struct {
	// StatusCode is the final answer's HTTP status.
	StatusCode int
	// Header is the final answer's header (Location after Create).
	Header http.Header
	// Body is the body of the final answer exactly as received (Jupyter's
	// HTML 404 page embeds the token; Error.Body has it redacted).
	Body []byte
	// Attempts is how many requests the call sent, retries included.
	Attempts int
}

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	timeout  time.Duration
	header   http.Header
	response *Response
}

// WithTimeout overrides Config.Timeout for one call; negative means none.
func WithTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = d }
}

// WithHeader adds a header to one call's request.
func WithHeader(key, value string) CallOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(key, value)
	}
}

// WithResponse makes the call fill r with its HTTP metadata: the
// equivalent of the Python client's *_with_http_info methods.
func WithResponse(r *Response) CallOption {
	return func(o *callOptions) { o.response = r }
}

// attemptsKey carries a call's attempt counter through the request
// context to beforeAttempt, which go-retryablehttp calls before each try.
type attemptsKey struct{}

func (c *Client) beforeAttempt(_ retryablehttp.Logger, req *http.Request, n int) {
	if p, ok := req.Context().Value(attemptsKey{}).(*int); ok {
		*p = n + 1
	}
	if n > 0 && c.logger != nil {
		c.logger.LogAttrs(req.Context(), slog.LevelDebug, "nbserv retry",
			slog.String("method", req.Method), slog.String("path", req.URL.EscapedPath()), slog.Int("attempt", n+1))
	}
}

// call is one API request: what the service methods hand to do.
type call struct {
	method string
	// path is below the base URL, already escaped, with no leading slash
	// (see idPath and escapePath).
	path string
	// query is added to the URL when non-empty.
	query url.Values
	// body is marshalled as the JSON request body when non-nil.
	body any
	// decode, when non-nil, decodes a 2xx body.
	decode func([]byte) error
	// idempotent marks a call whose repetition is harmless even after the
	// server acted on it (a PUT of a whole file). GET, HEAD and DELETE are
	// always treated as idempotent; POST, PATCH and PUT without this are
	// retried only when the server provably did not act (see retry.go).
	idempotent bool
}

// do sends one API call and decodes a 2xx body with cl.decode. Every
// non-2xx answer becomes an *Error.
func (c *Client) do(ctx context.Context, cl call, opts []CallOption) (_ *Response, err error) {
	method, path := cl.method, cl.path
	o := callOptions{timeout: c.timeout}
	for _, opt := range opts {
		opt(&o)
	}
	r := o.response
	if r == nil {
		r = new(Response)
	}
	*r = Response{}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	ctx = context.WithValue(ctx, attemptsKey{}, &r.Attempts)

	fullPath := c.basePath + path
	target := c.baseURL + path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}

	// rawBody stays an untyped nil without a body: a nil []byte would give
	// the request an empty Body, which net/http then probes on every call.
	var rawBody any
	if cl.body != nil {
		body, err := json.Marshal(cl.body)
		if err != nil {
			return r, fmt.Errorf("nbserv: %s %s: encoding request: %w", method, fullPath, err)
		}
		rawBody = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, target, rawBody)
	if err != nil {
		return r, fmt.Errorf("nbserv: %s %s: %w", method, fullPath, err)
	}
	c.setHeaders(req, o.header, rawBody != nil)

	start := time.Now()
	if c.logger != nil {
		defer func() { c.logCall(ctx, method, fullPath, r, start, err) }()
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil {
			drain(resp.Body)
		}
		return r, fmt.Errorf("nbserv: %s %s: %w", method, fullPath, err)
	}
	defer drain(resp.Body)
	r.StatusCode, r.Header = resp.StatusCode, resp.Header
	if r.Body, err = readBounded(resp.Body, resp.ContentLength, c.maxBody); err != nil {
		return r, fmt.Errorf("nbserv: %s %s: reading %d response: %w", method, fullPath, resp.StatusCode, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, newError(method, fullPath, resp.StatusCode, resp.Header, r.Body, c.token)
	}
	if cl.decode != nil {
		if err := cl.decode(r.Body); err != nil {
			return r, fmt.Errorf("nbserv: %s %s: decoding %d response: %w", method, fullPath, resp.StatusCode, err)
		}
	}
	return r, nil
}

// stream sends a GET (cl.body and cl.decode must be nil) and, on a 2xx,
// returns the response body unread for the caller to stream and close,
// with no limit on its size; every other answer becomes an *Error as in
// do. The call's timeout bounds the wait for the answer's headers; reading
// the body is bounded by ctx alone.
func (c *Client) stream(ctx context.Context, cl call, opts []CallOption) (io.ReadCloser, *Response, error) {
	// TODO(lead): replaced by the rewritten transport; same contract.
	var body []byte
	cl.decode = func(b []byte) error { body = b; return nil }
	r, err := c.do(ctx, cl, opts)
	if err != nil {
		return nil, r, err
	}
	return io.NopCloser(bytes.NewReader(body)), r, nil
}

// validID reports whether id matches Jupyter's route for session and
// kernel ids, \w+-\w+-\w+-\w+-\w+ (a UUID is one). Any other id can only
// reach Jupyter's "no route" 404 page, or, with "/" or "..", another
// endpoint, so it is refused before any request. (Hand-written rather than
// a regexp: it runs on every call.)
func validID(id string) bool {
	groups, n := 1, 0 // groups seen, word characters in the current one
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c == '-':
			if n == 0 {
				return false
			}
			groups, n = groups+1, 0
		case c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			n++
		default:
			return false
		}
	}
	return groups == 5 && n > 0
}

// idPath returns prefix + the escaped id, or a *ValidationError for the
// "id" argument.
func idPath(prefix, id string) (string, error) {
	if id == "" {
		return "", &ValidationError{Field: "id", Problem: "empty"}
	}
	if !validID(id) {
		return "", &ValidationError{Field: "id", Problem: "not a Jupyter id (five groups of letters, digits or _ joined by -)"}
	}
	return prefix + url.PathEscape(id), nil
}

// logCall records one finished call: the method, the path, the status,
// the attempts, the duration and the error's message, none of which ever
// holds the token.
func (c *Client) logCall(ctx context.Context, method, path string, r *Response, start time.Time, err error) {
	attrs := []slog.Attr{
		slog.String("method", method), slog.String("path", path), slog.Int("status", r.StatusCode),
		slog.Int("attempts", r.Attempts), slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "nbserv call", attrs...)
}

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

// setHeaders gives req its headers: the client's, the call's (which, like
// Config.Header, cannot replace the token), and Content-Type with a body.
func (c *Client) setHeaders(req *retryablehttp.Request, extra http.Header, hasBody bool) {
	req.Header = c.header.Clone()
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range extra {
		if k == "Authorization" && c.token != "" {
			continue
		}
		req.Header[k] = v
	}
}

// readBounded reads all of r, failing with ErrResponseTooLarge past limit
// bytes rather than holding an unbounded body in memory. A known length
// (Jupyter always sends one; net/http enforces it) is read in one
// allocation; otherwise the body is read up to the limit.
func readBounded(r io.Reader, length, limit int64) ([]byte, error) {
	if length > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrResponseTooLarge, length, limit)
	}
	if length >= 0 {
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, err
		}
		return body, nil
	}
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// drain reads a little of what is left of a body, so the connection can be
// reused, then closes it.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
