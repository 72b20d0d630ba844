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
	return kernelModel{ID: k.id, Name: k.name, LastActivity: isoformat(k.lastActivity), ExecutionState: k.state}
}

// startKernel simulates a kernel start. A real kernel reports "starting"
// until a client connects to its channels, which REST-only clients never
// do. The caller holds s.mu and has checked the name.
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
	delete(s.kernels, id)
	if i := slices.Index(s.kOrder, k); i >= 0 {
		s.kOrder = slices.Delete(s.kOrder, i, i+1)
	}
}

// hasSpec reports whether name is an installed kernelspec's, ignoring
// case as Jupyter does; a kernel started by "PYTHON3" is then named
// "PYTHON3".
func (s *Server) hasSpec(name any) bool {
	str, ok := name.(string)
	return ok && s.specNamed(str) != ""
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

// kernelAction is POST /api/kernels/{id}/interrupt and /restart; arg is
// "{id}/{action}".
func (s *Server) kernelAction(_ *http.Request, arg string) reply {
	id, action, _ := strings.Cut(arg, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kernels[id]
	if action == "interrupt" {
		if k == nil {
			return errorReply(http.StatusNotFound, "Kernel does not exist: "+id)
		}
		if k.noProcess {
			return crashReply("RuntimeError: Cannot interrupt kernel. No kernel is running!")
		}
		// A simulated kernel has nothing to interrupt: like a real idle
		// one, its model is unchanged.
		return reply{status: http.StatusNoContent}
	}
	// Jupyter wraps every restart error, the unknown id's 404 included,
	// in a 500 whose traceback is a list of lines and which has no reason.
	if k == nil {
		return restartFailed("web.HTTPError: HTTP 404: Not Found (Kernel does not exist: " + id + ")")
	}
	// A restart shuts the process down and starts a new one. A real
	// kernel reports "idle" as it handles the shutdown, which also counts
	// as its activity; with no process there is neither.
	if !k.noProcess {
		k.state, k.lastActivity = "idle", time.Now().UTC()
	}
	if k.failRestarts > 0 {
		k.failRestarts--
		k.noProcess = true // the old process is gone, the new one never started
		return restartFailed("FileNotFoundError: [Errno 2] No such file or directory: the kernel's launcher (simulated failure)")
	}
	k.noProcess = false
	return reply{status: http.StatusOK, body: k.model()}
}

// restartFailed is Jupyter's answer to a failed restart: 500 with the
// message and a traceback list, and no reason key.
func restartFailed(explanation string) reply {
	return reply{status: http.StatusInternalServerError, body: struct {
		Message   string   `json:"message"`
		Traceback []string `json:"traceback"`
	}{"Exception restarting kernel", []string{
		"  Traceback simulated by the nbserv reference server; Jupyter Server raised:\n",
		"    " + explanation + "\n",
	}}}
}
