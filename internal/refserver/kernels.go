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
// until a client connects to its channels (channels.go), which REST-only clients never
// do. The caller holds s.mu and has resolved the name with kernelSpec.
//
// With a start delay (SetKernelStartDelay), s.mu is released while the
// kernel "starts", as Jupyter serves other requests while it awaits a
// kernel process: the kernel appears in lists only once started, and the
// caller must expect anything else to have changed meanwhile. The start
// completes even if the client has gone, as Jupyter's does.
func (s *Server) startKernel(name string) *kernel { return s.startKernelID(name, "") }

// startKernelID is startKernel under the id asked for, as 2.x honours a
// client's kernel_id ("" mints a fresh id; 2.x's empty id is asked for as
// emptyKernelID). A kernel that meanwhile started under that id is
// returned as it is.
func (s *Server) startKernelID(name, id string) *kernel {
	if d := s.kernelDelay; d > 0 {
		s.mu.Unlock()
		time.Sleep(d)
		s.mu.Lock()
	}
	switch id {
	case "":
		id = newID()
	case emptyKernelID:
		id = ""
	}
	if k := s.kernels[id]; k != nil {
		return k
	}
	k := &kernel{id: id, name: name, lastActivity: time.Now().UTC(), state: "starting"}
	s.kernels[k.id] = k
	s.kOrder.add(k)
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
	s.kOrder.remove(k)
	s.kernelAct = time.Now().UTC() // Jupyter counts a shutdown as kernel activity
}

// kernelProblem is the exception Jupyter's kernel manager raises for a
// kernel name it cannot start.
type kernelProblem struct {
	exc, msg string
	noSuch   bool // NoSuchKernel, which session creation answers 501
}

// kernelSpec resolves a requested kernel name as Jupyter's kernel manager
// does: None is the default kernelspec; a name must be a string (a traitlets
// error otherwise); kernelspecs are found case-insensitively and the kernel
// keeps the name as asked ("PYTHON3" starts python3 and reports "PYTHON3").
func (s *Server) kernelSpec(name any) (string, *kernelProblem) {
	if name == nil {
		return s.specs[0], nil
	}
	str, ok := name.(string)
	if !ok {
		manager := "an AsyncIOLoopKernelManager"
		if s.isGen2() {
			manager = "a ServerKernelManager"
		}
		return "", &kernelProblem{exc: "traitlets.traitlets.TraitError", msg: fmt.Sprintf(
			"The 'kernel_name' trait of %s instance expected a unicode string, not the %s %s.", manager, pyType(name), pyRepr(name))}
	}
	if str == "" {
		return "", &kernelProblem{exc: "AttributeError", msg: "'NoneType' object has no attribute 'metadata'"}
	}
	if !slices.ContainsFunc(s.specs, func(spec string) bool { return strings.EqualFold(spec, str) }) {
		return "", &kernelProblem{exc: "jupyter_client.kernelspec.NoSuchKernel", msg: "No such kernel named " + str, noSuch: true}
	}
	return str, nil
}

func (s *Server) kernelsRoot(r *http.Request, _ string) reply {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		ks := s.kOrder.values()
		list := make([]kernelModel, len(ks))
		for i, k := range ks {
			list[i] = k.model()
		}
		return reply{status: http.StatusOK, body: list}
	}
	v, err := readJSON(r)
	if err != nil && err != errNoJSON {
		return bodyReply(err)
	}
	var name, path, kid any // model.setdefault("name", default); model.get("path"); 2.x: model.get("kernel_id")
	if model, ok := v.(map[string]any); ok {
		name, path, kid = model["name"], model["path"], model["kernel_id"]
	} else if v != nil {
		return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'setdefault'", pyType(v)))
	}
	newKID := ""
	if s.isGen2() && kid != nil {
		// 2.x starts the kernel under the id asked for, or answers with
		// the kernel already running under it (jupyter-server-2.md,
		// "Kernels"). An id that is not a string was not probed.
		id, ok := kid.(string)
		if !ok {
			return crashReply(fmt.Sprintf("TypeError: kernel_id is a %s, not a string", pyType(kid)))
		}
		s.mu.Lock()
		if k := s.kernels[id]; k != nil {
			defer s.mu.Unlock()
			return reply{status: http.StatusCreated, body: k.model(), location: s.kernelLocation(k.id)}
		}
		s.mu.Unlock()
		newKID = askedKernelID(id)
	}
	// 1.x strips the path for the kernel's cwd; 2.x's str(path) takes any.
	if _, ok := path.(string); path != nil && !ok && !s.isGen2() {
		return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'strip'", pyType(path)))
	}
	spec, problem := s.kernelSpec(name)
	if problem != nil {
		return crashReply(problem.exc + ": " + problem.msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.startKernelID(spec, newKID) // may release s.mu while the kernel starts
	return reply{status: http.StatusCreated, body: k.model(), location: s.kernelLocation(k.id)}
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

// kernelAction is POST /api/kernels/{id}/interrupt and .../restart; arg
// is "{id}/{action}". What clients of the kernel's channels see is in
// channels_actions.go.
func (s *Server) kernelAction(r *http.Request, arg string) reply {
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
		// Its model is unchanged; a running execution ends with a
		// KeyboardInterrupt on its channels (channels_actions.go).
		s.interruptKernel(k)
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
	// The new process: channel clients see Jupyter's restart sequence.
	// After a failed restart Jupyter's model does not move (observed in
	// docs/wire/kernels.md K7), whatever the new process says.
	state, last := k.state, k.lastActivity
	s.mu.Unlock()
	ok := s.restartProcess(r, k)
	s.mu.Lock()
	if !ok || s.kernels[id] != k {
		return restartFailed("web.HTTPError: HTTP 404: Not Found (Kernel does not exist: " + id + ")")
	}
	if k.noProcess {
		k.state, k.lastActivity = state, last
	}
	k.noProcess = false
	return reply{status: http.StatusOK, body: k.model()}
}

// restartFailure is the body of a failed restart in 1.x; personalize
// rewrites it for 2.x.
type restartFailure struct {
	Message   string   `json:"message"`
	Traceback []string `json:"traceback"`
}

// restartFailed is Jupyter's answer to a failed restart: 500 with the
// message and a traceback list, and no reason key.
func restartFailed(explanation string) reply {
	return reply{status: http.StatusInternalServerError, body: restartFailure{"Exception restarting kernel", []string{
		"  Traceback simulated by the nbserv reference server; Jupyter Server raised:\n",
		"    " + explanation + "\n",
	}}}
}
