package nbserv

import (
	"context"
	"errors"

	"github.com/nbserv/go-nbserv/kernel"
)

// KernelSource starts, connects to and deletes kernels on Client's server
// (a Jupyter Server, a hub user's server, or Enterprise Gateway directly)
// for package nbexec's RunMany, which spreads many notebooks over the
// kernels of several sources. It implements nbexec.KernelSource with
// Kernels.Start, Kernels.Connect and Kernels.Delete; nbexec does not
// import nbserv, so the adapter lives here.
type KernelSource struct {
	// Client is the server's client.
	Client *Client
	// Env is sent with every start (StartKernelRequest.Env): what
	// Enterprise Gateway reads, such as KERNEL_USERNAME; Jupyter Server
	// ignores it.
	Env map[string]string
	// StartOptions are passed to every Kernels.Start: a gateway whose
	// kernels take minutes to start on a cluster wants
	// WithTimeout(5*time.Minute), longer than its launch timeout, rather
	// than a Config.Timeout that long for every call. A start that times
	// out on the client may still finish on the server, whose answer would
	// have named the kernel: nobody can delete it then (the server's
	// culler may), so keep this bound above the server's own.
	StartOptions []CallOption
	// Options are passed to every Kernels.Connect.
	Options []kernel.Option
}

// StartKernel starts a kernel of the kernelspec name (empty: the server's
// default) in the directory path and returns its id; the client's Timeout
// bounds it, or StartOptions' WithTimeout (nbexec.RunMany passes a context
// its cancel does not reach).
func (s KernelSource) StartKernel(ctx context.Context, name, path string) (string, error) {
	k, err := s.Client.Kernels.Start(ctx, StartKernelRequest{Name: name, Path: path, Env: s.Env}, s.StartOptions...)
	if err != nil {
		return "", err
	}
	return k.ID, nil
}

// ConnectKernel opens the channels of the kernel id (Kernels.Connect).
func (s KernelSource) ConnectKernel(ctx context.Context, id string) (*kernel.Conn, error) {
	return s.Client.Kernels.Connect(ctx, id, s.Options...)
}

// DeleteKernel deletes the kernel id; one the server no longer knows (it
// died, or was culled) is gone already, so that is no error.
func (s KernelSource) DeleteKernel(ctx context.Context, id string) error {
	if err := s.Client.Kernels.Delete(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// String is the server's base URL, which holds no credentials.
func (s KernelSource) String() string { return s.Client.BaseURL() }
