// Package nbserv is a Go client for the Jupyter Server REST API: sessions,
// contents, kernels, kernelspecs, terminals, server status, config
// sections and identity, with typed models and errors, retries only where
// they are safe, bounded memory, and a token that never leaves its origin.
//
// Build one Client per server and share it; it is safe for concurrent use:
//
//	c, err := nbserv.NewClient(nbserv.Config{
//		BaseURL: "https://hub.example.org/user/alice/", // prefix included
//		Token:   nbserv.NewSecret(os.Getenv("JUPYTER_TOKEN")),
//	})
//	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "analysis.ipynb", Type: nbserv.SessionNotebook})
//
// Each API class of the Python nbserv_client is a service on Client, with
// methods named for what they do and documented with the Python method
// they mirror: Client.Sessions (SessionsApi), Client.Kernels
// (KernelsApi), Client.Contents (ContentsApi), and so on. Every call takes
// a context first and optional CallOptions last: WithTimeout, WithHeader,
// and WithResponse for the HTTP status, headers (the Location of a
// create) and raw body.
//
// # The packages
//
// This package is the REST client. Three others hold what it hands out,
// so that each reads as one thing:
//
//   - Package kernel runs code. Client.Kernels.Connect (or
//     Client.Sessions.Connect, for a session's kernel) returns a
//     *kernel.Conn, the kernel's channels WebSocket: Execute, input,
//     completions, interrupt and restart, and the messages of the Jupyter
//     messaging protocol as Go types. Package kernel does not import this
//     one; it reaches the server through a kernel.Endpoint, which the
//     Client provides.
//   - Package nbformat is the notebook document. Client.Contents.GetNotebook
//     returns a *nbformat.Notebook and SaveNotebook writes one; kernel
//     messages carry its MIMEBundle and LanguageInfo.
//   - Package hub manages users' servers through JupyterHub's API and
//     returns an nbserv Client for each user's server.
//
// A terminal's WebSocket stays in this package: Client.Terminals.Connect
// returns a *TerminalConn (Write, Next, ReadUntil, Resize, Close).
// Terminado's protocol is a handful of JSON arrays on one socket, with no
// REST call of its own to make, so a package with an Endpoint, as kernel
// has, would be more code than the connection.
//
// Package nbexec builds on kernel and nbformat: nbexec.Run executes a
// whole notebook through a *kernel.Conn, as nbclient does.
//
// Package nbservtest runs an in-process reference server that answers as
// Jupyter Server 2.x or 1.x does, kernels included, with controls to
// provoke a real server's failures, so code using these packages can be
// tested in milliseconds without Python. One transport, internal to the
// module, makes every HTTP request of nbserv, kernel and hub, so the
// errors, retries and bounds below hold for all three.
//
// # Errors
//
// A non-2xx answer is an *Error carrying the status and Jupyter's message,
// reason, short_message and traceback; errors.Is matches it against
// ErrBadRequest, ErrUnauthorized, ErrNotFound, ErrConflict, ErrKernelGone,
// ErrKernelUnavailable, ErrRedirect, ErrServer, and JupyterHub's
// ErrServerNotRunning and ErrLoginRequired. Arguments that can never be
// valid fail before any request with a *ValidationError matching
// ErrInvalidArgument. A call that creates something and whose answer was
// lost fails with an error matching ErrOutcomeUnknown rather than risk
// doing the work twice. Context cancellation and deadlines stay reachable
// with errors.Is. The token never appears in an error string, String
// output, JSON, a log record or a URL. Package kernel's errors (the code's
// exception as a *kernel.Error, ErrKernelRestarted, ErrConnClosed) are its
// own; the values the two packages share, such as ErrKernelDead and
// ErrResponseTooLarge, are the same in both.
//
// # Reliability
//
// Connection errors and 429, 502, 503 and 504 answers are retried with
// jittered exponential backoff honouring Retry-After, but a call that
// creates or changes something is re-sent only when the server provably
// did not act on it. Every call has a timeout; response bodies are
// size-capped and decoding is bounded to a multiple of the cap. See
// Config and the README's Reliability section.
package nbserv
