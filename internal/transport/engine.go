package transport

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// go-retryablehttp is the retry engine: every attempt of a call, and every
// wait between attempts, runs inside its Client.Do. The rules stay ours
// (retry.go): the engine asks CheckRetry after each attempt, and
// engineCall answers with classify and RetryWait, so the engine only sends,
// waits and sends again.
//
// How the engine is bent to the rules, and why:
//   - Backoff gets no context, so the wait is decided in CheckRetry, which
//     knows the call's deadline and ends the call there when the wait would
//     pass it; Backoff returns what CheckRetry decided. That state is per
//     call, so each call has its own engine (engineCall).
//   - Each attempt gets a fresh httptrace (PrepareRetry), so a late hook
//     of an earlier attempt cannot make a later one look sent.
//   - The final answer's body is read, bounded, by the response handler;
//     a read that fails goes back to CheckRetry like any failed attempt.
//   - The engine's error handler passes the final answer through; the
//     error or success is built from what CheckRetry recorded.
//   - The engine closes its client's idle connections whenever a call
//     gives up, which would close every other call's connections too: its
//     client's transport (keepIdle) has no CloseIdleConnections, so that
//     is a no-op there, while Client.CloseIdleConnections and the
//     WebSocket dialer keep the real transport.
//   - Its logger is off: it would log URLs; our records go through slog.

// engineCall is one call's passage through the retry engine: the engine's
// callbacks are its methods, and it keeps what they learn between them.
// The Client pools them, callbacks bound, so a call costs the engine no
// allocation; nothing outlives the call in it (each attempt's trace and
// request body are the attempt's own), so a released one is safe to reuse.
type engineCall struct {
	engine retryablehttp.Client
	req    retryablehttp.Request
	c      *Client
	read   retryablehttp.ResponseHandlerFunc // readBody, bound once
	callState
}

// callState is what one call keeps in its engineCall, cleared by release.
type callState struct {
	cl       Call
	r        *Response
	ctx      context.Context // the call's, under every attempt's trace
	deadline time.Time       // when the call must end; zero: none
	keepOpen bool            // leave a 2xx body unread, for Stream
	trace    *sendTrace      // the current attempt's
	wait     time.Duration   // decided by checkRetry, returned by backoff
	final    answer          // the answer that ended the call, once done
	done     bool            // checkRetry ended the call with final
}

// newEngineCall makes an engineCall for c's pool.
func (c *Client) newEngineCall() *engineCall {
	x := &engineCall{c: c}
	e := &x.engine
	e.HTTPClient = c.engineHTTP
	e.RetryMax = c.settings.retryMax // checkRetry never asks for more
	e.RetryWaitMin, e.RetryWaitMax = c.settings.waitMin, c.settings.waitMax
	e.CheckRetry = x.checkRetry
	e.Backoff = x.backoff
	e.PrepareRetry = x.prepareRetry
	e.ErrorHandler = retryablehttp.PassthroughErrorHandler
	x.read = x.readBody
	return x
}

// startCall takes an engineCall from the pool for one call; the caller
// must release it.
func (c *Client) startCall(ctx context.Context, deadline time.Time, cl Call, r *Response, keepOpen bool) *engineCall {
	x := c.calls.Get().(*engineCall)
	x.callState = callState{cl: cl, r: r, ctx: ctx, deadline: deadline, keepOpen: keepOpen}
	return x
}

// run sends req, made with the context of traced, and its retries through
// the engine, and returns the answer that ended the call; done is false
// when the engine ended it itself (the context ended during a wait), with
// err saying why. r.Attempts counts the attempts.
func (x *engineCall) run(req *http.Request) (_ answer, done bool, err error) {
	x.req = retryablehttp.Request{Request: req}
	x.req.SetResponseHandler(x.read)
	x.r.Attempts = 1
	_, err = x.engine.Do(&x.req)
	return x.final, x.done, err
}

// release clears what the call left and returns x to the pool.
func (x *engineCall) release() {
	x.callState = callState{}
	x.req = retryablehttp.Request{}
	x.c.calls.Put(x)
}

// traced returns the call's context with a fresh trace for the next
// attempt, which becomes the current one.
func (x *engineCall) traced() context.Context {
	tr := new(sendTrace)
	x.trace = tr
	return httptrace.WithClientTrace(x.ctx, &httptrace.ClientTrace{
		GotConn:      func(httptrace.GotConnInfo) { tr.gotConn = true },
		WroteHeaders: func() { tr.wroteHeaders = true },
	})
}

// checkRetry is the engine's CheckRetry: it classifies the attempt's
// answer, and either ends the call, recording the answer, or decides the
// wait before the next attempt. The engine asks twice about an answer
// whose body the response handler read: the first verdict stands unless
// the read failed.
func (x *engineCall) checkRetry(_ context.Context, resp *http.Response, err error) (bool, error) {
	if x.done && err == nil {
		return false, nil
	}
	a := answer{resp: resp, err: err, sent: true}
	if resp == nil {
		a.sent = x.trace.maybeSent(err)
	}
	retry, acted := classify(a)
	attempt := x.r.Attempts - 1
	x.r.temporary = retry
	final := !retry || x.cl.Once || attempt >= x.c.settings.retryMax || acted && !x.cl.repeatable()
	if !final {
		var ok bool
		x.wait, ok = x.c.RetryWait(attempt, resp, x.deadline)
		final = !ok
	}
	if final {
		a.acted = acted
		x.final, x.done = a, true
		return false, nil
	}
	// A second look that retries (the body was cut off) takes back the
	// first verdict: were the wait cut short, the engine would return
	// with that answer still recorded as final, and its lost body read
	// as empty.
	x.final, x.done = answer{}, false
	x.r.earlierActed = x.r.earlierActed || acted
	if resp != nil && err == nil {
		Drain(resp.Body) // as much as the final answer's, so the connection is kept
	}
	if l := x.c.logger; l != nil {
		l.LogAttrs(x.ctx, slog.LevelDebug, x.c.name+" retry", slog.String("method", x.cl.Method),
			slog.String("path", x.c.basePath+x.cl.Path), slog.Int("attempt", attempt+2), slog.Duration("wait", x.wait))
	}
	return true, nil
}

// backoff is the engine's Backoff: the wait checkRetry decided.
func (x *engineCall) backoff(time.Duration, time.Duration, int, *http.Response) time.Duration {
	return x.wait
}

// prepareRetry is the engine's PrepareRetry, run on the copy of the
// request that the next attempt sends: it counts the attempt and gives it
// its own trace and its own reader of the body. (The engine can rewind a
// body itself, at the cost of allocations on every call; net/http's
// GetBody costs nothing until a retry.)
func (x *engineCall) prepareRetry(req *http.Request) error {
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return err
		}
		req.Body = body
	}
	x.r.Attempts++
	*req = *req.WithContext(x.traced())
	return nil
}

// readBody is the request's response handler, run on an answer checkRetry
// made final: it reads the body, bounded, and closes it, so the
// connection can serve the next call; a 2xx body is left open when
// keepOpen.
func (x *engineCall) readBody(resp *http.Response) error {
	if x.keepOpen && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	body, err := readBounded(resp.Body, resp.ContentLength, x.c.settings.maxBody)
	Drain(resp.Body)
	if err != nil {
		return fmt.Errorf("reading %d response: %w", resp.StatusCode, err)
	}
	x.final.body = body
	return nil
}

// keepIdle is the retry engine's view of the transport: every request goes
// to rt (http.DefaultTransport when nil), but it has no
// CloseIdleConnections, so the engine's closing of idle connections when a
// call gives up does not reach the pool other calls share.
type keepIdle struct{ rt http.RoundTripper }

func (k keepIdle) RoundTrip(req *http.Request) (*http.Response, error) {
	if k.rt == nil {
		return http.DefaultTransport.RoundTrip(req)
	}
	return k.rt.RoundTrip(req)
}
