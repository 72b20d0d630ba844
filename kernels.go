package nbserv

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv/internal/transport"
	"github.com/nbserv/go-nbserv/kernel"
)

// KernelsService reads, starts and stops kernels (/api/kernels), acts on
// them (interrupt, restart), and connects to their channels (Connect).
// Reach it as Client.Kernels; the REST methods mirror the Python client's
// KernelsApi.
type KernelsService struct{ c *Client }

// List returns the running kernels (GET /api/kernels).
//
// Python: KernelsApi.api_kernels_get.
func (k *KernelsService) List(ctx context.Context, opts ...CallOption) ([]Kernel, error) {
	return transport.DoDecode(ctx, k.c.t, transport.Call{Method: "GET", Path: "api/kernels"}, decodeKernels, opts)
}

// Get returns one kernel (GET /api/kernels/{id}); unknown ids fail with
// ErrNotFound.
//
// Python: KernelsApi.api_kernels_kernel_id_get.
func (k *KernelsService) Get(ctx context.Context, id string, opts ...CallOption) (*Kernel, error) {
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return nil, err
	}
	return transport.DoDecode(ctx, k.c.t, transport.Call{Method: "GET", Path: path}, decodeKernel, opts)
}

// StartKernelRequest is what Kernels.Start sends: every field is optional.
type StartKernelRequest struct {
	// Name is the kernelspec to start, such as "python3"; empty starts
	// the server's default.
	Name string `json:"name,omitempty"`
	// Path is the kernel's working directory, relative to the server's
	// root directory ("/" is the root itself). Empty leaves it to the
	// server, which, Jupyter Server 1.x and 2.x alike, starts the kernel in
	// its own process's working directory, not in its root
	// (docs/wire/nbexec.md NB1).
	Path string `json:"path,omitempty"`
	// Env is the kernel's environment as Jupyter Enterprise Gateway reads
	// it, when the client talks to the gateway directly: the gateway starts
	// the kernel with these variables, and its process proxies read the
	// KERNEL_* ones to choose who, where and how: KERNEL_USERNAME (the
	// gateway refuses a start whose user is in its unauthorized_users,
	// root by default, with ErrForbidden; without one it takes its own
	// user's), KERNEL_NAMESPACE, KERNEL_IMAGE, … on Kubernetes
	// (docs/wire/gateway.md GW4, GW5). Jupyter Server ignores it, and a
	// Jupyter Server started with --gateway-url does not pass it on: it
	// sends the gateway its own process's KERNEL_* environment instead
	// (set those where that server runs).
	Env map[string]string `json:"env,omitempty"`
	// ID asks Jupyter Server 2.x to start the kernel under this id (a
	// UUID the client chose): if a kernel with the id is already running,
	// 2.x returns it instead of starting another, so a Start with an ID is
	// safe to send again after its answer was lost, and is. Jupyter
	// Server 1.x ignores it and mints an id of its own (docs/wire/kernels.md
	// K20).
	ID string `json:"kernel_id,omitempty"`
}

// Start starts a kernel (POST /api/kernels) as req asks; the zero
// request starts the server's default kernelspec.
//
// Without req.ID, Start is sent again only when the server provably did
// not act on it: a kernel started by an attempt whose answer was lost
// cannot be told from other kernels, so the error then matches
// ErrOutcomeUnknown and a kernel may be running. With req.ID, a 2.x
// server answers a repeated Start with the kernel the first one started,
// so Start is retried as a GET would be (on a 1.x server, which ignores
// the id, that may start a second kernel).
//
// Python: KernelsApi.api_kernels_post.
func (k *KernelsService) Start(ctx context.Context, req StartKernelRequest, opts ...CallOption) (*Kernel, error) {
	if req.ID != "" {
		if _, err := idPath("api/kernels/", req.ID); err != nil {
			return nil, err
		}
	}
	return transport.DoDecode(ctx, k.c.t, transport.Call{Method: "POST", Path: "api/kernels", Body: req, Idempotent: req.ID != ""}, decodeKernel, opts)
}

// Delete shuts a kernel down (DELETE /api/kernels/{id}); the sessions on
// it disappear. An unknown id fails with ErrNotFound, except when an
// earlier attempt of this call may have shut the kernel down before its
// answer was lost: then Delete succeeds.
//
// Python: KernelsApi.api_kernels_kernel_id_delete.
func (k *KernelsService) Delete(ctx context.Context, id string, opts ...CallOption) error {
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return err
	}
	return transport.Deleted(k.c.t.Do(ctx, transport.Call{Method: "DELETE", Path: path}, opts))
}

// Interrupt interrupts a kernel, as the stop button of a notebook does
// (POST /api/kernels/{id}/interrupt), then reads the kernel back
// (GET /api/kernels/{id}) and returns it, so the caller sees its state
// after the interrupt. An unknown id fails with ErrNotFound.
//
// Jupyter answers the interrupt itself with an empty 204: it signals the
// kernel (or sends it an interrupt_request, per the kernelspec's
// interrupt_mode) and does not wait for the kernel to react, so the state
// returned may still be "busy" for a moment. If the interrupt succeeded but
// reading the kernel back failed, the error says so and wraps the read's
// error; a WithResponse option reports the interrupt's answer (a 204 means
// it was sent), not the read's.
//
// Like every POST, the interrupt is sent again only when the server
// provably did not act on it: a second interrupt could stop the next cell.
//
// Python: KernelsApi.api_kernels_kernel_id_interrupt_post.
func (k *KernelsService) Interrupt(ctx context.Context, id string, opts ...CallOption) (*Kernel, error) {
	if err := k.act(ctx, id, "interrupt", nil, opts); err != nil {
		return nil, err
	}
	kern, err := k.Get(ctx, id, transport.WithoutResponse(opts)...)
	if err != nil {
		return nil, fmt.Errorf("nbserv: kernel %s interrupted, but reading it back failed: %w", id, err)
	}
	return kern, nil
}

// Restart restarts a kernel in place (POST /api/kernels/{id}/restart) and
// returns it as the server reports it afterwards: the same id, and the execution_state
// of the new process, "idle" once it is ready ("starting" for a kernel
// restarted before it had finished starting). Jupyter Server 1.x counts
// the restart as activity (a later last_activity); 2.x leaves
// last_activity as it was. Sessions on the kernel keep it.
//
// A kernel that fails to restart is a 500 (ErrServer) with the message
// "Exception restarting kernel". Jupyter answers that same 500 for an id
// it does not know; Restart then asks the server (GET /api/kernels/{id})
// and, on a 404, returns an error that matches ErrNotFound as well as
// ErrServer, and still unwraps to the 500's *Error.
//
// Like every POST, the restart is sent again only when the server provably
// did not act on it.
//
// Python: KernelsApi.api_kernels_kernel_id_restart_post.
func (k *KernelsService) Restart(ctx context.Context, id string, opts ...CallOption) (*Kernel, error) {
	kern := new(Kernel)
	if err := k.act(ctx, id, "restart", decodeInto(kern), opts); err != nil {
		return nil, err
	}
	return kern, nil
}

// act sends an action on a kernel (POST /api/kernels/{id}/{action}),
// decoding a 2xx body with decode if not nil. It is the one request of
// both Kernels' and a Conn's interrupt and restart, so they fail alike: a
// 500 for a kernel the server no longer knows (Jupyter wraps every
// restart error, the unknown id's 404 included) is confirmed with a GET
// and then matches ErrNotFound too (missingKernelError).
func (k *KernelsService) act(ctx context.Context, id, action string, decode func([]byte) error, opts []CallOption) error {
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return err
	}
	_, err = k.c.t.Do(ctx, transport.Call{Method: "POST", Path: path + "/" + action, Decode: decode}, opts)
	if errors.Is(err, ErrServer) {
		var e *Error
		if _, gerr := k.Get(ctx, id, transport.WithoutResponse(opts)...); errors.Is(gerr, ErrNotFound) && errors.As(gerr, &e) && transport.IsJSON(e.Body) {
			return &missingKernelError{id: id, err: err}
		}
	}
	return err
}

// missingKernelError is Jupyter's 500 on restarting a kernel id it does
// not know, once a GET has confirmed the kernel does not exist.
type missingKernelError struct {
	id  string
	err error // the 500
}

func (e *missingKernelError) Error() string {
	return e.err.Error() + " (kernel " + e.id + " does not exist)"
}

// Is makes the error match ErrNotFound; ErrServer and the *Error are
// reached through Unwrap.
func (e *missingKernelError) Is(target error) bool { return target == ErrNotFound }

func (e *missingKernelError) Unwrap() error { return e.err }

// Connect opens a connection to a kernel's channels (the WebSocket at
// /api/kernels/{id}/channels), to run code in it: see kernel.Conn. It
// returns once the kernel has answered a kernel_info_request
// (Conn.Info), within ctx and Config.Timeout. An unknown kernel fails
// with ErrNotFound.
//
// The Conn's defaults come from the client: its messages are bounded by
// Config.MaxResponseBytes, its handshake by Config.Timeout, and it waits
// the retry waits between reconnections; opts override the first two.
// The token goes in the Authorization header, never in the URL, and, as
// for every call, only to the base URL's origin.
func (k *KernelsService) Connect(ctx context.Context, kernelID string, opts ...kernel.Option) (*kernel.Conn, error) {
	path, err := idPath("api/kernels/", kernelID)
	if err != nil {
		return nil, err
	}
	t := k.c.t
	defaults := []kernel.Option{kernel.WithHandshakeTimeout(t.Timeout()),
		kernel.WithMaxMessageBytes(t.MaxBody()), kernel.WithMaxOutputBytes(t.MaxBody())}
	return kernel.Dial(ctx, &endpoint{k: k, id: kernelID, path: path}, append(defaults, opts...)...)
}

// endpoint is a kernel as a Conn reaches it through the client: the
// Endpoint nbserv gives kernel.Dial.
type endpoint struct {
	k    *KernelsService
	id   string
	path string // api/kernels/{id}, escaped
}

func (e *endpoint) KernelID() string { return e.id }

func (e *endpoint) DialChannels(ctx context.Context, sessionID string, subprotocols []string) (*websocket.Conn, error) {
	return e.k.c.t.DialWebSocket(ctx, e.path+"/channels", url.Values{"session_id": {sessionID}}, subprotocols)
}

func (e *endpoint) Interrupt(ctx context.Context, opts ...CallOption) error {
	return e.k.act(ctx, e.id, "interrupt", nil, opts)
}

func (e *endpoint) Restart(ctx context.Context, opts ...CallOption) error {
	return e.k.act(ctx, e.id, "restart", nil, opts)
}

func (e *endpoint) Check(ctx context.Context) error {
	kern, err := e.k.Get(ctx, e.id)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: the kernel no longer exists: %w", ErrKernelDead, err)
	case err == nil && kern.ExecutionState == StateDead:
		return fmt.Errorf("%w: the server reports the kernel dead", ErrKernelDead)
	}
	return err
}

func (e *endpoint) ExecutionState(ctx context.Context) (string, error) {
	kern, err := e.k.Get(ctx, e.id)
	if err != nil {
		return "", err
	}
	return kern.ExecutionState, nil
}

func (e *endpoint) ReconnectWait(attempt int, deadline time.Time) (time.Duration, bool) {
	return e.k.c.t.RetryWait(attempt, nil, deadline)
}
