package refserver

// Scripts: what a test says executing a piece of code emits. The public
// face is nbservtest/kernel_scripts.go.

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

type stepKind int

const (
	stepStream stepKind = iota + 1
	stepDisplay
	stepUpdateDisplay
	stepClearOutput
	stepResult
	stepError
	stepInput
	stepSleep
	stepCrash
	stepMessage
)

// Step is one thing a scripted execution does, in order. Make Steps with
// the functions below; the zero Step does nothing.
type Step struct {
	kind           stepKind
	name, text     string         // stream name and text; error ename and evalue; input prompt
	data, metadata map[string]any // display data and metadata; message content and metadata
	displayID      string
	wait, password bool
	traceback      []string
	d              time.Duration
	then           func(answer string) []Step
	msgType        string
	buffers        [][]byte
	tracebackGiven bool
}

// StreamStep writes text to "stdout" or "stderr".
func StreamStep(name, text string) Step { return Step{kind: stepStream, name: name, text: text} }

// DisplayStep is display_data; a non-empty displayID goes in "transient",
// so UpdateDisplayStep can replace it.
func DisplayStep(data, metadata map[string]any, displayID string) Step {
	return Step{kind: stepDisplay, data: data, metadata: metadata, displayID: displayID}
}

// UpdateDisplayStep is update_display_data for displayID.
func UpdateDisplayStep(displayID string, data, metadata map[string]any) Step {
	return Step{kind: stepUpdateDisplay, data: data, metadata: metadata, displayID: displayID}
}

// ClearOutputStep is clear_output.
func ClearOutputStep(wait bool) Step { return Step{kind: stepClearOutput, wait: wait} }

// ResultStep is execute_result (not sent for a silent execution).
func ResultStep(data, metadata map[string]any) Step {
	return Step{kind: stepResult, data: data, metadata: metadata}
}

// ErrorStep ends the execution with an error output and an execute_reply
// of status "error". A nil traceback gets IPython's header lines.
func ErrorStep(ename, evalue string, traceback []string) Step {
	return Step{kind: stepError, name: ename, text: evalue, traceback: traceback, tracebackGiven: traceback != nil}
}

// InputStep sends input_request and waits for the client's input_reply;
// then, if non-nil, runs the steps then returns for the answer. An
// interrupt ends the wait with KeyboardInterrupt; without allow_stdin the
// execution fails with StdinNotImplementedError, as ipykernel's does.
func InputStep(prompt string, password bool, then func(answer string) []Step) Step {
	return Step{kind: stepInput, text: prompt, password: password, then: then}
}

// SleepStep waits d; an interrupt (or a restart or delete of the kernel)
// cuts it short with KeyboardInterrupt.
func SleepStep(d time.Duration) Step { return Step{kind: stepSleep, d: d} }

// CrashStep makes the kernel process die here: no reply, and clients see
// Jupyter's "restarting" status, then a fresh process.
func CrashStep() Step { return Step{kind: stepCrash} }

// MessageStep publishes any message on iopub (comm_msg, a custom
// message) with optional binary buffers, which make it a binary frame.
func MessageStep(msgType string, content, metadata map[string]any, buffers [][]byte) Step {
	return Step{kind: stepMessage, msgType: msgType, data: content, metadata: metadata, buffers: buffers}
}

// ScriptFunc decides what executing code does: ok false passes the code
// on to the next script, and in the end to the kernel's interpreter.
type ScriptFunc func(code string) (steps []Step, ok bool)

// Script makes executing exactly code (on any kernel of this server) do
// steps. A later Script for the same code replaces it.
func (s *Server) Script(code string, steps ...Step) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch.exact == nil {
		s.ch.exact = map[string][]Step{}
	}
	s.ch.exact[code] = append([]Step(nil), steps...)
}

// ScriptWith adds f, consulted (after exact scripts, in the order added)
// for code no exact script matches.
func (s *Server) ScriptWith(f ScriptFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ch.funcs = append(s.ch.funcs, f)
}

// scriptFor finds the script for code. The caller holds s.mu; script
// functions run under it and must not call back into the server.
func (s *Server) scriptFor(code string) ([]Step, bool) {
	if steps, ok := s.ch.exact[code]; ok {
		return steps, true
	}
	for _, f := range s.ch.funcs {
		if steps, ok := f(code); ok {
			return steps, true
		}
	}
	return nil, false
}

// runSteps runs a script. The caller holds s.mu.
func (s *Server) runSteps(rt *kernelRuntime, x *execution, steps []Step) (*failure, error) {
	for _, st := range steps {
		if err := validateStep(st); err != nil {
			return &failure{ename: "TypeError", evalue: err.Error(), traceback: bareTraceback(x.style, "TypeError", err.Error())}, nil
		}
		switch st.kind {
		case stepStream:
			name := st.name
			if name != "stderr" {
				name = "stdout"
			}
			s.write(x, name, st.text)
		case stepDisplay, stepUpdateDisplay:
			transient := obj{}
			if st.displayID != "" {
				transient = obj{{"display_id", st.displayID}}
			}
			msgType := "display_data"
			if st.kind == stepUpdateDisplay {
				msgType = "update_display_data"
			}
			s.output(rt, x, msgType, obj{{"data", orEmpty(st.data)}, {"metadata", orEmpty(st.metadata)}, {"transient", transient}}, nil)
		case stepClearOutput:
			s.output(rt, x, "clear_output", obj{{"wait", st.wait}}, nil)
		case stepResult:
			s.result(rt, x, orEmpty(st.data), st.metadata)
		case stepError:
			tb := st.traceback
			if !st.tracebackGiven {
				tb = bareTraceback(x.style, st.name, st.text)
			}
			return &failure{ename: st.name, evalue: st.text, traceback: tb}, nil
		case stepInput:
			if !x.allowStdin {
				return stdinNotAllowed(x, scriptLine(x.code), 1), nil
			}
			answer, err := s.ask(rt, x, st.text, st.password)
			if err != nil {
				return interruptedInput(x, scriptLine(x.code), 1), err
			}
			if st.then != nil {
				if fail, err := s.runSteps(rt, x, st.then(answer)); fail != nil || err != nil {
					return fail, err
				}
			}
		case stepSleep:
			if err := s.sleep(rt, x, st.d); err != nil {
				return keyboardInterrupt(x, scriptLine(x.code), 1, false, span{}), err
			}
		case stepCrash:
			s.flush(rt, x)
			s.crash(rt, true)
			return nil, errStopped
		case stepMessage:
			s.output(rt, x, st.msgType, objFromMap(st.data), st.buffers)
		}
	}
	return nil, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// objFromMap renders a map in sorted key order (Go maps have none).
func objFromMap(m map[string]any) obj {
	o := obj{}
	for _, k := range sortedKeys(m) {
		o = append(o, kv{k, m[k]})
	}
	return o
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// scriptLine is the first line of scripted code, for a traceback's frame.
func scriptLine(code string) []string {
	lines := cellLines(code)
	if len(lines) == 0 {
		return []string{""}
	}
	return lines
}

// validateStep reports a script step that cannot be sent as JSON, when
// the script is registered rather than mid-execution.
func validateStep(st Step) error {
	for _, m := range []map[string]any{st.data, st.metadata} {
		if _, err := json.Marshal(m); err != nil {
			return fmt.Errorf("refserver: script step data is not JSON: %w", err)
		}
	}
	return nil
}
