package transport

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"time"
)

// The retry policy, in one place; go-retryablehttp applies it (engine.go).
//
// An attempt is retried when its failure may be temporary: a connection
// error (but not a TLS or certificate error, which repeats identically),
// or a 429, 502, 503 or 504 answer. Every other status, 501 and plain 500
// included, is final: Jupyter's 500s are bugs that a retry reproduces.
//
// Whether the server may have carried the request out decides what may
// be repeated. It provably did not when the connection was never made or
// the request never written, or when it answered 429 or 503 (it refused
// the work). It may have after a 502 or 504 (a gateway's answer: the
// server behind it may have acted) and after any failure once the request
// was written (the answer was lost). GET, HEAD and DELETE are repeated
// either way; POST, PATCH and PUT only when the server provably did not
// act, unless the call is marked idempotent. The service methods handle
// what follows a lost answer (Sessions.Create looks for the session it
// asked for; Delete's 404 after such an attempt is success: Deleted;
// Upload asks for the file's size: Unsettled).

// classify reports whether an attempt may be retried and whether the
// server may have acted on it.
func classify(a answer) (retry, acted bool) {
	if a.err != nil {
		if errors.Is(a.err, ErrResponseTooLarge) {
			return false, true
		}
		return !permanent(a.err), a.sent
	}
	switch a.resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return true, false
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		return true, true
	}
	return false, true
}

// permanent reports a transport error that a retry would meet again.
func permanent(err error) bool {
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		recordEr tls.RecordHeaderError
	)
	return errors.As(err, &certErr) || errors.As(err, &unknown) || errors.As(err, &hostErr) ||
		errors.As(err, &invalid) || errors.As(err, &recordEr)
}

// sendTrace records how far an attempt got, from httptrace's hooks.
type sendTrace struct {
	gotConn, wroteHeaders bool
}

// maybeSent reports whether a failed attempt may have reached the server:
// not when dialling failed, nor when a connection was had but nothing was
// written on it. A transport that reports no trace (a caller's custom
// RoundTripper) is taken to have sent, the safe assumption.
func (t sendTrace) maybeSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect") {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return false
	}
	return !(t.gotConn && !t.wroteHeaders)
}

// RetryWait is how long to wait before retry number attempt+1, and
// whether to retry at all: a Retry-After longer than RetryWaitMax, or any
// wait that would pass the call's deadline (zero: none), ends the retries
// so the caller gets the server's answer at once.
func (c *Client) RetryWait(attempt int, resp *http.Response, deadline time.Time) (time.Duration, bool) {
	var d time.Duration
	if ra, ok := retryAfterOf(resp); ok {
		if ra > c.settings.waitMax {
			return 0, false
		}
		d = ra
	} else {
		d = backoff(c.settings.waitMin, c.settings.waitMax, attempt)
	}
	if !deadline.IsZero() && time.Until(deadline) < d {
		return 0, false
	}
	return d, true
}

// retryAfterOf parses resp's Retry-After, if it has one.
func retryAfterOf(resp *http.Response) (time.Duration, bool) {
	if resp == nil {
		return 0, false
	}
	return retryAfter(resp.Header.Get("Retry-After"), time.Now())
}

// backoff is a jittered exponential wait: a random duration in [d/2, d]
// where d = min·2^attempt, capped at max. The jitter keeps many clients
// from retrying in lockstep.
func backoff(minWait, maxWait time.Duration, attempt int) time.Duration {
	d := minWait
	for range attempt {
		if d > maxWait/2 { // doubling again would pass max (or overflow)
			d = maxWait
			break
		}
		d *= 2
	}
	d = min(d, maxWait)
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses a Retry-After value: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(min(s, 1<<32)) * time.Second, true // no overflow
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// Deleted turns the 404 of a DELETE into success when an earlier attempt
// of the same call may have done the deleting: one the server may have
// carried out, its answer lost. Only a JSON 404 counts: an HTML 404 means
// "no such route", which no earlier attempt explains. After attempts the
// server refused (a 503, then a 404) the 404 stands.
func Deleted(r *Response, err error) error {
	if errors.Is(err, ErrNotFound) && r != nil && r.earlierActed && IsJSON(r.Body) {
		return nil
	}
	return err
}

// Unsettled reports whether a failed call ended with no answer saying
// what the server did with it: its final attempt provably was not carried
// out (a connection never made, a 429 or 503; with no retries left), or
// may have been with its answer lost (ErrOutcomeUnknown). A call the server
// answered (a 4xx, a 500) is settled, as is one never sent.
func Unsettled(r *Response) bool {
	return r.Attempts > 0 && (!r.acted || r.unknown)
}

// Refused reports whether a failed call was refused (its final answer a
// 4xx, given before the server acts) with no earlier attempt that may
// have been carried out: such a call changed nothing. An idempotent
// write whose first attempt reached the server behind a 502 or a lost
// answer, and whose retry was refused, may have changed what it writes.
func Refused(r *Response) bool {
	return r != nil && r.Attempts > 0 && r.StatusCode/100 == 4 && !r.earlierActed
}

// Temporary reports whether a call failed in a way another attempt may
// get past (a connection error, a 429, 502, 503 or 504: what the retry
// policy retries), for a caller that repeats a Call with Once itself.
func Temporary(r *Response, err error) bool {
	return err != nil && r != nil && r.temporary
}

// IsJSON reports whether an error body is one of Jupyter's JSON answers,
// rather than the HTML page it serves for a URL no route matches.
func IsJSON(body []byte) bool { return json.Valid(body) }
