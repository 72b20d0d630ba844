package kernel

import (
	"context"
	"time"

	"github.com/coder/websocket"
)

// Endpoint is what a Conn needs of the server besides the WebSocket's
// messages: a way to open the kernel's channels, the REST calls that act
// on the kernel, and the client's waits. nbserv's Client implements it
// (Kernels.Connect and Sessions.Connect pass it to Dial), so this package
// never imports nbserv; a test can give Dial an Endpoint of its own.
//
// The CallOptions of Interrupt and Restart are the caller's of
// Conn.Interrupt and Conn.Restart (nbserv.WithTimeout, WithResponse, …),
// meant for an nbserv call: an Endpoint of another kind cannot read them
// and may ignore them, or pass them to an nbserv call of its own.
type Endpoint interface {
	// KernelID returns the id of the kernel.
	KernelID() string
	// DialChannels opens the kernel's channels WebSocket for the client
	// session sessionID (the session_id query), offering subprotocols,
	// with the client's headers (the token), redirect policy and
	// redaction. An HTTP refusal is nbserv's *Error of the server's answer (an
	// unknown kernel: one matching ErrNotFound; a wrong token:
	// ErrUnauthorized).
	DialChannels(ctx context.Context, sessionID string, subprotocols []string) (*websocket.Conn, error)
	// Interrupt interrupts the kernel (POST /api/kernels/{id}/interrupt),
	// failing as the REST client's own interrupt does.
	Interrupt(ctx context.Context, opts ...CallOption) error
	// Restart restarts the kernel (POST /api/kernels/{id}/restart),
	// failing as the REST client's own restart does: a kernel the server
	// no longer knows matches ErrNotFound.
	Restart(ctx context.Context, opts ...CallOption) error
	// Check asks the server whether the kernel still exists, for a Conn
	// whose requests have waited in silence (Jupyter keeps a deleted
	// kernel's WebSocket open and silent). An error matching ErrKernelDead
	// (wrapping ErrNotFound when the server no longer knows the kernel)
	// ends the Conn; any other error is ignored, and the check repeated.
	Check(ctx context.Context) error
	// ExecutionState returns the kernel's execution_state as the server
	// reports it (GET /api/kernels/{id}): StateBusy while the kernel runs a
	// request. A Conn asks it when the kernel leaves a restored socket
	// unanswered: a busy kernel answers only once done, and the socket is
	// kept meanwhile (see WithReconnectTimeout).
	ExecutionState(ctx context.Context) (string, error)
	// ReconnectWait is how long to wait before reconnection attempt
	// attempt+1 (counted from 0), and whether to try at all: false when
	// the wait would pass deadline (zero: none).
	ReconnectWait(attempt int, deadline time.Time) (time.Duration, bool)
}
