package nbserv

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// ServerService reports on the server itself: its activity (/api/status),
// its version (/api) and its API description (/api/spec.yaml). Reach it as
// Client.Server; it mirrors the Python client's StatusApi, DefaultApi and
// ApiSpecApi.
type ServerService struct{ c *Client }

// ServerStatus is the server's activity, as GET /api/status reports it.
type ServerStatus struct {
	// Started is when the server started.
	Started time.Time `json:"started"`
	// LastActivity is when the server last saw activity: a call to its
	// JSON API with a valid token (GET /api/status excepted, and on
	// Jupyter Server 2.x GET /api; files such as spec.yaml and logos do
	// not count), a kernel message or terminal output. Culling tools
	// compare it with the current time.
	LastActivity time.Time `json:"last_activity"`
	// Connections counts the open WebSocket connections to all kernels.
	Connections int `json:"connections"`
	// Kernels counts the running kernels.
	Kernels int `json:"kernels"`
}

// Status returns the server's activity (GET /api/status). Asking does not
// count as activity.
//
// Python: StatusApi.api_status_get.
func (s *ServerService) Status(ctx context.Context, opts ...CallOption) (*ServerStatus, error) {
	st := new(ServerStatus)
	if _, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/status", Decode: decodeInto(st)}, opts); err != nil {
		return nil, err
	}
	return st, nil
}

// Version returns the server's version (GET /api), parsed so that callers
// can branch on features:
//
//	v, err := c.Server.Version(ctx)
//	if err == nil && v.AtLeast(2, 0) { /* /api/me, kernel env on create */ }
//
// Jupyter answers this without a token, so it also tells whether a base
// URL points at a Jupyter Server at all. (The Python client asks for
// /api/, which Jupyter redirects to /api; this asks for /api directly.)
//
// Python: DefaultApi.api_get.
func (s *ServerService) Version(ctx context.Context, opts ...CallOption) (*ServerVersion, error) {
	var body struct {
		Version        *string `json:"version"`
		GatewayVersion string  `json:"gateway_version"`
	}
	var v ServerVersion
	_, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api", Decode: func(b []byte) error {
		if err := decodeInto(&body)(b); err != nil {
			return err
		}
		if body.Version == nil {
			return errors.New(`no "version" in the answer`)
		}
		var err error
		v, err = ParseServerVersion(*body.Version)
		v.GatewayVersion = body.GatewayVersion
		return err
	}}, opts)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// ServerVersion is a Jupyter Server version, such as "1.23.3" or
// "2.0.0rc1".
type ServerVersion struct {
	// Raw is the version exactly as the server sent it.
	Raw string
	// Major, Minor and Patch are its first three release numbers (missing
	// ones are 0).
	Major, Minor, Patch int
	// Suffix is what follows the release numbers, such as "rc1", ".dev0"
	// or "+local"; empty for a final release.
	Suffix string
	// GatewayVersion is Jupyter Enterprise Gateway's version, such as
	// "3.3.0", when the server is one: the gateway answers GET /api with
	// the Jupyter Server it is built on as the version ("1.24.0") and its
	// own as "gateway_version" (docs/wire/gateway.md GW1). Empty for a
	// Jupyter Server, including one that delegates its kernels to a
	// gateway (--gateway-url), and after ParseServerVersion.
	GatewayVersion string
}

// ParseServerVersion parses a Python package version as Jupyter reports
// it: release numbers separated by dots, then any pre-release, dev or
// local suffix. It fails on a string that does not start with a number.
func ParseServerVersion(s string) (ServerVersion, error) {
	v := ServerVersion{Raw: s}
	rest := s
	for i, dst := range []*int{&v.Major, &v.Minor, &v.Patch} {
		if i > 0 {
			after, ok := strings.CutPrefix(rest, ".")
			if !ok || after == "" || after[0] < '0' || after[0] > '9' {
				break
			}
			rest = after
		}
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		num, err := strconv.Atoi(rest[:n])
		if err != nil { // no digits, or too many
			return ServerVersion{}, fmt.Errorf("nbserv: server version %q: not a version number", s)
		}
		*dst, rest = num, rest[n:]
	}
	v.Suffix = rest
	return v, nil
}

// AtLeast reports whether the version's release is major.minor or later.
// Suffixes are ignored: a 2.0 pre-release counts as 2.0, since
// pre-releases of a version already carry its API.
func (v ServerVersion) AtLeast(major, minor int) bool {
	if v.Major != major {
		return v.Major > major
	}
	return v.Minor >= minor
}

// String returns the version as the server sent it.
func (v ServerVersion) String() string { return v.Raw }

// APISpec is the server's description of its REST API.
type APISpec struct {
	// ContentType is the type the server declared: "text/x-yaml" from
	// Jupyter Server.
	ContentType string
	// Body is the Swagger 2.0 document as sent.
	Body []byte
}

// Spec returns the server's Swagger description of its REST API
// (GET /api/spec.yaml), unparsed. It
// is about 25 KB and, like every answer read whole, bounded by
// Config.MaxResponseBytes. Jupyter calls it experimental and incomplete:
// 1.23.3's lists neither /api/ nor /api/kernelspecs/{name}.
//
// Without a valid token Jupyter does not answer 403 here but redirects to
// its login page; Spec reports an HTML answer as an error matching
// ErrUnauthorized rather than returning the page as the spec.
//
// Python: ApiSpecApi.api_spec_yaml_get.
func (s *ServerService) Spec(ctx context.Context, opts ...CallOption) (*APISpec, error) {
	var body []byte
	r, err := s.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/spec.yaml", Decode: func(b []byte) error {
		body = b
		return nil
	}}, opts)
	if err != nil {
		return nil, err
	}
	ct := r.Header.Get("Content-Type")
	if transport.IsHTML(ct) {
		return nil, &loginPageError{path: s.c.t.BasePath() + "api/spec.yaml"}
	}
	return &APISpec{ContentType: ct, Body: body}, nil
}

// loginPageError is an HTML page where a file was asked for: Jupyter's
// static-file routes redirect a request without a valid token to the login
// page instead of answering 403.
type loginPageError struct{ path string }

func (e *loginPageError) Error() string {
	return "nbserv: GET " + e.path + ": got an HTML page instead of the file (Jupyter's login page: is the token right?)"
}

// Is makes the error match ErrUnauthorized.
func (e *loginPageError) Is(target error) bool { return target == ErrUnauthorized }
