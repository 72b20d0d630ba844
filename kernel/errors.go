package kernel

import (
	"errors"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// The errors of a kernel connection, for errors.Is. ErrKernelRestarted and
// ErrConnClosed are this package's alone; the others are nbserv's (the same
// values), so a caller may match either package's.
var (
	// ErrKernelRestarted matches a request cut short because the kernel
	// restarted (Conn.Restart, another client's restart, or Jupyter
	// restarting a kernel that died): the kernel's state is gone, and the
	// request will never be answered. The Conn reconnects and stays usable.
	ErrKernelRestarted = errors.New("nbserv: kernel restarted")
	// ErrKernelDead matches a request or connection ended because the
	// kernel died and was not restarted, was shut down, or no longer
	// exists. The Conn is finished.
	ErrKernelDead = transport.ErrKernelDead
	// ErrConnClosed matches a call on a Conn after Close, or cut short by
	// it.
	ErrConnClosed = errors.New("nbserv: kernel connection closed")
	// ErrResponseTooLarge matches a message larger than WithMaxMessageBytes,
	// a request whose messages passed WithMaxOutputBytes, or content whose
	// decoded values could pass 8 × WithMaxMessageBytes.
	ErrResponseTooLarge = transport.ErrResponseTooLarge
	// ErrNotSupported matches a Connect asking for WithProtocol(ProtocolV1)
	// from a server that offers only the legacy format (a Jupyter Server
	// before 2.4, or one whose kernels run on Enterprise Gateway).
	ErrNotSupported = transport.ErrNotSupported
	// ErrInvalidArgument matches a *ValidationError: an Option the Conn
	// refused before dialling.
	ErrInvalidArgument = transport.ErrInvalidArgument
	// ErrOutcomeUnknown matches a message whose socket broke while it was
	// written: the kernel may or may not have received it.
	ErrOutcomeUnknown = transport.ErrOutcomeUnknown
	// ErrNotFound matches the server's 404: a kernel it does not know.
	ErrNotFound = transport.ErrNotFound
	// ErrUnauthorized matches a 401 or 403: the token is missing or wrong.
	ErrUnauthorized = transport.ErrUnauthorized
)

// ValidationError reports an Option the Conn refused before dialling; it
// matches ErrInvalidArgument. It is nbserv's ValidationError.
type ValidationError = transport.ValidationError

// CallOption adjusts one REST call (Conn.Interrupt, Conn.Restart); it is
// nbserv's CallOption, so nbserv.WithTimeout and WithResponse apply.
type CallOption = transport.CallOption

// NoTimeout, as WithHandshakeTimeout or WithReconnectTimeout, removes the
// bound: Dial is bounded by its context alone, and reconnecting goes on
// until Close.
const NoTimeout = transport.NoTimeout
