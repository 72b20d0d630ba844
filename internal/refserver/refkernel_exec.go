package refserver

// Executions: execute_request as ipykernel answers it, the outputs an
// execution emits, and the waits an interrupt cuts short.

import (
	"errors"
	"sort"
	"strings"
	"time"
)

// execution is a running execute_request.
type execution struct {
	req          *request
	count        int // its execution_count: In [count]
	silent       bool
	allowStdin   bool
	code         string
	intr         chan struct{} // closed by an interrupt
	interrupted  bool
	crashed      bool        // the process died: emit nothing more
	input        chan string // an input_reply's value, while waiting for one
	style        tbStyle     // the IPython whose tracebacks it writes
	storeHistory bool
	stdout       strings.Builder
	stderr       strings.Builder
}

// abortWindow is how long after an aborting error the reference kernel
// takes requests still arriving as already queued (see execute).
const abortWindow = 20 * time.Millisecond

// Errors a wait ends with.
var (
	errInterrupted = errors.New("KeyboardInterrupt")
	errStopped     = errors.New("process gone")
)

// failure is an execution's error: the error output and the reply.
type failure struct {
	ename, evalue string
	traceback     []string
}

// execute runs an execute_request. It reports false when the process died
// under it (no reply, no idle status). The caller holds s.mu.
func (s *Server) execute(rt *kernelRuntime, req *request) bool {
	c := req.content
	code, okCode := c.str("code")
	if !okCode || !c.has("silent") && !rt.gen2 {
		return true // ipykernel 6.17: "Got bad msg", and no reply; 7.4.0 takes silent as false (docs/wire/kernel-channels.md KC51)
	}
	silent := c.truthy("silent")
	storeHistory := !silent
	if c.has("store_history") && !silent { // IPython: silent forces store_history off
		storeHistory = c.truthy("store_history")
	}
	stopOnError := !c.has("stop_on_error") || c.truthy("stop_on_error")
	started := time.Now()
	x := &execution{req: req, count: rt.proc.count, silent: silent, allowStdin: c.truthy("allow_stdin"),
		code: code, intr: make(chan struct{}), style: rt.style(), storeHistory: storeHistory}
	if !silent {
		s.publish(rt, rt.msg("iopub", "execute_input", req.header, nil, obj{{"code", code}, {"execution_count", x.count}}, nil))
	}
	rt.cur = x // until the user expressions are done: they run code too, which an interrupt or a crash must reach
	fail, err := s.run(rt, x)
	var userExprs obj
	if fail == nil && err == nil && !x.crashed {
		userExprs = s.userExpressions(rt, x, spans(c["user_expressions"]))
	}
	rt.cur = nil
	if errors.Is(err, errStopped) || x.crashed {
		return false
	}
	s.flush(rt, x)
	if fail != nil {
		s.publish(rt, rt.msg("iopub", "error", req.header, nil,
			obj{{"traceback", fail.traceback}, {"ename", fail.ename}, {"evalue", fail.evalue}}, nil))
	}
	if storeHistory && strings.TrimSpace(code) != "" {
		rt.proc.count++
	}
	status := "ok"
	var content obj
	if fail != nil {
		status = "error"
		content = obj{{"status", "error"}, {"traceback", fail.traceback}, {"ename", fail.ename}, {"evalue", fail.evalue},
			{"engine_info", obj{{"engine_uuid", rt.proc.engine}, {"engine_id", -1}, {"method", "execute"}}},
			{"execution_count", rt.proc.count - 1}, {"user_expressions", obj{}}, {"payload", []any{}}}
	} else {
		content = obj{{"status", "ok"}, {"execution_count", rt.proc.count - 1},
			{"user_expressions", userExprs}, {"payload", []any{}}}
	}
	md := obj{{"started", isoDate(started)}, {"dependencies_met", true}, {"engine", rt.proc.engine}, {"status", status}}
	s.send(rt, req.origin, rt.msg(req.channel, "execute_reply", req.header, md, content, nil))
	if !silent && fail != nil && stopOnError {
		// ipykernel aborts the execute requests already waiting: those its
		// shell socket has received by the time the error is handled,
		// which takes it tens of milliseconds (formatting the traceback).
		// A client's pipelined requests are all there by then; the
		// reference kernel, which fails at once, waits as long for them.
		s.mu.Unlock()
		time.Sleep(abortWindow)
		s.mu.Lock()
		for _, q := range rt.queue {
			if q.msgType == "execute_request" {
				q.abort = true
			}
		}
	}
	return true
}

// run runs the code: a test's script if one matches, else the default
// forms.
func (s *Server) run(rt *kernelRuntime, x *execution) (*failure, error) {
	if steps, ok := s.scriptFor(x.code); ok {
		return s.runSteps(rt, x, steps)
	}
	return s.runPython(rt, x)
}

// Outputs. Streams are buffered and flushed before any other output, any
// wait and the reply, as ipykernel's OutStream and display hooks do, so a
// run of prints is one stream message.

func (s *Server) write(x *execution, name, text string) {
	if name == "stderr" {
		x.stderr.WriteString(text)
	} else {
		x.stdout.WriteString(text)
	}
}

func (s *Server) flush(rt *kernelRuntime, x *execution) {
	for _, st := range []struct {
		name string
		b    *strings.Builder
	}{{"stdout", &x.stdout}, {"stderr", &x.stderr}} {
		if st.b.Len() > 0 {
			s.publish(rt, rt.msg("iopub", "stream", x.req.header, nil, obj{{"name", st.name}, {"text", st.b.String()}}, nil))
			st.b.Reset()
		}
	}
}

func (s *Server) output(rt *kernelRuntime, x *execution, msgType string, content obj, buffers [][]byte) {
	s.flush(rt, x)
	s.publish(rt, rt.msg("iopub", msgType, x.req.header, nil, content, buffers))
}

// result is the display hook: an execute_result, unless silent.
func (s *Server) result(rt *kernelRuntime, x *execution, data, metadata map[string]any) {
	if x.silent {
		return
	}
	if metadata == nil {
		metadata = map[string]any{}
	}
	count := x.count
	if x.style == ipython9 && !x.storeHistory {
		count-- // IPython 9 numbers it as the last stored execution (docs/wire/kernel-channels.md KC51)
	}
	s.output(rt, x, "execute_result", obj{{"data", data}, {"metadata", metadata}, {"execution_count", count}}, nil)
}

// sleep waits d, or until an interrupt or the process's end. The caller
// holds s.mu, which is released meanwhile.
func (s *Server) sleep(rt *kernelRuntime, x *execution, d time.Duration) error {
	s.flush(rt, x)
	if x.interrupted {
		return x.stopErr()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	s.mu.Unlock()
	select {
	case <-t.C:
	case <-x.intr:
	}
	s.mu.Lock()
	if x.interrupted {
		return x.stopErr()
	}
	return nil
}

func (x *execution) stopErr() error {
	if x.crashed {
		return errStopped
	}
	return errInterrupted
}

// ask sends input_request to the client that asked for the execution and
// waits for its input_reply. Stale replies sent before are not read, as
// ipykernel flushes its stdin socket first.
func (s *Server) ask(rt *kernelRuntime, x *execution, prompt string, password bool) (string, error) {
	s.flush(rt, x)
	if x.interrupted {
		return "", x.stopErr()
	}
	x.input = make(chan string, 1)
	s.send(rt, x.req.origin, rt.msg("stdin", "input_request", x.req.header, nil, obj{{"prompt", prompt}, {"password", password}}, nil))
	ch := x.input
	s.mu.Unlock()
	var v string
	var got bool
	select {
	case v = <-ch:
		got = true
	case <-x.intr:
	}
	s.mu.Lock()
	x.input = nil
	if !got || x.interrupted {
		return "", x.stopErr()
	}
	return v, nil
}

// inputReply hands an input_reply to the execution waiting for one; any
// other is dropped. The caller holds s.mu.
func (s *Server) inputReply(rt *kernelRuntime, req *request) {
	x := rt.cur
	if x == nil || x.input == nil || req.msgType != "input_reply" {
		return
	}
	v, ok := req.content.str("value")
	if !ok {
		raw, given := req.content["value"]
		if !given || string(raw) == "null" {
			return
		}
		v = string(raw) // ipykernel would hand the value to input() as it is; the reference kernel takes its JSON
	}
	select {
	case x.input <- v:
	default:
	}
}

// userExpressions evaluates execute_request's user_expressions in the
// kernel's namespace, after the code, as IPython does. The caller holds
// s.mu.
func (s *Server) userExpressions(rt *kernelRuntime, x *execution, exprs rawObject) obj {
	out := obj{}
	names := make([]string, 0, len(exprs))
	for name := range exprs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src, _ := exprs.str(name)
		v, fail := s.evalUser(rt, x, src)
		if fail != nil {
			tb := "\x1b[0;31m" + fail.ename + "\x1b[0m\x1b[0;31m:\x1b[0m " + fail.evalue + "\n"
			if x.style == ipython9 {
				tb = colour(31, fail.ename) + colour(31, ":") + " " + fail.evalue + "\n"
			}
			out = append(out, kv{name, obj{{"status", "error"}, {"traceback", []string{tb}}, {"ename", fail.ename}, {"evalue", fail.evalue}}})
			continue
		}
		out = append(out, kv{name, obj{{"status", "ok"}, {"data", obj{{"text/plain", v}}}, {"metadata", obj{}}}})
	}
	return out
}
