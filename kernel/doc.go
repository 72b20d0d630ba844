// Package kernel runs code in a Jupyter kernel: a Conn is a connection to
// a kernel's channels (the WebSocket at /api/kernels/{id}/channels), and
// the package's types are the messages of the Jupyter messaging protocol,
// version 5.3.
//
// Get a Conn from an nbserv client, for a kernel or for a session's
// kernel:
//
//	conn, err := client.Kernels.Connect(ctx, kernelID)
//	conn, err := client.Sessions.Connect(ctx, sessionID)
//	defer conn.Close()
//	ex, err := conn.Execute(ctx, "print(1+1)")
//	fmt.Print(ex.Stdout())
//
// Connect returns once the kernel has answered; the Conn then runs code
// (Execute collects everything an execution sends; ExecuteStream yields
// outputs as they arrive), answers the kernel's input requests
// (WithStdin), asks for kernel info, completions and help, interrupts and
// restarts the kernel, and sends any other message (Request, Send). It
// reconnects by itself after a dropped WebSocket, a busy kernel's
// included: a request in flight gets its answers on the restored socket,
// or ends with an error saying what is unknown (ErrOutcomeUnknown: never
// sent twice; ErrOutputMayBeLost), and the requests sent once the Conn
// has seen the drop run there (one written on the socket as it drops,
// before the Conn has read its close, may be lost with it, and ends with
// ErrOutcomeUnknown).
// It bounds the memory of every message and request (WithMaxMessageBytes,
// WithMaxOutputBytes).
//
// The Conn reaches the server only through an Endpoint, which opens the
// WebSocket and makes the few REST calls a Conn needs (interrupt,
// restart, whether the kernel still exists, whether it is busy). nbserv's Connect passes its
// own, so the Conn shares the client's token, origin rule, timeouts and error
// mapping; Dial takes any other (a test's, a proxy's). This package does
// not import nbserv.
//
// # Messages
//
// A Message is one message whatever its type; its Content is kept as raw
// JSON and decoded on demand by Decode into the typed content of its
// msg_type (*Stream, *ExecuteReply, …), so a message of a type this
// package does not know, or whose content does not fit, is never lost.
// The notebook parts of messages (MIME bundles, language info) are
// package nbformat's types.
//
// # Errors
//
// The code's exception is an *Error (errors.As), returned by Execute with
// the Execution. A request cut short by a restart matches
// ErrKernelRestarted (the Conn goes on); a kernel that died, was shut down
// or no longer exists ends the Conn with ErrKernelDead; a call after Close
// matches ErrConnClosed; a message or request past its bound,
// ErrResponseTooLarge; an execution whose socket was replaced while it ran
// and that the Conn cannot prove complete, ErrOutputMayBeLost (with what
// arrived); WithProtocol(ProtocolV1) of a server that offers only the
// legacy format, ErrNotSupported. The server's refusals (an unknown kernel, a wrong
// token) are nbserv's *Error, matching ErrNotFound or ErrUnauthorized.
// Where this package and nbserv both name an error (ErrKernelDead,
// ErrNotFound, ErrResponseTooLarge, …) the two are the same value, so
// either package's matches.
package kernel
