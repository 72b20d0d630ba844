package nbserv

import (
	"context"
	"errors"
	"fmt"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// The kernel actions of KernelsService (kernels.go): interrupt and restart.

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
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return nil, err
	}
	if _, err := k.c.t.Do(ctx, transport.Call{Method: "POST", Path: path + "/interrupt"}, opts); err != nil {
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
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return nil, err
	}
	kern := new(Kernel)
	_, err = k.c.t.Do(ctx, transport.Call{Method: "POST", Path: path + "/restart", Decode: decodeInto(kern)}, opts)
	if errors.Is(err, ErrServer) {
		var e *Error
		if _, gerr := k.Get(ctx, id, transport.WithoutResponse(opts)...); errors.Is(gerr, ErrNotFound) && errors.As(gerr, &e) && transport.IsJSON(e.Body) {
			return nil, &missingKernelError{id: id, err: err}
		}
	}
	if err != nil {
		return nil, err
	}
	return kern, nil
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
