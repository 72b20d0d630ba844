package transport

import (
	"errors"
	"net/http"
)

// What Jupyter Enterprise Gateway answers where a Jupyter Server would
// answer otherwise. The gateway is a Jupyter Server 1.x application that
// serves only kernels, kernelspecs and sessions, and writes every error as
// JSON of its own shape: "reason" is always a string (the status's phrase
// or a reason of its own), where Jupyter Server's API sends null. That is
// what tells its answers apart (docs/wire/gateway.md GW2, GW3, GW6):
//   - it checks the token first and answers a missing or wrong one with a
//     401, which matches ErrUnauthorized;
//   - a 403 therefore comes with a token it accepted: list_kernels off for
//     GET /api/kernels and /api/sessions, a KERNEL_USERNAME it does not
//     allow on a start. That is ErrForbidden, not ErrUnauthorized;
//   - a URL it has no route for (/api/contents/..., /api/terminals,
//     /api/status) is a 404 {"reason": "Not Found", "message": ""}; its
//     404 for a missing kernel or session has a message naming it.
// Jupyter Server's own 403s (a missing or wrong token, reason null) keep
// matching ErrUnauthorized, and its "no route" 404 is an HTML page.

// ErrForbidden matches a 403 from a server that accepted the token but
// refuses the call: Jupyter Enterprise Gateway refusing GET /api/kernels
// and /api/sessions while its list_kernels is off, or a kernel start whose
// KERNEL_USERNAME it does not allow. Another token will not help; the
// server's configuration or the request must change. A missing or wrong
// token is ErrUnauthorized instead.
var ErrForbidden = errors.New("nbserv: forbidden (the token was accepted, the call refused)")

// gatewayForbidden recognises the gateway's 403: JSON whose "reason" is a
// string. Jupyter Server's and JupyterHub's 403s have a null or no reason.
func gatewayForbidden(e *Error) bool {
	return e.StatusCode == http.StatusForbidden && e.Reason != "" && IsJSON(e.Body)
}

// gatewayNoRoute recognises the gateway's 404 for a URL it has no route
// for: the bare status, with an empty message.
func gatewayNoRoute(e *Error) bool {
	return e.StatusCode == http.StatusNotFound && e.Reason == http.StatusText(http.StatusNotFound) &&
		e.Message == "" && IsJSON(e.Body)
}

// notServed returns e, the answer to a call of method on path, as a
// *NotSupportedError naming the call when it is a server's JSON "no such
// route" (the gateway's contents, terminals, ...), and e itself otherwise.
func notServed(method, path string, e *Error) error {
	if !gatewayNoRoute(e) {
		return e
	}
	return &NotSupportedError{Feature: method + " " + path, Err: e}
}
