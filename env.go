package nbserv

import (
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// ConfigFromEnv returns a Config for the Jupyter Server that the process
// environment names, so that a program needs no flags when run beside a
// server, and in particular inside a JupyterHub single-user server (from a
// notebook, a terminal or a kernel there), where the hub has set the
// variables. An empty variable counts as unset, as it does for Jupyter and
// JupyterHub.
//
// BaseURL comes from the first of:
//
//  1. JUPYTER_URL: the server's URL, prefix included (any server).
//  2. Inside a JupyterHub single-user server, which the hub starts with
//     JUPYTERHUB_SERVICE_URL set and JUPYTERHUB_SERVICE_NAME unset: the
//     scheme, host and port of JUPYTERHUB_SERVICE_URL with the path
//     JUPYTERHUB_SERVICE_PREFIX (such as "/user/alice/"), which is exactly
//     where jupyterhub-singleuser listens (a wildcard or empty host is
//     reached on loopback; a missing port is 80 or 443 by scheme). This is
//     the server's own address, not the hub's proxy: code running beside it
//     needs no route through the hub.
//
// Otherwise BaseURL is left empty, and NewClient will refuse it: nothing
// names a server. That is the case inside a JupyterHub service (its
// JUPYTERHUB_SERVICE_NAME is set, and its JUPYTERHUB_SERVICE_URL is the
// service's own address, not a Jupyter Server): set JUPYTER_URL to the
// user's server, such as "https://hub.example.org/user/alice/". Hubs older
// than 2.0 passed the port on the command line instead of in
// JUPYTERHUB_SERVICE_URL, so their servers need JUPYTER_URL too.
// JUPYTERHUB_API_URL (the hub's own API), JUPYTERHUB_BASE_URL (the hub's
// path prefix), JUPYTERHUB_USER and JUPYTERHUB_SERVER_NAME are not read:
// JUPYTERHUB_SERVICE_PREFIX already holds the user's and server's names,
// escaped as the hub routes them.
//
// Token comes from the first of JUPYTER_TOKEN, JUPYTERHUB_API_TOKEN (the
// token the hub gives each server and service; a single-user server
// accepts its own) and JPY_API_TOKEN (the name hubs before 0.7.2 used).
// When JUPYTER_URL is set and JUPYTER_TOKEN is not, the hub's token is
// sent to JUPYTER_URL, so inside a hub JUPYTER_URL should name a server
// behind that hub.
//
// A malformed value is a *ValidationError whose Field names the variable
// (JUPYTER_URL, JUPYTERHUB_SERVICE_URL or JUPYTERHUB_SERVICE_PREFIX); the
// returned Config then has no BaseURL but still holds the Token. A program
// that lets a flag replace BaseURL should call Config.Retarget, which keeps
// the Token only for the origin the environment named (with no BaseURL,
// for none): the environment's token is not a credential for whatever
// server a flag names. Only BaseURL
// and Token are set: add timeouts, a Logger or an HTTPClient (for a hub
// with internal SSL, whose JUPYTERHUB_SSL_* files this does not read) to
// the returned Config before calling NewClient.
//
// docs/wire/jupyterhub.md H11, H12, H13 record what JupyterHub 3.0 sets and where.
func ConfigFromEnv() (Config, error) {
	cfg := Config{Token: NewSecret(firstEnv("JUPYTER_TOKEN", "JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN"))}
	base, err := baseURLFromEnv()
	if err != nil {
		return cfg, err
	}
	cfg.BaseURL = base
	return cfg, nil
}

// firstEnv returns the value of the first of names that is set and not
// empty.
func firstEnv(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// baseURLFromEnv applies ConfigFromEnv's precedence for the base URL; ""
// with no error means nothing names a server.
func baseURLFromEnv() (string, error) {
	if raw := os.Getenv("JUPYTER_URL"); raw != "" {
		if _, err := transport.ParseBaseURL(raw); err != nil {
			return "", relabel(err, "JUPYTER_URL")
		}
		return raw, nil
	}
	service := os.Getenv("JUPYTERHUB_SERVICE_URL")
	if service == "" || os.Getenv("JUPYTERHUB_SERVICE_NAME") != "" {
		return "", nil
	}
	return singleUserURL(service, os.Getenv("JUPYTERHUB_SERVICE_PREFIX"))
}

// singleUserURL is where jupyterhub-singleuser listens: the host and port
// of JUPYTERHUB_SERVICE_URL and the path JUPYTERHUB_SERVICE_PREFIX, each
// defaulted as singleuser/mixins.py does.
func singleUserURL(service, prefix string) (string, error) {
	invalid := func(field, problem string) error { return &ValidationError{Field: field, Problem: problem} }
	u, err := url.Parse(service)
	switch {
	case err != nil:
		return "", invalid("JUPYTERHUB_SERVICE_URL", "not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return "", invalid("JUPYTERHUB_SERVICE_URL", "scheme must be http or https")
	case u.User != nil:
		return "", invalid("JUPYTERHUB_SERVICE_URL", "must not carry credentials")
	}
	host, port := u.Hostname(), u.Port()
	switch host {
	case "", "0.0.0.0": // listening on every IPv4 interface, loopback included
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}

	if prefix == "" {
		prefix = "/"
	}
	p, err := url.Parse(prefix)
	if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil || p.RawQuery != "" || p.Fragment != "" ||
		strings.HasPrefix(prefix, "//") {
		return "", invalid("JUPYTERHUB_SERVICE_PREFIX", "not a URL path")
	}
	// The server adds the slashes a prefix lacks (its base_url validator).
	path := p.EscapedPath() // as the hub escaped it: "/user/a%40b/" stays so
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	if !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return u.Scheme + "://" + net.JoinHostPort(host, port) + path, nil
}

// relabel gives a *ValidationError from parseBaseURL the name of the
// variable the URL came from.
func relabel(err error, field string) error {
	if v, ok := err.(*ValidationError); ok {
		return &ValidationError{Field: field, Problem: v.Problem}
	}
	return &ValidationError{Field: field, Problem: err.Error()}
}
