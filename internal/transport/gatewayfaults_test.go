package transport

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// gatewayError is the *Error the SDK makes of an answer Enterprise Gateway
// 3.3.0 sent, as `curl -i` saved it in testdata/enterprise-gateway-3.3.0
// (docs/wire/gateway.md GW2, GW3, GW6 have the commands).
func gatewayError(t *testing.T, method, path, file string) *Error {
	t.Helper()
	rec := readHubRecording(t, "enterprise-gateway-3.3.0/"+file)
	return newError(method, path, rec.status, rec.header, rec.body, newRedactor(testToken, nil))
}

// The three refusals a gateway's client meets are three typed errors:
// a wrong or missing token, a call refused with a good token, and an API
// the gateway does not serve. Its 404s for a missing kernel or session
// stay plain ErrNotFound.
func TestGatewayAnswersAreTyped(t *testing.T) {
	all := []error{ErrUnauthorized, ErrForbidden, ErrNotSupported, ErrNotFound, ErrServerNotRunning, ErrLoginRequired}
	cases := []struct {
		file, method, path string
		want               []error
	}{
		{"wrong-token.http", "GET", "/api/kernels", []error{ErrUnauthorized}},
		{"no-token.http", "GET", "/api/kernelspecs", []error{ErrUnauthorized}},
		{"kernels-list-off.http", "GET", "/api/kernels", []error{ErrForbidden}},
		{"sessions-list-off.http", "GET", "/api/sessions", []error{ErrForbidden}},
		{"start-as-root.http", "POST", "/api/kernels", []error{ErrForbidden}},
		{"contents.http", "GET", "/api/contents/a.ipynb", []error{ErrNotSupported, ErrNotFound}},
		{"status.http", "GET", "/api/status", []error{ErrNotSupported, ErrNotFound}},
		{"terminals.http", "GET", "/api/terminals", []error{ErrNotSupported, ErrNotFound}},
		{"kernel-missing.http", "GET", "/api/kernels/00000000-0000-0000-0000-000000000000", []error{ErrNotFound}},
		{"kernel-delete-missing.http", "DELETE", "/api/kernels/00000000-0000-0000-0000-000000000000", []error{ErrNotFound}},
		{"kernel-interrupt-missing.http", "POST", "/api/kernels/00000000-0000-0000-0000-000000000000/interrupt", []error{ErrNotFound}},
		{"session-missing.http", "GET", "/api/sessions/00000000-0000-0000-0000-000000000000", []error{ErrNotFound}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			err := notServed(tc.method, tc.path, gatewayError(t, tc.method, tc.path, tc.file))
			for _, target := range all {
				want := false
				for _, w := range tc.want {
					want = want || w == target
				}
				if got := errors.Is(err, target); got != want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", err, target, got, want)
				}
			}
			var ns *NotSupportedError
			if errors.As(err, &ns) {
				if ns.Feature != tc.method+" "+tc.path {
					t.Errorf("Feature %q, want %q", ns.Feature, tc.method+" "+tc.path)
				}
				if want := "nbserv: " + tc.method + " " + tc.path + ": not supported by this server (it has no such route)"; err.Error() != want {
					t.Errorf("Error() = %q, want %q", err.Error(), want)
				}
			}
		})
	}
}

// Jupyter Server's own 403s (docs/wire/jupyter-server-2.md G5: a missing or
// wrong token, reason null) and JupyterHub's API 403 (no reason) keep
// meaning a token problem; its JSON 404s, which carry a message, stay
// plain ErrNotFound.
func TestJupyterAnswersKeepTheirTypes(t *testing.T) {
	json := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		status           int
		body             string
		unauth, notFound bool
	}{
		{403, `{"message": "Forbidden", "reason": null}`, true, false},
		{403, `{"message": "'_xsrf' argument missing from POST", "reason": null}`, true, false},
		{403, `{"status": 403, "message": "Action is not authorized"}`, true, false},
		{403, `<html><body>403 : Forbidden</body></html>`, true, false},
		{404, `{"message": "Kernel does not exist: x", "reason": null}`, false, true},
		{404, `{"message": "Not Found", "reason": null}`, false, true},
	} {
		err := notServed("GET", "/api/kernels", newError("GET", "/api/kernels", tc.status, json, []byte(tc.body), nil))
		if errors.Is(err, ErrUnauthorized) != tc.unauth || errors.Is(err, ErrForbidden) || errors.Is(err, ErrNotSupported) ||
			errors.Is(err, ErrNotFound) != tc.notFound {
			t.Errorf("%d %s: %v: Unauthorized %v Forbidden %v NotSupported %v NotFound %v", tc.status, tc.body, err,
				errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden), errors.Is(err, ErrNotSupported), errors.Is(err, ErrNotFound))
		}
	}
}

// Do and Stream hand the gateway's "no such route" back as a
// *NotSupportedError naming the call, with the *Error inside.
func TestDoAndStreamNameTheCallNotServed(t *testing.T) {
	rec := readHubRecording(t, "enterprise-gateway-3.3.0/contents.http")
	s := &scripted{steps: []func(*http.Request) (*http.Response, error){
		status(rec.status, string(rec.body)), status(rec.status, string(rec.body)),
	}}
	c := newScripted(t, s)
	_, err := c.Do(context.Background(), Call{Method: "GET", Path: "api/contents/a.ipynb"}, nil)
	_, _, serr := c.Stream(context.Background(), Call{Method: "GET", Path: "api/contents/a.ipynb"}, nil)
	for _, err := range []error{err, serr} {
		var ns *NotSupportedError
		var e *Error
		if !errors.As(err, &ns) || !strings.HasSuffix(ns.Feature, "/api/contents/a.ipynb") || !errors.As(err, &e) || e.StatusCode != 404 {
			t.Errorf("%T %v: want a *NotSupportedError naming GET /api/contents/a.ipynb around the 404", err, err)
		}
	}
}
