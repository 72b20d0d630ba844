package nbserv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Sentinel errors for errors.Is. A *Error from the server matches the
// sentinel of its status class; the *Error itself (reached with errors.As)
// carries the details.
var (
	// ErrBadRequest matches a 400: the server refused the request body or
	// a field in it (no JSON, a missing field, an unknown kernel id).
	ErrBadRequest = errors.New("nbserv: bad request")
	// ErrUnauthorized matches a 401 or 403: the token is missing or wrong.
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

	// ErrInvalidArgument matches a *ValidationError: the call was refused
	// by the client before any request was sent.
	ErrInvalidArgument = errors.New("nbserv: invalid argument")
	// ErrResponseTooLarge is returned when a response body exceeds
	// Config.MaxResponseBytes; the body is not decoded.
	ErrResponseTooLarge = errors.New("nbserv: response body too large")
)

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
	// Header is the response header (Retry-After, Content-Type, ...).
	Header http.Header
	// Body is the raw response body, with any occurrence of the client's
	// token replaced by "[REDACTED]" (Jupyter's HTML 404 page embeds it).
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
// not JSON simply leaves the message fields empty.
func newError(method, path string, status int, header http.Header, body []byte, token string) *Error {
	if token != "" {
		body = bytes.ReplaceAll(body, []byte(token), []byte("[REDACTED]"))
	}
	e := &Error{Method: method, Path: path, StatusCode: status, Header: header, Body: body}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.Message = text(eb.Message)
		e.Reason = text(eb.Reason)
		e.ShortMessage = text(eb.ShortMessage)
		e.Traceback = text(eb.Traceback)
	}
	return e
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

// Error reports the request, the status and the server's message. It never
// includes the body, the traceback or the token.
func (e *Error) Error() string {
	s := fmt.Sprintf("nbserv: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Message != "":
		s += ": " + e.Message
	case len(e.Body) > 0:
		kind := "body"
		if ct := e.Header.Get("Content-Type"); ct != "" {
			kind = ct + " body"
		}
		s += fmt.Sprintf(" (%d-byte %s)", len(e.Body), kind)
	}
	return s
}

// Is reports whether the error belongs to the class of target, one of the
// status sentinels (ErrNotFound, ErrServer, ...).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrKernelGone:
		return e.StatusCode == http.StatusGone
	case ErrKernelUnavailable:
		return e.StatusCode == http.StatusNotImplemented
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode != http.StatusNotImplemented
	}
	return false
}

// ValidationError reports an argument the client refused before sending
// anything: an empty or malformed id, a missing path or type.
type ValidationError struct {
	// Field names the offending argument ("id", "path", "type", ...).
	Field string
	// Problem says what is wrong with it.
	Problem string
}

// Error describes the refused argument.
func (e *ValidationError) Error() string {
	return "nbserv: invalid " + e.Field + ": " + e.Problem
}

// Is makes every *ValidationError match ErrInvalidArgument.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidArgument }
