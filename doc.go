// Package nbserv is a Go client for the Jupyter Server REST API, starting
// with its sessions service: the API that ties a path (a notebook, a file,
// a console) to a running kernel.
//
// Build one Client per server and share it; it is safe for concurrent use:
//
//	c, err := nbserv.NewClient(nbserv.Config{
//		BaseURL: "https://hub.example.org/user/alice/", // prefix included
//		Token:   os.Getenv("JUPYTER_TOKEN"),
//	})
//	s, err := c.Sessions.Create(ctx, nbserv.CreateSessionRequest{Path: "analysis.ipynb", Type: nbserv.TypeNotebook})
//
// The methods of Client.Sessions mirror the Python client's SessionsApi:
// List, Create, Get, Rename, Update (the whole PATCH, including switching
// kernels) and Delete. Client.Kernels covers what managing sessions needs
// of /api/kernels.
//
// Every call takes a context first and optional CallOptions: WithTimeout,
// WithHeader, and WithResponse for the HTTP status, headers (the Location
// of a create) and raw body.
//
// # Errors
//
// A non-2xx answer is an *Error carrying the status and Jupyter's message,
// reason, short_message and traceback; errors.Is matches it against
// ErrBadRequest, ErrUnauthorized, ErrNotFound, ErrKernelGone,
// ErrKernelUnavailable or ErrServer. Arguments that can never be valid (an
// empty or malformed id, a missing path or type) fail before any request
// with a *ValidationError matching ErrInvalidArgument. Context
// cancellation and deadlines stay reachable with errors.Is. The token never
// appears in an error string, String output or a URL.
//
// # Reliability
//
// Connection errors and 429, 502, 503 and 504 answers are retried with
// jittered exponential backoff honouring Retry-After; every call has a
// timeout and response bodies are size-capped. See Config.
//
// # Testing
//
// Package nbservtest runs an in-process reference server that answers
// exactly like Jupyter Server 1.23, with fault injection, so code using
// this package can be tested in milliseconds without Python.
package nbserv
