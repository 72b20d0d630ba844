package nbserv

import "context"

// KernelsService reads, starts and stops kernels (/api/kernels), as far as
// managing sessions needs: checking that a switched-away kernel is gone,
// attaching a session to a kernel started beforehand.
type KernelsService struct{ c *Client }

// List returns the running kernels (GET /api/kernels).
func (k *KernelsService) List(ctx context.Context, opts ...CallOption) ([]Kernel, error) {
	var list []Kernel
	_, err := k.c.do(ctx, call{method: "GET", path: "api/kernels", decode: decodeInto(&list)}, opts)
	if err == nil && list == nil {
		list = []Kernel{}
	}
	return list, err
}

// Get returns one kernel (GET /api/kernels/{id}); unknown ids fail with
// ErrNotFound.
func (k *KernelsService) Get(ctx context.Context, id string, opts ...CallOption) (*Kernel, error) {
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return nil, err
	}
	kern := new(Kernel)
	if _, err := k.c.do(ctx, call{method: "GET", path: path, decode: decodeInto(kern)}, opts); err != nil {
		return nil, err
	}
	return kern, nil
}

// Start starts a kernel of the named kernelspec (POST /api/kernels); an
// empty name starts the server's default.
func (k *KernelsService) Start(ctx context.Context, name string, opts ...CallOption) (*Kernel, error) {
	body := struct {
		Name string `json:"name,omitempty"`
	}{name}
	kern := new(Kernel)
	if _, err := k.c.do(ctx, call{method: "POST", path: "api/kernels", body: body, decode: decodeInto(kern)}, opts); err != nil {
		return nil, err
	}
	return kern, nil
}

// Delete shuts a kernel down (DELETE /api/kernels/{id}); the sessions on
// it disappear.
func (k *KernelsService) Delete(ctx context.Context, id string, opts ...CallOption) error {
	path, err := idPath("api/kernels/", id)
	if err != nil {
		return err
	}
	_, err = k.c.do(ctx, call{method: "DELETE", path: path}, opts)
	return err
}
