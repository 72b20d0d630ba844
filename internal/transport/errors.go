package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors for errors.Is. A *Error from the server matches the
// sentinel of its status class; the *Error itself (reached with errors.As)
// carries the details.
var (
	// ErrBadRequest matches a 400: the server refused the request body or
	// a field in it (no JSON, a missing field, an unknown kernel id).
	ErrBadRequest = errors.New("nbserv: bad request")
	// ErrUnauthorized matches a 401, or a 403 other than ErrForbidden's:
	// the token is missing or wrong.
	ErrUnauthorized = errors.New("nbserv: unauthorized")
	// ErrNotFound matches a 404: no such session or kernel, or (with an
	// HTML body) a URL the server has no route for, such as a wrong prefix.
	ErrNotFound = errors.New("nbserv: not found")
	// ErrKernelGone matches a 410 from Delete: the session's kernel
	// vanished before the session could be deleted.
	ErrKernelGone = errors.New("nbserv: kernel deleted before session")
	// ErrKernelUnavailable matches a 501 from Create: the requested
	// kernelspec is not installed on the server.
	ErrKernelUnavailable = errors.New("nbserv: kernel not available")
	// ErrServer matches any 5xx other than 501: the server failed.
	ErrServer = errors.New("nbserv: server error")
	// ErrConflict matches a 409: the target already exists (a rename or
	// copy onto an existing file).
	ErrConflict = errors.New("nbserv: conflict")
	// ErrRedirect matches a 3xx the client did not follow: a redirect to
	// another origin or of a request other than GET (see Config.HTTPClient).
	// The *Error's Location field names the target.
	ErrRedirect = errors.New("nbserv: redirect not followed")
	// ErrNotSupported matches a call the server has no route for although
	// it is a Jupyter Server: GET /api/me on Jupyter Server 1.x (it arrived
	// in 2.0), the terminal calls on a server whose terminals are
	// disabled, or any call to an API Jupyter Enterprise Gateway does not
	// serve (contents, terminals, /api/status). The error is a
	// *NotSupportedError.
	ErrNotSupported = errors.New("nbserv: not supported by this server")
	// ErrOutcomeUnknown matches a failure after which the server may or
	// may not have carried out a call that creates or changes something
	// (its answer was lost), so the call was not repeated. Look before
	// trying again: a second try may do the work twice.
	ErrOutcomeUnknown = errors.New("nbserv: outcome unknown")

	// ErrInvalidArgument matches a *ValidationError: the call was refused
	// by the client before any request was sent.
	ErrInvalidArgument = errors.New("nbserv: invalid argument")
	// ErrMalformedResponse matches a 2xx answer whose body is not the
	// model the call expects: not JSON, null, an object without its id,
	// a value of the wrong type. The server acted (or says so); what it
	// answered cannot be used.
	ErrMalformedResponse = errors.New("nbserv: the server's answer is not the expected model")
	// ErrResponseTooLarge is returned when a response body exceeds
	// Config.MaxResponseBytes; the body is not decoded.
	ErrResponseTooLarge = errors.New("nbserv: response body too large")
)

// ErrKernelDead matches a request or connection ended because the kernel
// died and was not restarted, was shut down, or no longer exists: kernel
// connections end with it, and nbserv's Sessions.Connect refuses a session
// without a kernel with it, so both packages name it.
var ErrKernelDead = errors.New("nbserv: kernel dead")

// Error is a non-2xx answer from the server. Jupyter sends JSON bodies of
// the form {"message": ..., "reason": ...}, adding "short_message" (501 on
// create) or "traceback" (unhandled 500); a URL with no route gets an HTML
// page instead, kept in Body.
type Error struct {
	// Method and Path identify the request (Path includes any base-URL
	// prefix; the query, which never holds the token, is left out).
	Method string
	Path   string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is the server's "message", if the body was JSON.
	Message string
	// Reason is the server's "reason"; usually empty (JSON null).
	Reason string
	// ShortMessage is the server's "short_message" (501 on create).
	ShortMessage string
	// Traceback is the Python traceback of an unhandled server error.
	Traceback string
	// Header is the response header (Retry-After, Content-Type, ...),
	// with the credentials removed from its values as from Body (a
	// redirect's Location may hold the token escaped).
	Header http.Header
	// Location is the target of a redirect answer (ErrRedirect).
	Location string
	// Body is the raw response body, with any occurrence of the client's
	// token or of a credential in its Config.Header (escaped as JSON, HTML
	// or a URL escapes it, too) replaced by "[REDACTED]" (Jupyter's HTML
	// 404 page embeds the token).
	Body []byte
}

// errorBody is the JSON shape of Jupyter's error answers. Fields are
// decoded leniently: a server that sends a non-string reason must not turn
// an informative error into a decoding failure.
type errorBody struct {
	Message      any `json:"message"`
	Reason       any `json:"reason"`
	ShortMessage any `json:"short_message"`
	Traceback    any `json:"traceback"`
}

// newError builds an *Error from a response, never failing: a body that is
// not JSON simply leaves the message fields empty. The token is removed
// from the body in its escaped forms, and from the decoded text.
func newError(method, path string, status int, header http.Header, body []byte, red *redactor) *Error {
	body = red.bytes(body)
	e := &Error{Method: method, Path: path, StatusCode: status, Header: red.header(header), Body: body}
	if status >= 300 && status <= 399 {
		// A URL: the token may be in it escaped, as a login page's next=.
		e.Location = e.Header.Get("Location")
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Message = red.string(text(eb.Message))
		e.Reason = red.string(text(eb.Reason))
		e.ShortMessage = red.string(text(eb.ShortMessage))
		e.Traceback = red.string(text(eb.Traceback))
	} else if plainText(body) {
		// Jupyter Server 2.x answers a missing contents path with its
		// message as plain text (labelled JSON).
		e.Message = red.string(string(bytes.TrimSpace(body)))
	}
	return e
}

// plainText reports a short body of printable text that is not an HTML
// page: a message a server sent bare.
func plainText(body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || len(body) > 1024 || !utf8.Valid(body) || bytes.HasPrefix(body, []byte("<")) {
		return false
	}
	for _, r := range string(body) {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// text renders a decoded JSON value as a string: strings as they are, null
// as "", anything else in its JSON form.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// Error reports the request, the status and the server's message, on one
// line: control characters in the message are quoted and a long message
// is cut (the fields hold it whole). It never includes the body, the
// traceback or the token.
func (e *Error) Error() string {
	s := fmt.Sprintf("nbserv: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.StatusCode >= 300 && e.StatusCode <= 399:
		s += fmt.Sprintf(": redirect to %s not followed", OneLine(strconv.Quote(e.Location)))
	case e.Message != "":
		s += ": " + OneLine(e.Message)
	case hubHint(e) != "":
		s += ": " + hubHint(e)
	case len(e.Body) > 0:
		kind := "body"
		if ct := e.Header.Get("Content-Type"); ct != "" {
			kind = OneLine(ct) + " body"
		}
		s += fmt.Sprintf(" (%d-byte %s)", len(e.Body), kind)
	}
	return s
}

// Is reports whether the error belongs to the class of target, one of the
// status sentinels (ErrNotFound, ErrServer, ...).
func (e *Error) Is(target error) bool {
	if hubIs(e, target) { // JupyterHub's answers in a user's server's place (hubfaults.go)
		return true
	}
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || (e.StatusCode == http.StatusForbidden && !gatewayForbidden(e)) || e.toLogin()
	case ErrForbidden:
		return gatewayForbidden(e) // gatewayfaults.go
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrKernelGone:
		return e.StatusCode == http.StatusGone
	case ErrKernelUnavailable:
		return e.StatusCode == http.StatusNotImplemented
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrRedirect:
		return e.StatusCode >= 300 && e.StatusCode <= 399
	}
	return false
}

// toLogin reports a redirect to a login page: the server wants
// credentials it did not get.
func (e *Error) toLogin() bool {
	if e.StatusCode < 300 || e.StatusCode > 399 {
		return false
	}
	u, err := url.Parse(e.Location)
	return err == nil && isLogin(u.Path)
}

// ValidationError reports an argument or setting the client refused
// before sending anything: an empty or malformed id, a missing path or
// type, a BaseURL that is not an http(s) URL, a negative setting.
type ValidationError struct {
	// Field names the offending argument or Config field ("id", "path",
	// "BaseURL", "Timeout", ...).
	Field string
	// Value is what was given, when quoting it helps and it holds no
	// secret (a BaseURL, with any password removed). Often empty.
	Value string
	// Problem says what is wrong with it and, where it helps, what is
	// expected.
	Problem string
	// Err is the underlying cause, such as a *url.Error; often nil.
	Err error
}

// Error describes the refused argument.
func (e *ValidationError) Error() string {
	s := "nbserv: invalid " + e.Field
	if e.Value != "" {
		s += " " + OneLine(strconv.Quote(e.Value))
	}
	s += ": " + e.Problem
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	return s
}

// Is makes every *ValidationError match ErrInvalidArgument.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }

// Unwrap returns the cause, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

// NotSupportedError reports a call the server has no route for. It matches
// ErrNotSupported, and unwraps to the server's 404 *Error (so it matches
// ErrNotFound too, and errors.As finds the *Error).
type NotSupportedError struct {
	// Feature names what was asked, such as "GET /api/me".
	Feature string
	// ServerVersion is the version the server reported (GET /api), such
	// as "1.23.3"; empty when the 404 itself said "no such route" (Jupyter
	// Enterprise Gateway's JSON 404), so that no question was asked.
	ServerVersion string
	// Err is the server's answer to the call: a 404 *Error.
	Err error
}

// Error says what the server does not support and which version it is.
func (e *NotSupportedError) Error() string {
	if e.ServerVersion == "" {
		return "nbserv: " + e.Feature + ": not supported by this server (it has no such route)"
	}
	return "nbserv: " + e.Feature + ": not supported by this server (Jupyter Server " + e.ServerVersion + ")"
}

// Is makes the error match ErrNotSupported.
func (e *NotSupportedError) Is(target error) bool { return target == ErrNotSupported }

// Unwrap returns the server's 404.
func (e *NotSupportedError) Unwrap() error { return e.Err }

// OutcomeUnknown marks err, the failure of a request that must not be
// repeated and that the server may have carried out (a kernel message
// whose socket broke while it was written), so that it matches
// ErrOutcomeUnknown.
func OutcomeUnknown(err error) error { return &outcomeUnknown{err} }

// outcomeUnknown wraps the failure of a call that must not be repeated
// and that the server may have carried out: it matches ErrOutcomeUnknown
// and, through Unwrap, the failure itself (a *Error, a net error, ...).
type outcomeUnknown struct{ err error }

func (e *outcomeUnknown) Error() string {
	return e.err.Error() + " (the server may have carried the request out; it was not repeated)"
}

func (e *outcomeUnknown) Unwrap() error { return e.err }

func (e *outcomeUnknown) Is(target error) bool { return target == ErrOutcomeUnknown }
