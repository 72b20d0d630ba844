package refserver

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

type kernelModel struct {
	ID             string `json:"id"`
	Name           string `json:"name"`
	LastActivity   string `json:"last_activity"`
	ExecutionState string `json:"execution_state"`
	Connections    int    `json:"connections"`
}

func (k *kernel) model() kernelModel {
	return kernelModel{ID: k.id, Name: k.name, LastActivity: isoformat(k.lastActivity), ExecutionState: k.state,
		Connections: k.connections()}
}

// startKernel simulates a kernel start. A real kernel reports "starting"
// until a client connects to its channels (channels.go), which REST-only
// clients never do. The caller holds s.mu and has checked the name.
func (s *Server) startKernel(name string) *kernel {
	k := &kernel{id: newID(), name: name, lastActivity: time.Now().UTC(), state: "starting"}
	s.kernels[k.id] = k
	s.kOrder = append(s.kOrder, k)
	return k
}

// shutdownKernel removes a kernel; sessions on it are pruned when next
// read. The caller holds s.mu.
func (s *Server) shutdownKernel(id string) {
	k := s.kernels[id]
	if k == nil {
		return
	}
	s.stopRuntime(k)
	delete(s.kernels, id)
	if i := slices.Index(s.kOrder, k); i >= 0 {
		s.kOrder = slices.Delete(s.kOrder, i, i+1)
	}
}

func (s *Server) hasSpec(name any) bool {
	str, ok := name.(string)
	return ok && slices.Contains(s.specs, str)
}

func (s *Server) kernelsRoot(r *http.Request, _ string) reply {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		list := make([]kernelModel, len(s.kOrder))
		for i, k := range s.kOrder {
			list[i] = k.model()
		}
		return reply{status: http.StatusOK, body: list}
	}
	v, err := readJSON(r)
	if err != nil && err != errNoJSON {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	name := any(s.specs[0])
	if model, ok := v.(map[string]any); ok {
		if n, ok := model["name"]; ok {
			name = n
		}
	} else if v != nil {
		return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'setdefault'", pyType(v)))
	}
	if !s.hasSpec(name) {
		return crashReply("jupyter_client.kernelspec.NoSuchKernel: No such kernel named " + pyStr(name))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.startKernel(name.(string))
	return reply{status: http.StatusCreated, body: k.model(), location: s.prefix + "api/kernels/" + k.id}
}

func (s *Server) kernelByID(r *http.Request, id string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kernels[id]
	if k == nil {
		return errorReply(http.StatusNotFound, "Kernel does not exist: "+id)
	}
	if r.Method == http.MethodDelete {
		s.shutdownKernel(id)
		return reply{status: http.StatusNoContent}
	}
	return reply{status: http.StatusOK, body: k.model()}
}

// kernelAction is POST /api/kernels/{id}/interrupt and .../restart; id
// is "{id}/{action}". What clients of the kernel's channels see is in
// channels_actions.go.
func (s *Server) kernelAction(r *http.Request, idAction string) reply {
	id, action, _ := strings.Cut(idAction, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kernels[id]
	if action == "interrupt" {
		if k == nil {
			return errorReply(http.StatusNotFound, "Kernel does not exist: "+id)
		}
		s.interruptKernel(k)
		return reply{status: http.StatusNoContent}
	}
	if k == nil {
		return restartFailed("Kernel does not exist: " + id)
	}
	s.mu.Unlock()
	ok := s.restartProcess(r, k)
	s.mu.Lock()
	if !ok || s.kernels[id] != k {
		return restartFailed("Kernel does not exist: " + id)
	}
	return reply{status: http.StatusOK, body: k.model()}
}

// restartFailed is Jupyter's answer when a restart raises: 500 with the
// message and a traceback list (and no "reason").
func restartFailed(why string) reply {
	return reply{status: http.StatusInternalServerError, body: map[string]any{
		"message":   "Exception restarting kernel",
		"traceback": []string{"  (simulated by the nbserv reference server) " + why + "\n"},
	}}
}
