package nbserv

import (
	"fmt"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.3.0"

// Client talks to one Jupyter Server. It is safe for concurrent use; create
// one per server and reuse it, so that connections are reused.
type Client struct {
	// Sessions manages sessions: /api/sessions.
	Sessions *SessionsService
	// Kernels reads, starts and stops kernels: /api/kernels.
	Kernels *KernelsService
	// KernelSpecs lists installable kernels and serves their logos.
	KernelSpecs *KernelSpecsService
	// Server reports the server's status, version and API spec.
	Server *ServerService
	// ConfigSections reads and merges frontend config: /api/config.
	ConfigSections *ConfigSectionsService
	// Identity tells who the token belongs to: /api/me (Jupyter Server 2.x).
	Identity *IdentityService
	// Terminals manages terminals: /api/terminals.
	Terminals *TerminalsService
	// Contents reads and writes files, notebooks and directories:
	// /api/contents, and /files for large downloads.
	Contents *ContentsService

	t *transport.Client // the one transport: requests, retries, errors
}

// NewClient validates cfg and returns a Client. A malformed BaseURL or a
// negative setting is an error here, not at the first call.
func NewClient(cfg Config) (*Client, error) {
	t, err := transport.New(transport.Settings{Config: transport.Config(cfg), Name: "nbserv", Product: "go-nbserv/" + Version})
	if err != nil {
		return nil, err
	}
	c := &Client{t: t}
	c.Sessions = &SessionsService{c: c}
	c.Kernels = &KernelsService{c: c}
	c.KernelSpecs = &KernelSpecsService{c: c}
	c.Server = &ServerService{c: c}
	c.ConfigSections = &ConfigSectionsService{c: c}
	c.Identity = &IdentityService{c: c}
	c.Terminals = &TerminalsService{c: c}
	c.Contents = &ContentsService{c: c}
	return c, nil
}

// BaseURL returns the server's base URL, always ending in "/".
func (c *Client) BaseURL() string { return c.t.BaseURL() }

// String describes the client without its token.
func (c *Client) String() string {
	return fmt.Sprintf("nbserv.Client{BaseURL: %q}", c.t.BaseURL())
}

// GoString is String, so that %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// CloseIdleConnections closes the client's idle keep-alive connections,
// for a program or test that is done with the server.
func (c *Client) CloseIdleConnections() { c.t.CloseIdleConnections() }
