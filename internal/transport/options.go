package transport

import (
	"net/http"
	"time"
)

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	timeout  time.Duration
	header   http.Header
	response *Response
}

// WithTimeout bounds one call as a whole, instead of Config.Timeout. It
// is a budget, as in context.WithTimeout: zero or negative means the
// deadline has passed and the call fails at once with
// context.DeadlineExceeded. NoTimeout leaves the call bounded by its
// context alone.
func WithTimeout(d time.Duration) CallOption {
	return func(o *callOptions) { o.timeout = d }
}

// WithHeader adds a header to one call's request. Like Config.Header, it
// is never sent to another origin, and it cannot replace the token's
// Authorization header: when Config.Token is set, an "Authorization"
// given here is dropped.
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

	// earlierActed: an attempt before the final one may have reached the
	// server and been carried out, its answer lost (see retry.go).
	earlierActed bool
	// acted: the final attempt may have been carried out (see classify).
	acted bool
	// unknown: the final attempt may have been carried out, and no answer
	// says whether it was.
	unknown bool
	// temporary: the last attempt failed in a way the retry policy would
	// retry (a connection error, a 429, 502, 503 or 504).
	temporary bool
}

// WithoutResponse returns opts followed by an option that undoes any
// WithResponse among them, for the follow-up request of a call whose
// Response must describe its first request.
func WithoutResponse(opts []CallOption) []CallOption {
	return append(opts[:len(opts):len(opts)], func(o *callOptions) { o.response = nil })
}

// Observe returns opts with a Response to fill, and that Response: the
// caller's own (WithResponse) if opts has one, else a new one, so that a
// method can read how its call went without taking the caller's.
func Observe(opts []CallOption) ([]CallOption, *Response) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	if o.response != nil {
		return opts, o.response
	}
	r := new(Response)
	return append(opts[:len(opts):len(opts)], WithResponse(r)), r
}
