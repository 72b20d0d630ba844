package nbserv

import (
	"net/http"
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Sentinel errors for errors.Is. A *Error from the server matches the
// sentinel of its status class; the *Error itself (reached with errors.As)
// carries the details.
var (
	// ErrBadRequest matches a 400: the server refused the request body or
	// a field in it (no JSON, a missing field, an unknown kernel id).
	ErrBadRequest = transport.ErrBadRequest
	// ErrUnauthorized matches a 401, or a 403 other than ErrForbidden's:
	// the token is missing or wrong.
	ErrUnauthorized = transport.ErrUnauthorized
	// ErrForbidden matches a 403 from a server that accepted the token but
	// refuses the call: Jupyter Enterprise Gateway refusing Kernels.List
	// and Sessions.List while its list_kernels is off, or a Kernels.Start
	// whose KERNEL_USERNAME (StartKernelRequest.Env) it does not allow.
	// Another token will not help. A Jupyter Server's 403 (its answer to a
	// missing or wrong token) matches ErrUnauthorized instead.
	ErrForbidden = transport.ErrForbidden
	// ErrNotFound matches a 404: no such session or kernel, or (with an
	// HTML body) a URL the server has no route for, such as a wrong prefix.
	ErrNotFound = transport.ErrNotFound
	// ErrKernelGone matches a 410 from Delete: the session's kernel
	// vanished before the session could be deleted.
	ErrKernelGone = transport.ErrKernelGone
	// ErrKernelUnavailable matches a 501 from Create: the requested
	// kernelspec is not installed on the server.
	ErrKernelUnavailable = transport.ErrKernelUnavailable
	// ErrServer matches any 5xx other than 501: the server failed.
	ErrServer = transport.ErrServer
	// ErrConflict matches a 409: the target already exists (a rename or
	// copy onto an existing file).
	ErrConflict = transport.ErrConflict
	// ErrRedirect matches a 3xx the client did not follow: a redirect to
	// another origin or of a request other than GET (see Config.HTTPClient).
	// The *Error's Location field names the target.
	ErrRedirect = transport.ErrRedirect
	// ErrNotSupported matches a call the server has no route for although
	// it is a Jupyter Server: GET /api/me on Jupyter Server 1.x (it arrived
	// in 2.0), the terminal calls on a server whose terminals are
	// disabled, or any call to an API Jupyter Enterprise Gateway does not
	// serve (Contents, Terminals, Server.Status, Identity). The error is a
	// *NotSupportedError naming the call.
	ErrNotSupported = transport.ErrNotSupported
	// ErrMalformedResponse matches a 2xx answer whose body is not the
	// model the call expects (not JSON, null, a model without its id):
	// the server acted, or says so, but its answer cannot be used.
	ErrMalformedResponse = transport.ErrMalformedResponse
	// ErrOutcomeUnknown matches a failure after which the server may or
	// may not have carried out a call that creates or changes something
	// (its answer was lost), so the call was not repeated. Look before
	// trying again: a second try may do the work twice.
	ErrOutcomeUnknown = transport.ErrOutcomeUnknown

	// ErrInvalidArgument matches a *ValidationError: the call was refused
	// by the client before any request was sent.
	ErrInvalidArgument = transport.ErrInvalidArgument
	// ErrResponseTooLarge is returned when an answer is larger than the
	// client's bounds allow: a response body past Config.MaxResponseBytes
	// (not decoded), a body whose decoding would pass the decode budget, or
	// a listing whose pages never end (hub.Client.ListUsers stops after
	// 10,000 pages). The error's text says which bound.
	ErrResponseTooLarge = transport.ErrResponseTooLarge

	// ErrServerNotRunning matches JupyterHub's answer, in a user's
	// server's place, to a request for a server that is not running:
	// stopped, still starting, or never created. For a GET it is the 424
	// (503 on hubs configured with use_legacy_stopped_server_status_code);
	// for a POST, PATCH, PUT or DELETE an HTML page of the hub's, a 405
	// (JupyterHub 3.0) or a 403 (6.1; it matches ErrUnauthorized too).
	// Start the server (package hub's StartServer) and try again.
	ErrServerNotRunning = transport.ErrServerNotRunning
	// ErrLoginRequired matches a redirect to JupyterHub's login page: the
	// hub, not the user's server, found no valid token in the request
	// (missing, wrong, expired or revoked). It matches ErrUnauthorized and
	// ErrRedirect too. Check Config.Token.
	ErrLoginRequired = transport.ErrLoginRequired
)

// ErrKernelDead matches a kernel that is gone: a session without one
// (Sessions.Connect), and, as package kernel's ErrKernelDead (the same
// value), a kernel connection ended because the kernel died and was not
// restarted, was shut down, or no longer exists.
var ErrKernelDead = transport.ErrKernelDead

// ErrStreamStalled matches a read of a streamed body (Contents.Download
// and Open, KernelSpecs.Resource) that received nothing for
// Config.StreamIdleTimeout. The error is a *StalledError, which matches
// context.DeadlineExceeded too.
var ErrStreamStalled = transport.ErrStreamStalled

// StalledError is the read error of a streamed body whose server went
// silent for Config.StreamIdleTimeout: it names the request, the silence
// and the bytes that had arrived. It matches ErrStreamStalled and
// context.DeadlineExceeded.
type StalledError = transport.StalledError

// LengthError is the read error of a streamed body that ended at another
// length than the one announced: its Content-Length, or, for
// Contents.Download and Open when the server sent none, the file's size
// (asked again before failing, as the file may have changed meanwhile).
// A body cut short matches io.ErrUnexpectedEOF.
type LengthError = transport.LengthError

// Error is a non-2xx answer from the server: the method and path, the
// status, the server's message, reason and traceback, the header and the
// body with the token redacted. It matches the sentinel of its status
// class (errors.Is(err, ErrNotFound), ...).
type Error = transport.Error

// ValidationError reports an argument or setting the client refused
// before sending anything: an empty or malformed id, a missing path or
// type, a BaseURL that is not an http(s) URL, a negative setting. It
// matches ErrInvalidArgument; Field names the argument.
type ValidationError = transport.ValidationError

// NotSupportedError reports a call the server has no route for (GET
// /api/me on Jupyter Server 1.x, GET /api/contents/... on Jupyter
// Enterprise Gateway). It matches ErrNotSupported, and unwraps to the
// server's 404 *Error.
type NotSupportedError = transport.NotSupportedError

// Secret is a credential, such as Config.Token, made with NewSecret.
// Formatting it with fmt (any verb), encoding it as JSON or text, or
// logging it with slog gives "[REDACTED]"; and it holds its value behind a
// pointer, so that fmt printing it by reflection (a Config in an
// unexported field, %p of a Config) prints an address, never the value.
// Reveal returns the value where it is needed. The zero Secret is empty.
//
// Its methods (go doc lists them under internal/transport): Reveal;
// IsZero; Equal, since == compares where values are held, not what;
// String, GoString, Format, MarshalJSON, MarshalText, MarshalBinary and
// LogValue, which give "[REDACTED]"; UnmarshalText, which reads a value
// from a configuration file and refuses "[REDACTED]" itself.
type Secret = transport.Secret

// NewSecret returns a Secret holding s (the zero Secret for "").
func NewSecret(s string) Secret { return transport.NewSecret(s) }

// SecretHeader is Config.Header: request headers whose values are
// credentials, made with NewSecretHeader. Like Secret, it holds them
// in a closure, where fmt printing by reflection finds only an address,
// and prints, encodes and logs only the header names.
// It is immutable: Clone returns a copy to change, and NewSecretHeader
// a new SecretHeader from it.
//
// Its methods (go doc lists them under internal/transport): Get, Clone,
// Len, Names; Equal, which go-cmp calls (reflect.DeepEqual cannot compare
// SecretHeaders); UnmarshalJSON, which reads http.Header's JSON form from
// a configuration file; String, GoString, Format, MarshalJSON,
// MarshalText, MarshalBinary and LogValue, which give the names only.
type SecretHeader = transport.SecretHeader

// NewSecretHeader returns a SecretHeader holding a copy of h, its keys
// canonicalised (the zero SecretHeader for an empty h).
func NewSecretHeader(h http.Header) SecretHeader { return transport.NewSecretHeader(h) }

// CallOption adjusts one call: WithTimeout, WithHeader, WithResponse.
type CallOption = transport.CallOption

// Response is the HTTP metadata of a call (status, header, body as
// received, attempts), for the few callers who need it: pass
// WithResponse(&r) to any method, one Response per call. It is filled
// whenever the server answered, on errors too.
type Response = transport.Response

// WithTimeout bounds one call as a whole, instead of Config.Timeout. It
// is a budget, as in context.WithTimeout: zero or negative means the
// deadline has passed and the call fails at once with
// context.DeadlineExceeded. NoTimeout leaves the call bounded by its
// context alone.
func WithTimeout(d time.Duration) CallOption { return transport.WithTimeout(d) }

// WithHeader adds a header to one call's request. Like Config.Header, it
// is never sent to another origin, and it cannot replace the token's
// Authorization header: when Config.Token is set, an "Authorization"
// given here is dropped.
func WithHeader(key, value string) CallOption { return transport.WithHeader(key, value) }

// WithResponse makes the call fill r with its HTTP metadata: the
// equivalent of the Python client's *_with_http_info methods.
func WithResponse(r *Response) CallOption { return transport.WithResponse(r) }

// Defaults applied when the matching Config field is zero.
const (
	DefaultTimeout          = transport.DefaultTimeout
	DefaultRetryMax         = transport.DefaultRetryMax
	DefaultRetryWaitMin     = transport.DefaultRetryWaitMin
	DefaultRetryWaitMax     = transport.DefaultRetryWaitMax
	DefaultMaxResponseBytes = transport.DefaultMaxResponseBytes
)

// Values that switch a feature off, for the Config fields (and WithTimeout)
// where zero means "the default".
const (
	// NoTimeout, as Config.Timeout or WithTimeout, leaves a call bounded by
	// its context alone.
	NoTimeout = transport.NoTimeout
	// NoRetries, as Config.RetryMax, sends every call once.
	NoRetries = transport.NoRetries
)
