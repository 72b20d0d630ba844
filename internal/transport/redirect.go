package transport

import (
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects bounds a chain of followed redirects.
const maxRedirects = 5

// checkRedirect is the redirect policy. Credentials (the token,
// Config.Header and WithHeader values) go to BaseURL's origin only, and a
// request's method and body must survive, so a redirect is followed only
// when the request is a GET or HEAD and the target has the same origin
// (scheme, host and port: an https base redirected to http is another
// origin). A redirect to a login page is not followed either: what it
// leads to is an HTML form answered 200, which a download would take for
// the file (Jupyter sends one for /files/, /api/spec.yaml and kernelspec
// resources without a valid token; JupyterHub for a user's server). Any
// redirect not followed is returned as it is, becoming an *Error that
// matches ErrRedirect (and ErrUnauthorized for a login page) and names
// the target. Jupyter's only redirect on its API, the trailing-slash 302,
// stays on the origin and is followed.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	if first.Method != http.MethodGet && first.Method != http.MethodHead {
		return http.ErrUseLastResponse
	}
	if !sameOrigin(c.base, req.URL) || isLogin(req.URL.Path) || len(via) > maxRedirects {
		return http.ErrUseLastResponse
	}
	return nil
}

// isLogin reports a path to a login page: Jupyter's {base}login, the
// hub's /hub/login.
func isLogin(path string) bool {
	return path == "login" || strings.HasSuffix(path, "/login")
}

// sameOrigin compares scheme, host and port, with the scheme's default
// port filled in.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		sameHost(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

// sameHost compares host names ignoring ASCII case only. Unicode case
// folding (strings.EqualFold) is not how a name is resolved: "σ" and "ς"
// fold together, yet IDNA, which the transport applies before dialing,
// makes them xn--4xa and xn--3xa, two hosts. Two spellings of one host
// that differ beyond ASCII case (the Kelvin sign for "k") count as two
// origins: credentials are dropped, never sent astray.
func sameHost(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// SameOrigin reports whether a and b are base URLs (as ParseBaseURL
// accepts them) of one origin: scheme, host and port. A URL that does not
// parse, or is empty, has no origin and shares it with nothing.
func SameOrigin(a, b string) bool {
	ua, errA := ParseBaseURL(a)
	ub, errB := ParseBaseURL(b)
	return errA == nil && errB == nil && sameOrigin(ua, ub)
}
