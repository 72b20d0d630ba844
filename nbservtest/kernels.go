package nbservtest

// FailRestarts makes the kernel's next n restarts fail as Jupyter's fail
// when the kernel cannot be started again: a 500 {"message": "Exception
// restarting kernel", "traceback": [...]}. The kernel stays listed, but
// nothing runs in it, so an interrupt answers 500 until a restart
// succeeds. n <= 0 lets restarts succeed again. The error wraps
// ErrNoSuchKernel for an unknown id.
func (s *Server) FailRestarts(kernelID string, n int) error { return s.ref.FailRestarts(kernelID, n) }
