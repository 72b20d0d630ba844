package nbserv

import (
	"context"
	"fmt"
)

// Connect opens a connection to a kernel's channels (the WebSocket at
// /api/kernels/{id}/channels), to run code in it: see Conn. It returns
// once the kernel has answered a kernel_info_request (Conn.Info), within
// ctx and Config.Timeout. An unknown kernel fails with ErrNotFound.
//
// The token goes in the Authorization header, never in the URL, and, as
// for every call, only to the base URL's origin.
func (k *KernelsService) Connect(ctx context.Context, kernelID string, opts ...ConnectOption) (*Conn, error) {
	return k.c.connect(ctx, kernelID, opts)
}

// Connect opens a connection to the channels of a session's kernel, the
// kernel the session has now (it is read first, as sessions can switch
// kernels): see Kernels.Connect and Conn. An unknown session fails with
// ErrNotFound, a session without a kernel with ErrKernelDead.
func (s *SessionsService) Connect(ctx context.Context, sessionID string, opts ...ConnectOption) (*Conn, error) {
	sess, err := s.Get(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if sess.Kernel == nil || sess.Kernel.ID == "" {
		return nil, fmt.Errorf("%w: session %s has no kernel", ErrKernelDead, sessionID)
	}
	return s.c.connect(ctx, sess.Kernel.ID, opts)
}
