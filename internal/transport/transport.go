package transport

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Call is one API request: what the service methods hand to Do.
type Call struct {
	Method string
	// Path is below the base URL, already escaped, with no leading slash.
	Path string
	// Query is added to the URL when non-empty.
	Query url.Values
	// Body is marshalled as the JSON request body when non-nil.
	Body any
	// Decode, when non-nil, decodes a 2xx body.
	Decode func([]byte) error
	// Idempotent marks a call whose repetition is harmless even after the
	// server acted on it (a PUT of a whole file). GET, HEAD and DELETE are
	// always treated as idempotent; POST, PATCH and PUT without this are
	// retried only when the server provably did not act (see retry.go).
	Idempotent bool
	// Once sends a single attempt whatever its failure, for a caller whose
	// own loop repeats the call (a poll): retrying inside each poll would
	// stretch it by the retry waits, and a readiness the loop is waiting
	// for would be noticed that much later. Temporary says whether the
	// failure was one a retry might have got past.
	Once bool
}

// repeatable reports whether cl may be sent again after an attempt the
// server may have carried out.
func (cl Call) repeatable() bool {
	switch cl.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	}
	return cl.Idempotent
}

// Do sends one API call and decodes a 2xx body with cl.Decode. Every
// non-2xx answer becomes an *Error, wrapped in a *NotSupportedError when
// it says the server has no such route (notServed). The Response is never
// nil.
func (c *Client) Do(ctx context.Context, cl Call, opts []CallOption) (_ *Response, err error) {
	o := c.callOptions(opts)
	r := o.response
	if o.timeout != NoTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	if c.logger != nil {
		start := time.Now()
		defer func() { c.logCall(ctx, cl, r, start, err) }()
	}
	deadline, _ := ctx.Deadline()
	resp, err := c.exchange(ctx, deadline, cl, o.header, r, false)
	if err != nil {
		return r, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, notServed(cl.Method, c.basePath+cl.Path, c.NewError(cl.Method, c.basePath+cl.Path, resp.StatusCode, resp.Header, r.Body))
	}
	if cl.Decode != nil {
		if err := c.checkDecodeCost(r.Body); err != nil {
			return r, c.fail(cl, fmt.Errorf("decoding %d response: %w", resp.StatusCode, err))
		}
		if err := cl.Decode(r.Body); err != nil {
			return r, c.fail(cl, fmt.Errorf("decoding %d response: %w", resp.StatusCode, malformed(err)))
		}
	}
	return r, nil
}

// malformed marks a decoding failure as ErrMalformedResponse, unless it
// is a bound (ErrResponseTooLarge), which says more.
func malformed(err error) error {
	if errors.Is(err, ErrResponseTooLarge) || errors.Is(err, ErrMalformedResponse) {
		return err
	}
	return &malformedError{err}
}

// malformedError is a decoding failure that matches ErrMalformedResponse
// and reads as the decoder's own message.
type malformedError struct{ err error }

func (e *malformedError) Error() string { return e.err.Error() }
func (e *malformedError) Unwrap() []error {
	return []error{ErrMalformedResponse, e.err}
}

// DoDecode is Do for a call whose 2xx body is one value: it returns what
// decode makes of the body (the zero T on any error).
func DoDecode[T any](ctx context.Context, c *Client, cl Call, decode func([]byte) (T, error), opts []CallOption) (T, error) {
	var v T
	cl.Decode = func(b []byte) (err error) {
		v, err = decode(b)
		return err
	}
	if _, err := c.Do(ctx, cl, opts); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// Stream sends a GET (cl.Body and cl.Decode must be nil) and, on a 2xx,
// returns the response body unread for the caller to stream and close,
// with no limit on its size; every other answer becomes an *Error as in
// Do. The call's timeout bounds the wait for the answer's headers; reading
// the body is bounded by ctx and by Config.StreamIdleTimeout (by default
// the call's timeout), the longest a read may wait for data (a
// *StalledError). A body shorter than its Content-Length fails its last
// read with a *LengthError; a longer one is cut at that length by
// net/http.
func (c *Client) Stream(ctx context.Context, cl Call, opts []CallOption) (_ io.ReadCloser, _ *Response, err error) {
	o := c.callOptions(opts)
	r := o.response
	if c.logger != nil {
		start := time.Now()
		defer func() { c.logCall(ctx, cl, r, start, err) }()
	}
	sctx, cancel := context.WithCancel(ctx)
	var deadline time.Time
	var timer *time.Timer
	if o.timeout != NoTimeout {
		deadline = time.Now().Add(o.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		timer = time.AfterFunc(o.timeout, cancel)
	}
	resp, err := c.exchange(sctx, deadline, cl, o.header, r, true)
	if timer != nil && !timer.Stop() { // the headers came too late
		if err == nil {
			Drain(resp.Body)
		}
		cancel()
		return nil, r, c.fail(cl, context.DeadlineExceeded)
	}
	if err != nil {
		cancel()
		return nil, r, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		cancel()
		return nil, r, notServed(cl.Method, c.basePath+cl.Path, c.NewError(cl.Method, c.basePath+cl.Path, resp.StatusCode, resp.Header, r.Body))
	}
	length := resp.ContentLength
	if resp.Uncompressed { // net/http unzipped it: the length was the zip's
		length = -1
	}
	return &streamBody{body: resp.Body, cancel: cancel, method: cl.Method, path: c.basePath + cl.Path,
		length: length, idle: cmp.Or(c.settings.streamIdle, o.timeout)}, r, nil
}

// answer is what one attempt got.
type answer struct {
	resp  *http.Response // nil when err is a transport failure
	body  []byte         // the body read, unless the caller keeps it open
	err   error          // no complete answer: transport failure, or the body cut off
	sent  bool           // the request may have reached the server
	acted bool           // the server may have carried it out (see classify)
}

// exchange sends cl through the retry engine (engine.go), which retries as
// retry.go allows, and returns the final answer with its body in r.Body,
// or, for a 2xx when keepOpen, with resp.Body unread. deadline (zero:
// none) is when the call must end.
func (c *Client) exchange(ctx context.Context, deadline time.Time, cl Call, extra http.Header, r *Response, keepOpen bool) (*http.Response, error) {
	var payload []byte
	if cl.Body != nil {
		var err error
		if payload, err = json.Marshal(cl.Body); err != nil {
			return nil, c.fail(cl, fmt.Errorf("encoding request: %w", err))
		}
	}
	target := c.baseURL + cl.Path
	if len(cl.Query) > 0 {
		target += "?" + cl.Query.Encode()
	}
	var body io.Reader // none at all without a payload: an empty one makes net/http probe it
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	x := c.startCall(ctx, deadline, cl, r, keepOpen)
	defer x.release()
	req, err := http.NewRequestWithContext(x.traced(), cl.Method, target, body)
	if err != nil {
		return nil, c.fail(cl, err)
	}
	c.setHeaders(req, extra, payload != nil)
	a, done, err := x.run(req)
	if !done {
		// The engine ended the call itself: the context ended during a
		// wait. (It stops at RetryMax too, which checkRetry never passes.)
		return nil, c.fail(cl, err)
	}
	// Unknown: it may have acted and no answer says how. A body too large
	// to read still came with its status.
	r.acted = a.acted
	r.unknown = a.acted && (a.err != nil && !errors.Is(a.err, ErrResponseTooLarge) ||
		a.resp != nil && (a.resp.StatusCode == http.StatusBadGateway || a.resp.StatusCode == http.StatusGatewayTimeout))
	if a.resp != nil {
		r.StatusCode, r.Header, r.Body = a.resp.StatusCode, a.resp.Header, a.body
	}
	if a.err != nil {
		return nil, c.fail(cl, c.outcome(cl, r, a.err))
	}
	if !cl.repeatable() && r.unknown {
		// A 502/504 to a POST: the server behind the gateway may have
		// acted.
		return nil, &outcomeUnknown{c.NewError(cl.Method, c.basePath+cl.Path, a.resp.StatusCode, a.resp.Header, a.body)}
	}
	return a.resp, nil
}

// fail wraps an error of cl with the call's method and path.
func (c *Client) fail(cl Call, err error) error {
	return fmt.Errorf("%s: %s %s: %w", c.name, cl.Method, c.basePath+cl.Path, err)
}

// outcome marks a failure after which the server may have carried out a
// call that must not be repeated: the caller cannot know whether it did.
func (c *Client) outcome(cl Call, r *Response, err error) error {
	if r.unknown && !cl.repeatable() {
		return &outcomeUnknown{err}
	}
	return err
}

// callOptions applies opts over the client's defaults. Every call gets a
// Response to fill, the caller's or a throwaway one.
func (c *Client) callOptions(opts []CallOption) callOptions {
	if len(opts) == 0 { // o below escapes to the options; this one does not
		return callOptions{timeout: c.settings.timeout, response: new(Response)}
	}
	o := callOptions{timeout: c.settings.timeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.response == nil {
		o.response = new(Response)
	}
	*o.response = Response{}
	return o
}

// setHeaders gives req its headers: the client's, the call's (which, like
// Config.Header, cannot replace the token), and Content-Type with a body.
// Without the call's, req shares the client's header when nothing below
// can write to it (c.shareHeader), saving a copy per call.
func (c *Client) setHeaders(req *http.Request, extra http.Header, hasBody bool) {
	h := c.header.held()
	if hasBody {
		h = c.jsonHeader.held()
	}
	if len(extra) == 0 && c.shareHeader {
		req.Header = h
		return
	}
	req.Header = h.Clone()
	for k, v := range extra {
		if k == "Authorization" && !c.token.IsZero() {
			continue
		}
		req.Header[k] = v
	}
}

// readBounded reads all of r, failing with ErrResponseTooLarge past limit
// bytes rather than holding an unbounded body in memory. The buffer grows
// with the bytes actually received, doubling from 64 KiB: a Content-Length
// only caps the growth (an honest one gets a buffer of its size, never
// more) and refuses a body announced too large, never allocates ahead. So
// reading allocates at most twice the body.
func readBounded(r io.Reader, length, limit int64) ([]byte, error) {
	if length > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrResponseTooLarge, length, limit)
	}
	ceiling := limit + 1 // one byte past the limit tells a body too large
	if length >= 0 {
		ceiling = length + 1 // one byte past the length finds the end
	}
	buf := make([]byte, 0, min(ceiling, 64<<10))
	for {
		if len(buf) == cap(buf) {
			next := make([]byte, len(buf), min(2*int64(cap(buf)), max(ceiling, int64(len(buf))+512)))
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, limit)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Drain reads a little of what is left of a body, so the connection can be
// reused, then closes it.
func Drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// logCall records one finished call: the method, the path, the status,
// the attempts, the duration and the error's message, none of which ever
// holds the token.
func (c *Client) logCall(ctx context.Context, cl Call, r *Response, start time.Time, err error) {
	attrs := []slog.Attr{
		slog.String("method", cl.Method), slog.String("path", c.basePath+cl.Path), slog.Int("status", r.StatusCode),
		slog.Int("attempts", r.Attempts), slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, c.name+" call", attrs...)
}

// Sleep waits d or until ctx is done, returning ctx's error then: the one
// wait of the SDK, between attempts, polls and reconnections.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Bound gives a call that makes follow-up calls (a search after a lost
// answer) one budget: ctx bounded by the call's timeout, and opts for the
// follow-ups with no timeout of their own. The caller must call cancel.
func (c *Client) Bound(ctx context.Context, opts []CallOption) (_ context.Context, _ []CallOption, cancel context.CancelFunc) {
	o := c.callOptions(opts)
	if o.timeout == NoTimeout {
		return ctx, opts, func() {}
	}
	ctx, cancel = context.WithTimeout(ctx, o.timeout)
	return ctx, append(slices.Clip(opts), WithTimeout(NoTimeout)), cancel // never into the caller's array
}
