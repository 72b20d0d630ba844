package nbserv

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// checkRetry is the retry policy: connection errors (but not TLS, scheme
// or redirect errors, which repeat identically) and the statuses that mean
// "try again later" — 429, 502, 503, 504. Every other status, 501 and
// plain 500 included, is final: Jupyter's 500s are bugs that a retry
// reproduces. A Retry-After longer than RetryWaitMax ends the retries so
// the caller sees the answer at once instead of a doomed wait.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok && d > c.waitMax {
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// backoff waits as long as Retry-After asks, when the answer has one
// (checkRetry has already refused waits past max); otherwise a jittered
// exponential wait: a random duration in [d/2, d] where d = min·2^attempt,
// capped at max. The jitter keeps many clients from retrying in lockstep.
func backoff(minWait, maxWait time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, maxWait)
		}
	}
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
