package refserver

// What the REST kernel actions (interrupt, restart) do to a kernel's
// process, as clients of its channels see it. kernelAction (kernels.go)
// calls these hooks.

import (
	"net/http"
)

// interruptKernel is the SIGINT Jupyter sends: a running execution ends
// with KeyboardInterrupt at its next wait; an idle kernel ignores it. The
// caller holds s.mu.
func (s *Server) interruptKernel(k *kernel) { s.interrupt(s.runtime(k)) }

// restartProcess restarts a kernel's process as Jupyter's KernelManager
// does: an interrupt, a shutdown_request the kernel announces on iopub, a
// new process once the old one has finished its request (queued execute
// requests being aborted), and a kernel_info request to it. The caller
// must not hold s.mu: the old process's last request finishes meanwhile.
// It reports false if the kernel was deleted in the meantime.
func (s *Server) restartProcess(r *http.Request, k *kernel) bool {
	s.mu.Lock()
	rt := s.runtime(k)
	s.shutdownSequence(rt, true)
	done := rt.worker
	s.mu.Unlock()
	if done != nil {
		select { // the worker's waits all end on the interrupt
		case <-done:
		case <-r.Context().Done():
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt.gone {
		return false
	}
	rt.dying = false
	for i := range rt.queue {
		rt.queue[i] = nil
	}
	rt.queue, rt.queuedBytes = rt.queue[:0], 0
	s.startProcess(rt)
	parent := s.kmRequest(rt, "kernel_info_request")
	s.setStatus(rt, "busy", parent)
	s.setStatus(rt, "idle", parent)
	return true
}
