package kernel

import (
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Defaults of a kernel connection's settings.
const (
	// DefaultReconnectTimeout is how long a Conn tries to restore a
	// dropped WebSocket (see WithReconnectTimeout).
	DefaultReconnectTimeout = 30 * time.Second
	// DefaultHandshakeTimeout bounds Dial (see WithHandshakeTimeout).
	DefaultHandshakeTimeout = transport.DefaultTimeout
	// DefaultMaxBytes is the default of WithMaxMessageBytes and
	// WithMaxOutputBytes.
	DefaultMaxBytes = transport.DefaultMaxResponseBytes
	// DefaultCheckInterval is how long a Conn waiting for an answer may hear
	// nothing before it asks the REST API whether the kernel still exists
	// (see WithCheckInterval).
	DefaultCheckInterval = 5 * time.Second
	// DefaultWriteInactivity is how long a message being sent may make no
	// progress before its socket is dropped and restored (see
	// WithWriteInactivity).
	DefaultWriteInactivity = 30 * time.Second
)

// Option adjusts a kernel connection (Dial, nbserv's Kernels.Connect).
type Option func(*options)

type options struct {
	handshake  time.Duration
	sessionID  string
	username   string
	protocol   string
	maxMessage int64
	maxOutput  int64
	reconnect  time.Duration // <0: none
	check      time.Duration // <0: none
	writeIdle  time.Duration
	handler    func(*Message)
	invalid    error
}

// WithHandshakeTimeout bounds Dial as a whole, the WebSocket handshake
// and the wait for the kernel's first answer, besides ctx (default
// DefaultHandshakeTimeout; nbserv's Connect passes Config.Timeout).
// NoTimeout leaves Dial bounded by ctx alone.
func WithHandshakeTimeout(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.invalid = &ValidationError{Field: "handshake timeout", Problem: "not positive"}
		}
		o.handshake = d
	}
}

// WithSessionID sets the client session id sent as the session_id query
// and in every message header. Jupyter buffers a disconnected session's
// messages under it and replays them when a connection with the same id
// comes back. By default each Conn gets a new random id; two Conns must
// never share one (Jupyter closes the older).
func WithSessionID(id string) Option {
	return func(o *options) {
		if id == "" {
			o.invalid = &ValidationError{Field: "session id", Problem: "empty"}
		}
		o.sessionID = id
	}
}

// WithUsername sets the username in the headers the Conn sends
// ("go-nbserv" by default).
func WithUsername(name string) Option {
	return func(o *options) { o.username = name }
}

// WithProtocol chooses the WebSocket message format: ProtocolLegacy (JSON
// with a "channel" key) or ProtocolV1 (the v1.kernel.websocket.jupyter.org
// subprotocol; a server that does not accept it fails Connect). By default
// the Conn offers v1 and speaks whichever the server picks.
func WithProtocol(p string) Option {
	return func(o *options) {
		if p != ProtocolLegacy && p != ProtocolV1 {
			o.invalid = &ValidationError{Field: "protocol", Value: p, Problem: "want ProtocolLegacy or ProtocolV1"}
		}
		o.protocol = p
	}
}

// WithMaxMessageBytes bounds the size of one message from the kernel
// (default DefaultMaxBytes; nbserv's Connect passes Config.MaxResponseBytes). A larger message is read through and
// discarded, never held: the request it belongs to fails with
// ErrResponseTooLarge, and the connection goes on.
func WithMaxMessageBytes(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.invalid = &ValidationError{Field: "max message bytes", Problem: "not positive"}
		}
		o.maxMessage = n
	}
}

// WithMaxOutputBytes bounds the messages one request may hold in memory
// (default DefaultMaxBytes; nbserv's Connect passes Config.MaxResponseBytes): for Execute, everything it collects;
// for ExecuteStream, what has arrived and not yet been consumed. Past it,
// the request fails with ErrResponseTooLarge; the kernel goes on running
// the code (Interrupt stops it).
func WithMaxOutputBytes(n int64) Option {
	return func(o *options) {
		if n <= 0 {
			o.invalid = &ValidationError{Field: "max output bytes", Problem: "not positive"}
		}
		o.maxOutput = n
	}
}

// WithReconnectTimeout sets how long a Conn tries to restore a dropped
// WebSocket, with the Endpoint's waits between attempts (default
// DefaultReconnectTimeout). Restored means the kernel answered on a new
// socket, and the socket brought IOPub, within that time; a socket that
// ends before, or on which the kernel gives no answer for the check
// interval (WithCheckInterval, at least 2 s) or the handshake timeout,
// is a failed attempt, and the next waits as after a failed dial. Unless
// the server reports the kernel busy, or starting (Jupyter 1.23.3 can say
// so of a kernel it started while it runs a cell) (Endpoint.ExecutionState, asked each
// such interval and when the time passes): a busy kernel answers only once
// done (ipykernel's control thread not while C code holds the GIL), and
// Jupyter does not nudge one on a new socket either; the restore is then
// over and the socket kept, requests go out on it once the kernel answers,
// and once the server no longer reports the kernel busy, the kernel has
// one more interval to answer before the socket is dropped. When the time
// passes, the Conn ends (Err says why) and its requests fail. NoTimeout
// tries until Close; a negative value disables reconnecting: a drop then
// ends the Conn.
func WithReconnectTimeout(d time.Duration) Option {
	return func(o *options) {
		if d == 0 {
			o.invalid = &ValidationError{Field: "reconnect timeout", Problem: "zero (a negative value disables reconnecting)"}
		}
		o.reconnect = d
	}
}

// WithCheckInterval sets how long a Conn waiting for an answer may hear
// nothing from the kernel before it asks the REST API whether the kernel
// still exists (default DefaultCheckInterval): Jupyter keeps the WebSocket
// of a deleted kernel open and silent, so without this check a request
// could wait forever. At the same time it probes the socket with a
// kernel_info_request on control, which the kernel answers even while it
// runs code. A socket that gives no answer within the interval, on
// which no request waiting has heard back, while the kernel does answer
// the same question on a probe socket of its own (opened for it and
// closed after, bounded by the interval, at least 2 s) and the socket
// still brought nothing meanwhile, is silent (a
// socket that lived through a kernel restart can be); a kernel that
// answers nowhere is busy (ipykernel's leaves control unanswered while C
// code holds the GIL) and its requests go on waiting, while the probe
// sockets come ever more rarely (after 1, 3, 7, then at most 15 silent
// checks: Jupyter nudges the kernel for a minute on each). The Conn drops and
// restores a silent socket, and the requests sent on it end with an error
// matching ErrOutcomeUnknown (the kernel may have run them; they are not
// sent again). A negative value disables the check and the probe.
func WithCheckInterval(d time.Duration) Option {
	return func(o *options) {
		if d == 0 {
			o.invalid = &ValidationError{Field: "kernel check", Problem: "zero (a negative value disables the check)"}
		}
		o.check = d
	}
}

// WithWriteInactivity sets how long a message being sent may make no
// progress (the server reading none of it) before the Conn drops the
// socket and restores it (default DefaultWriteInactivity). It bounds
// inactivity, not the whole write: a large message on a slow link goes out
// as long as it keeps moving. A request whose message was cut off this way
// ends with an error matching ErrOutcomeUnknown and is not sent again;
// the requests queued behind it go out on the restored socket. Each
// request's own context bounds its wait whatever this is. NoTimeout
// removes the bound.
func WithWriteInactivity(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.invalid = &ValidationError{Field: "write inactivity", Problem: "not positive"}
		}
		o.writeIdle = d
	}
}

// WithMessageHandler receives every message that no call of this Conn is
// waiting for: comm messages (an execution's comm_open included), outputs
// of other clients' executions, late messages of a call that stopped
// waiting (such as the IOPub status that follows a KernelInfo, Complete
// or Request reply), the kernel's own status, and frames that are not messages
// (Message.Err set). It runs on the Conn's reading goroutine, one message
// at a time in arrival order, and must return quickly and not wait for
// the Conn (no Execute inside it): hand such work to another goroutine.
func WithMessageHandler(f func(*Message)) Option {
	return func(o *options) { o.handler = f }
}
