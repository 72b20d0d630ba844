package nbservtest

// Kernel scripts: what executing code does on the reference server's
// kernels. The reference kernel answers the channels protocol as ipykernel
// 6.17 does behind Jupyter Server 1.23.3, and runs code as Python with
// gpython (about Python 3.4: no f-strings, only string dict keys, only
// the time, math, string, sys and binascii modules; see
// docs/wire/kernel-channels.md KC18), one interpreter per kernel. A test
// says what code the interpreter cannot run (import pandas, …) does with
// Script:
//
//	srv.Script("df.describe()", nbservtest.Stdout("loading\n"), nbservtest.ResultText("count 3"))
//	srv.Script("train()", nbservtest.Sleep(time.Hour)) // until interrupted
//	srv.Script("fail()", nbservtest.Error("ValueError", "bad input"))
//
// Executing the scripted code then sends, between the usual status busy,
// execute_input and the final execute_reply and status idle, exactly the
// messages its steps describe, in order.

import (
	"time"

	"github.com/nbserv/go-nbserv/internal/refserver"
)

// Step is one thing a scripted execution does. Make Steps with the
// functions of this file.
type Step struct{ s refserver.Step }

func unwrap(steps []Step) []refserver.Step {
	out := make([]refserver.Step, len(steps))
	for i, st := range steps {
		out[i] = st.s
	}
	return out
}

// Stdout writes text to standard output. Consecutive writes are sent as
// one stream message, as ipykernel buffers them, flushed before any other
// output, wait or reply.
func Stdout(text string) Step { return Step{refserver.StreamStep("stdout", text)} }

// Stderr writes text to standard error, buffered like Stdout.
func Stderr(text string) Step { return Step{refserver.StreamStep("stderr", text)} }

// Display sends display_data with the given MIME bundle, such as
// {"text/plain": "x", "text/html": "<b>x</b>"}.
func Display(data map[string]any) Step { return Step{refserver.DisplayStep(data, nil, "")} }

// DisplayWithID sends display_data that UpdateDisplay can later replace:
// the id goes in the message's "transient" field.
func DisplayWithID(displayID string, data map[string]any) Step {
	return Step{refserver.DisplayStep(data, nil, displayID)}
}

// UpdateDisplay sends update_display_data for a display made with
// DisplayWithID.
func UpdateDisplay(displayID string, data map[string]any) Step {
	return Step{refserver.UpdateDisplayStep(displayID, data, nil)}
}

// ClearOutput sends clear_output; with wait, clients clear when the next
// output arrives.
func ClearOutput(wait bool) Step { return Step{refserver.ClearOutputStep(wait)} }

// Result sends the execution's execute_result with the MIME bundle (not
// sent when the execution is silent, as ipykernel's display hook does).
func Result(data map[string]any) Step { return Step{refserver.ResultStep(data, nil)} }

// ResultText is Result({"text/plain": text}): what ipykernel sends for an
// expression's repr, such as "2" for 1+1 or "'x'" for 'x'.
func ResultText(text string) Step {
	return Result(map[string]any{"text/plain": text})
}

// Error ends the execution with an error: an error output, then an
// execute_reply of status "error" (and, with stop_on_error, the execute
// requests already queued are aborted). Without a traceback it gets
// IPython's first lines and "ename: evalue". Steps after it are not run.
func Error(ename, evalue string, traceback ...string) Step {
	if len(traceback) == 0 {
		traceback = nil
	}
	return Step{refserver.ErrorStep(ename, evalue, traceback)}
}

// Input asks the client for a line: input_request on stdin, then a wait
// for its input_reply. then, if not nil, gives the steps that follow from
// the answer (then runs inside the server: it must not call the Server).
// An interrupt ends the wait with KeyboardInterrupt, and an execution
// without allow_stdin fails with StdinNotImplementedError, as in
// ipykernel.
func Input(prompt string, then func(answer string) []Step) Step {
	return Step{refserver.InputStep(prompt, false, wrapThen(then))}
}

// Password is Input with "password": true, as getpass sends.
func Password(prompt string, then func(answer string) []Step) Step {
	return Step{refserver.InputStep(prompt, true, wrapThen(then))}
}

func wrapThen(then func(string) []Step) func(string) []refserver.Step {
	if then == nil {
		return nil
	}
	return func(answer string) []refserver.Step { return unwrap(then(answer)) }
}

// Sleep waits d. An interrupt (POST /api/kernels/{id}/interrupt, or an
// interrupt_request), a restart or a delete of the kernel cuts it short:
// the execution ends with KeyboardInterrupt, as time.sleep does in
// ipykernel. The wait holds no lock and no goroutine but the kernel's.
func Sleep(d time.Duration) Step { return Step{refserver.SleepStep(d)} }

// Crash makes the kernel process die at this point, as os._exit would:
// no reply, no idle status; clients get Jupyter Server's "restarting"
// status and the kernel comes back as a new process (execution count 1).
func Crash() Step { return Step{refserver.CrashStep()} }

// Message publishes any message on iopub, such as a comm_msg. With
// buffers it travels as a binary WebSocket frame, as Jupyter sends
// messages with buffers.
func Message(msgType string, content map[string]any, buffers ...[]byte) Step {
	return Step{refserver.MessageStep(msgType, content, nil, buffers)}
}

// Script makes executing exactly code, on any kernel of the server, do
// steps instead of running it as Python. A later Script for the same code
// replaces it. Scripts apply to executions that start after the call.
func (s *Server) Script(code string, steps ...Step) { s.ref.Script(code, unwrap(steps)...) }

// ScriptFunc adds f, asked (after the exact scripts, in the order added)
// what code does; ok false leaves it to the next function and, in the end,
// to the kernel's Python. f runs inside the server: it must be quick and
// must not call the Server.
func (s *Server) ScriptFunc(f func(code string) (steps []Step, ok bool)) {
	s.ref.ScriptWith(func(code string) ([]refserver.Step, bool) {
		steps, ok := f(code)
		return unwrap(steps), ok
	})
}

// CrashKernel makes a kernel's process die now, as a segfault would:
// what it was running or had queued is never answered. Jupyter's
// restarter then tells every connected client "restarting" and starts a
// new process (execution count 1). With restartFails, the restarts fail:
// clients are told "dead" and the kernel is removed, as is then any
// session on it. The error wraps ErrNoSuchKernel for an unknown id.
func (s *Server) CrashKernel(kernelID string, restartFails bool) error {
	return s.ref.CrashKernel(kernelID, restartFails)
}
