// Package nbserv is a Go client for the Jupyter Server REST API: sessions,
// kernels and the rest of what the Python nbserv_client offers, with typed
// models and errors, retries only where they are safe, bounded memory, and
// a token that never leaves its origin.
//
// Build one Client per server and share it; it is safe for concurrent use:
//
//	c, err := nbserv.NewClient(nbserv.Config{
//		BaseURL: "https://hub.example.org/user/alice/", // prefix included
//		Token:   nbserv.Secret(os.Getenv("JUPYTER_TOKEN")),
//	})
//	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "analysis.ipynb", Type: nbserv.SessionNotebook})
//
// Each API class of the Python client is a service on Client, with
// methods named for what they do and documented with the Python method
// they mirror: Client.Sessions (SessionsApi), Client.Kernels
// (KernelsApi), and so on. Every call takes a context first and optional
// CallOptions: WithTimeout, WithHeader, and WithResponse for the HTTP
// status, headers (the Location of a create) and raw body.
//
// # Errors
//
// A non-2xx answer is an *Error carrying the status and Jupyter's message,
// reason, short_message and traceback; errors.Is matches it against
// ErrBadRequest, ErrUnauthorized, ErrNotFound, ErrConflict, ErrKernelGone,
// ErrKernelUnavailable, ErrRedirect or ErrServer. Arguments that can never
// be valid fail before any request with a *ValidationError matching
// ErrInvalidArgument. A call that creates something and whose answer was
// lost fails with an error matching ErrOutcomeUnknown rather than risk
// doing the work twice. Context cancellation and deadlines stay reachable
// with errors.Is. The token never appears in an error string, String
// output, JSON, a log record or a URL.
//
// # Reliability
//
// Connection errors and 429, 502, 503 and 504 answers are retried with
// jittered exponential backoff honouring Retry-After, but a call that
// creates or changes something is re-sent only when the server provably
// did not act on it. Every call has a timeout; response bodies are
// size-capped and decoding is bounded to a multiple of the cap. See
// Config and the README's Reliability section.
//
// # Testing
//
// Package nbservtest runs an in-process reference server that answers
// exactly like Jupyter Server, with fault injection, so code using this
// package can be tested in milliseconds without Python.
package nbserv
