package nbserv

import (
	"context"
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// TerminalsService manages the server's terminals (/api/terminals): shells
// running on the server, which front ends attach to over a WebSocket
// (/terminals/websocket/{name}). Reach it as Client.Terminals; it mirrors
// the Python client's TerminalsApi.
//
// A server without terminado, or started with terminals disabled, has no
// such routes: every call then fails with an error matching
// ErrNotSupported.
type TerminalsService struct{ c *Client }

// Terminal is a running terminal.
type Terminal struct {
	// Name identifies the terminal: "1", "2", ... as Jupyter numbers them,
	// reusing the lowest free number, so a deleted terminal's name comes
	// back with the next one created.
	Name string `json:"name"`
	// LastActivity is when the terminal was created or last had input or
	// output on its WebSocket.
	LastActivity time.Time `json:"last_activity"`
}

// List returns the running terminals (GET /api/terminals), in the order
// they were created.
//
// Python: TerminalsApi.api_terminals_get.
func (t *TerminalsService) List(ctx context.Context, opts ...CallOption) ([]Terminal, error) {
	var list []Terminal
	if _, err := t.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/terminals", Decode: decodeInto(&list)}, opts); err != nil {
		return nil, t.c.notSupported(ctx, "GET /api/terminals", err, opts)
	}
	if list == nil {
		list = []Terminal{}
	}
	return list, nil
}

// Create starts a terminal (POST /api/terminals) and returns it. Jupyter answers 200,
// not 201. Each terminal is a shell process on the server until Delete.
//
// cwd, when not empty, is the directory the shell starts in: an absolute
// path, or one relative to the server's root directory. Jupyter ignores a
// cwd that does not exist (the shell then starts where an empty cwd
// would: in the server process's working directory, which need not be its
// root directory).
//
// Create is sent again only when the server provably did not act on it:
// a terminal started by an attempt whose answer was lost cannot be told
// from the others.
//
// Jupyter also accepts a "name" for the new terminal, but a name already
// in use silently replaces that terminal in its table and leaves the old
// shell running unreachable, so this SDK does not send one.
//
// Python: TerminalsApi.api_terminals_post.
func (t *TerminalsService) Create(ctx context.Context, cwd string, opts ...CallOption) (*Terminal, error) {
	var body any
	if cwd != "" {
		body = struct {
			Cwd string `json:"cwd"`
		}{cwd}
	}
	term := new(Terminal)
	if _, err := t.c.t.Do(ctx, transport.Call{Method: "POST", Path: "api/terminals", Body: body, Decode: decodeInto(term)}, opts); err != nil {
		return nil, t.c.notSupported(ctx, "POST /api/terminals", err, opts)
	}
	return term, nil
}

// Get returns one terminal (GET /api/terminals/{name}). An unknown name
// fails with ErrNotFound.
//
// Python: TerminalsApi.api_terminals_terminal_id_get.
func (t *TerminalsService) Get(ctx context.Context, name string, opts ...CallOption) (*Terminal, error) {
	if err := validWord("name", name); err != nil {
		return nil, err
	}
	term := new(Terminal)
	if _, err := t.c.t.Do(ctx, transport.Call{Method: "GET", Path: "api/terminals/" + name, Decode: decodeInto(term)}, opts); err != nil {
		return nil, t.c.notSupported(ctx, "GET /api/terminals/{name}", err, opts)
	}
	return term, nil
}

// Delete ends a terminal's shell (DELETE /api/terminals/{name}). An
// unknown name fails with ErrNotFound, except when an earlier attempt of
// this call may have deleted the terminal before its answer was lost:
// then the 404 counts as success.
//
// Names are reused: between a lost answer and its retry, another client
// could create a terminal under the same name, which the retry would then
// end. Where that matters, use a client with Config.RetryMax NoRetries.
//
// Python: TerminalsApi.api_terminals_terminal_id_delete.
func (t *TerminalsService) Delete(ctx context.Context, name string, opts ...CallOption) error {
	if err := validWord("name", name); err != nil {
		return err
	}
	if err := transport.Deleted(t.c.t.Do(ctx, transport.Call{Method: "DELETE", Path: "api/terminals/" + name}, opts)); err != nil {
		return t.c.notSupported(ctx, "DELETE /api/terminals/{name}", err, opts)
	}
	return nil
}
