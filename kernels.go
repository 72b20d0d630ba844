package nbserv

import (
	"context"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// KernelsService reads, starts and stops kernels (/api/kernels). Reach it
// as Client.Kernels; the methods mirror the Python client's KernelsApi.
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

// Start starts a kernel of the named kernelspec (POST /api/kernels); an
// empty name starts the server's default.
//
// Start is sent again only when the server provably did not act on it: a
// kernel started by an attempt whose answer was lost cannot be told from
// other kernels, so the error then matches ErrOutcomeUnknown and a kernel
// may be running.
//
// Python: KernelsApi.api_kernels_post.
func (k *KernelsService) Start(ctx context.Context, name string, opts ...CallOption) (*Kernel, error) {
	body := struct {
		Name string `json:"name,omitempty"`
	}{name}
	return transport.DoDecode(ctx, k.c.t, transport.Call{Method: "POST", Path: "api/kernels", Body: body}, decodeKernel, opts)
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
