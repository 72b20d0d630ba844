package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/nbserv/go-nbserv/nbformat"
)

// ErrAborted matches an execution the kernel did not run because an
// earlier one failed with stop_on_error (execute_reply status "aborted").
var ErrAborted = errors.New("nbserv: execution aborted after an earlier error")

// ExecuteOption adjusts one execution (Execute, ExecuteStream).
type ExecuteOption func(*executeOptions)

type executeOptions struct {
	req       ExecuteRequest
	stdin     InputFunc
	onOutput  func(Content)
	onMessage func(*Message)
}

// InputFunc answers the kernel's input_request (Python's input() and
// getpass()) with the line to return. An error stops the wait for the
// execution; the kernel keeps waiting for input until interrupted.
type InputFunc func(ctx context.Context, req *InputRequest) (string, error)

// WithStdin lets the code read input: each input_request is answered
// with what f returns. Without it the kernel refuses input (Python raises
// StdinNotImplementedError).
func WithStdin(f InputFunc) ExecuteOption {
	return func(o *executeOptions) { o.stdin = f }
}

// WithOutputFunc makes Execute call f with each output as it arrives, in
// order, on the calling goroutine, as well as collecting it.
func WithOutputFunc(f func(Content)) ExecuteOption {
	return func(o *executeOptions) { o.onOutput = f }
}

// WithMessageFunc makes Execute and ExecuteStream call f with every
// message of the execution as it arrives, before handling it: the
// kernel's busy and idle status, execute_input, the outputs, the
// execute_reply and input requests, in arrival order, on the calling
// goroutine. It is for what the outputs do not carry, such as the headers'
// dates (a notebook's timing metadata). f must not keep m past its
// return or change it.
func WithMessageFunc(f func(m *Message)) ExecuteOption {
	return func(o *executeOptions) { o.onMessage = f }
}

// WithSilent runs the code silently: no outputs broadcast, no execution
// count, no history.
func WithSilent() ExecuteOption {
	return func(o *executeOptions) { o.req.Silent = true }
}

// WithoutHistory leaves the code out of the kernel's history.
func WithoutHistory() ExecuteOption {
	return func(o *executeOptions) { o.req.StoreHistory = false }
}

// WithoutStopOnError lets the executions queued behind this one run even
// if it fails (by default they are aborted, with ErrAborted).
func WithoutStopOnError() ExecuteOption {
	return func(o *executeOptions) { o.req.StopOnError = false }
}

// WithUserExpressions asks the kernel to evaluate expressions after the
// code; their results are in the reply's UserExpressions, by name.
func WithUserExpressions(exprs map[string]string) ExecuteOption {
	return func(o *executeOptions) { o.req.UserExpressions = exprs }
}

// Execution is the outcome of running code: how it ended and what it
// printed and displayed.
type Execution struct {
	// Status is StatusOK, StatusError or StatusAborted; empty when the
	// execution did not finish (the error says why).
	Status string
	// ExecutionCount is the kernel's counter for this execution (In [n]).
	ExecutionCount int
	// Outputs are the outputs in the order they arrived: *Stream,
	// *DisplayData, *UpdateDisplayData, *ExecuteResult, *Error,
	// *ClearOutput, or *RawContent for one whose content did not decode.
	Outputs []Content
	// Reply is the kernel's execute_reply; nil when none arrived.
	Reply *ExecuteReply
}

// Execute runs code in the kernel and waits until it has finished and
// every output has arrived (the execute_reply on shell and the kernel's
// idle status on IOPub, which Jupyter delivers in either order).
//
// When the code raises, the error is a *Error (errors.As) with the
// exception's name, value and traceback, and the Execution is returned as
// well, with the outputs. Whatever the error, the returned Execution holds
// the outputs that arrived; it is nil only when the request could not be
// sent. A cancelled ctx stops the wait, not the code: Interrupt stops it.
// A kernel restart or death ends the wait with ErrKernelRestarted or
// ErrKernelDead; outputs past WithMaxOutputBytes, with
// ErrResponseTooLarge. An execution whose socket was replaced while it
// ran succeeds only when the kernel's message numbers prove that every
// message of it came; otherwise it ends with ErrOutputMayBeLost, its
// Status, Reply and the outputs that came kept (and a *Error as well
// when the code raised).
func (c *Conn) Execute(ctx context.Context, code string, opts ...ExecuteOption) (*Execution, error) {
	var o executeOptions
	for _, f := range opts {
		f(&o)
	}
	ex := &Execution{}
	reply, count, err := c.execute(ctx, code, opts, true, func(out Content) bool {
		ex.Outputs = append(ex.Outputs, out)
		if o.onOutput != nil {
			o.onOutput(out)
		}
		return true
	})
	ex.ExecutionCount = count
	if reply == nil && err != nil {
		if errors.Is(err, errNotSent) {
			return nil, err
		}
		return ex, err
	}
	ex.Reply, ex.Status = reply, reply.Status
	if reply.ExecutionCount != 0 {
		ex.ExecutionCount = reply.ExecutionCount
	}
	if rerr := replyErr(reply); err != nil && rerr != nil {
		return ex, fmt.Errorf("%w; %w", err, rerr)
	} else if err != nil {
		return ex, err
	}
	return ex, replyErr(reply)
}

// replyErr is the error an execute_reply stands for.
func replyErr(r *ExecuteReply) error {
	switch r.Status {
	case StatusError:
		return &Error{Ename: r.Ename, Evalue: r.Evalue, Traceback: r.Traceback}
	case StatusAborted:
		return ErrAborted
	}
	return nil
}

// ExecuteStream runs code and yields its outputs as they arrive (the
// types of Execution.Outputs), then, when the execution is over, its
// *ExecuteReply. When the code raises, the last pair is (nil, the
// *Error); any other failure also ends the sequence with (nil,
// err), ErrOutputMayBeLost included (see Execute). Breaking out of the loop stops the wait (not the code: Interrupt
// stops it). Only the outputs not yet consumed are held in memory.
//
//	for out, err := range conn.ExecuteStream(ctx, code) {
//		if err != nil { … }
//		if s, ok := out.(*kernel.Stream); ok { fmt.Print(s.Text) }
//	}
func (c *Conn) ExecuteStream(ctx context.Context, code string, opts ...ExecuteOption) iter.Seq2[Content, error] {
	return func(yield func(Content, error) bool) {
		stopped := false
		reply, _, err := c.execute(ctx, code, opts, false, func(out Content) bool {
			stopped = !yield(out, nil)
			return !stopped
		})
		if stopped {
			return
		}
		if err == nil {
			err = replyErr(reply)
		} else if reply != nil && replyErr(reply) != nil {
			err = fmt.Errorf("%w; %w", err, replyErr(reply))
		}
		if err != nil {
			yield(nil, err)
			return
		}
		yield(reply, nil)
	}
}

// errNotSent marks an execution whose request never left.
var errNotSent = errors.New("nbserv: execute_request not sent")

// execute sends an execute_request and hands each output to emit until
// the reply and the idle status have both arrived, or emit returns false.
// It returns the reply (nil when none came) and the execution count from
// execute_input.
func (c *Conn) execute(ctx context.Context, code string, opts []ExecuteOption, retain bool, emit func(Content) bool) (*ExecuteReply, int, error) {
	o := executeOptions{req: ExecuteRequest{Code: code, StoreHistory: true, UserExpressions: map[string]string{}, StopOnError: true}}
	for _, f := range opts {
		f(&o)
	}
	o.req.AllowStdin = o.stdin != nil
	if o.req.UserExpressions == nil {
		o.req.UserExpressions = map[string]string{}
	}
	req := newRequest(c.o.maxOutput, retain)
	req.keep = executionMessage
	// The kernel's message numbers are recorded from before the request
	// goes out, in case its socket is replaced while it runs (see check).
	c.trackSeqs(1)
	defer c.trackSeqs(-1)
	id, err := c.write(ctx, 0, ChannelShell, MsgExecuteRequest, &o.req, nil, req)
	if errors.Is(err, ErrOutcomeUnknown) {
		// Part or all of the request went out: it is not "not sent".
		return nil, 0, fmt.Errorf("%w; the kernel may be running it (Conn.Interrupt stops it)", err)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", errNotSent, err)
	}
	defer c.unregister(id)
	var reply *ExecuteReply
	var pr proof
	count, idle := 0, false
	for reply == nil || !idle {
		m, err := req.next(ctx)
		if err != nil {
			return nil, count, waitErr(MsgExecuteRequest, id, err)
		}
		if o.onMessage != nil {
			o.onMessage(m)
		}
		isStatus := m.Channel == ChannelIOPub && m.Header.MsgType == MsgStatus
		var st Status
		if isStatus && json.Unmarshal(m.Content, &st) != nil {
			st = Status{}
		}
		pr.see(m, isStatus && st.ExecutionState == StateBusy)
		switch {
		case isStatus:
			if st.ExecutionState == StateIdle {
				idle = true
			}
		case m.Channel == ChannelIOPub && isOutput(m.Header.MsgType):
			if err := c.checkCost(m); err != nil {
				return nil, count, err
			}
			out, err := m.Decode()
			if err != nil { // kept raw, as the kernel sent it
				out = &RawContent{Type: m.Header.MsgType, JSON: m.Content}
			}
			if !emit(out) {
				return nil, count, nil
			}
		case m.Channel == ChannelIOPub && m.Header.MsgType == MsgExecuteInput:
			var in ExecuteInput
			if json.Unmarshal(m.Content, &in) == nil {
				count = in.ExecutionCount
			}
		case m.Channel == ChannelShell && m.Header.MsgType == MsgExecuteReply:
			if err := c.checkCost(m); err != nil {
				return nil, count, err
			}
			r, err := m.Decode()
			if err != nil {
				return nil, count, fmt.Errorf("nbserv: malformed execute_reply: %w", err)
			}
			reply = r.(*ExecuteReply)
		case m.Channel == ChannelStdin && m.Header.MsgType == MsgInputRequest:
			if err := c.answer(ctx, o.stdin, m); err != nil {
				return nil, count, err
			}
		}
	}
	c.mu.Lock()
	moved := req.moved
	c.mu.Unlock()
	if moved {
		return reply, count, c.check(&pr)
	}
	return reply, count, nil
}

// trackSeqs starts (1) or ends (-1) an execution's use of the Conn's log
// of message numbers.
func (c *Conn) trackSeqs(delta int) {
	c.mu.Lock()
	c.seqs.track(delta)
	c.mu.Unlock()
}

// executionMessage says which messages an execution waits for; the
// others (comm_open, …) go to the message handler.
func executionMessage(m *Message) bool {
	switch t := m.Header.MsgType; m.Channel {
	case ChannelIOPub:
		return t == MsgStatus || t == MsgExecuteInput || isOutput(t)
	case ChannelShell:
		return t == MsgExecuteReply
	case ChannelStdin:
		return t == MsgInputRequest
	}
	return false
}

// isOutput reports whether msgType is one of an execution's outputs.
func isOutput(msgType string) bool {
	switch msgType {
	case MsgStream, MsgDisplayData, MsgUpdateDisplayData, MsgExecuteResult, MsgError, MsgClearOutput:
		return true
	}
	return false
}

// answer replies to an input_request with what in returns.
func (c *Conn) answer(ctx context.Context, in InputFunc, m *Message) error {
	var ir InputRequest
	if err := json.Unmarshal(m.Content, &ir); err != nil {
		return fmt.Errorf("nbserv: malformed input_request: %w", err)
	}
	if in == nil {
		return errors.New("nbserv: the kernel asked for input without WithStdin; the kernel is waiting for input (Conn.Interrupt stops it)")
	}
	value, err := in(ctx, &ir)
	if err != nil {
		return fmt.Errorf("nbserv: stdin: %w; the kernel is waiting for input (Conn.Interrupt stops it)", err)
	}
	_, err = c.write(ctx, 0, ChannelStdin, MsgInputReply, &InputReply{Value: value}, m.rawHeader, nil)
	return err
}

// Stdout returns everything the execution wrote to stdout.
func (e *Execution) Stdout() string { return e.stream(Stdout) }

// Stderr returns everything the execution wrote to stderr.
func (e *Execution) Stderr() string { return e.stream(Stderr) }

func (e *Execution) stream(name string) string {
	var b strings.Builder
	for _, o := range e.Outputs {
		if s, ok := o.(*Stream); ok && s.Name == name {
			b.WriteString(s.Text)
		}
	}
	return b.String()
}

// Result returns the execution's execute_result (the value of its last
// expression), or nil.
func (e *Execution) Result() *ExecuteResult {
	for _, o := range e.Outputs {
		if r, ok := o.(*ExecuteResult); ok {
			return r
		}
	}
	return nil
}

// Displayed returns the outputs as a notebook shows them once the
// execution is over, the form to save in a notebook: clear_output applied
// (with wait, when the next output arrives), each update_display_data
// applied to the earlier displays and results with its display id (as is
// a new display_data or execute_result with an id already shown, as
// Jupyter's front ends and nbclient do), and consecutive writes to the
// same stream merged into one. It returns new values; Outputs is left as
// it is. NotebookOutputs is the same as nbformat outputs.
func (e *Execution) Displayed() []Content {
	var out []Content
	var texts []*strings.Builder // per entry of out: a stream's merged text
	clearPending := false
	for _, o := range e.Outputs {
		if clearPending {
			if _, isClear := o.(*ClearOutput); !isClear {
				out, texts, clearPending = nil, nil, false
			}
		}
		switch v := o.(type) {
		case *ClearOutput:
			if v.Wait {
				clearPending = true
			} else {
				out, texts = nil, nil
			}
		case *UpdateDisplayData:
			UpdateDisplays(out, v.DisplayID(), v.Data, v.Metadata)
		case *DisplayData:
			UpdateDisplays(out, v.DisplayID(), v.Data, v.Metadata)
			out, texts = append(out, o), append(texts, nil)
		case *ExecuteResult:
			UpdateDisplays(out, v.DisplayID(), v.Data, v.Metadata)
			out, texts = append(out, o), append(texts, nil)
		case *Stream:
			if n := len(out); n > 0 {
				if last, ok := out[n-1].(*Stream); ok && last.Name == v.Name {
					texts[n-1].WriteString(v.Text)
					continue
				}
			}
			b := new(strings.Builder)
			b.WriteString(v.Text)
			out, texts = append(out, &Stream{Name: v.Name}), append(texts, b)
		default:
			out, texts = append(out, o), append(texts, nil)
		}
	}
	for i, b := range texts {
		if b != nil {
			out[i].(*Stream).Text = b.String()
		}
	}
	return out
}

// UpdateDisplays replaces, in outs, the data and metadata of every
// *DisplayData and *ExecuteResult whose display id is id (none when id is
// ""), with new values, so that outputs shared with an earlier list are
// not changed under it. It is what an update_display_data does to the
// outputs shown before it; Displayed applies it within an execution, and
// a notebook runner across the cells of a notebook.
func UpdateDisplays(outs []Content, id string, data nbformat.MIMEBundle, metadata map[string]json.RawMessage) (updated bool) {
	if id == "" {
		return false
	}
	for i, prev := range outs {
		switch d := prev.(type) {
		case *DisplayData:
			if d.DisplayID() == id {
				outs[i], updated = &DisplayData{Data: data, Metadata: metadata, Transient: d.Transient}, true
			}
		case *ExecuteResult:
			if d.DisplayID() == id {
				outs[i], updated = &ExecuteResult{ExecutionCount: d.ExecutionCount, Data: data, Metadata: metadata, Transient: d.Transient}, true
			}
		}
	}
	return updated
}

// NotebookOutputs returns the outputs to save in the notebook cell that
// ran the code: Displayed, as nbformat outputs (OutputOf each). Stream
// text is kept as sent, carriage returns ("\r", progress bars) and
// all: a front end shows only what follows the last "\r" of a line,
// and so does a notebook viewer, but the document holds every write.
func (e *Execution) NotebookOutputs() []nbformat.Output {
	var outs []nbformat.Output
	for _, c := range e.Displayed() {
		if o, ok := OutputOf(c); ok {
			outs = append(outs, o)
		}
	}
	return outs
}

// OutputOf returns the notebook output of one output message's content: a
// *Stream, *DisplayData, *ExecuteResult or *Error, or a *RawContent of
// one of those types whose content did not decode (its keys are then
// kept as nbformat keeps ill-typed ones). ok is false for the others
// (*UpdateDisplayData and *ClearOutput act on outputs and are not one).
func OutputOf(c Content) (o nbformat.Output, ok bool) {
	switch v := c.(type) {
	case *Stream:
		return nbformat.Output{OutputType: nbformat.OutputStream, Name: v.Name, Text: v.Text}, true
	case *DisplayData:
		return nbformat.Output{OutputType: nbformat.OutputDisplayData, Data: v.Data, Metadata: nbformat.Metadata(v.Metadata)}, true
	case *ExecuteResult:
		n := v.ExecutionCount
		return nbformat.Output{OutputType: nbformat.OutputExecuteResult, ExecutionCount: &n, Data: v.Data, Metadata: nbformat.Metadata(v.Metadata)}, true
	case *Error:
		return nbformat.Output{OutputType: nbformat.OutputError, EName: v.Ename, EValue: v.Evalue, Traceback: v.Traceback}, true
	case *RawContent:
		switch v.Type {
		case MsgStream, MsgDisplayData, MsgExecuteResult, MsgError:
			if err := o.UnmarshalJSON(v.JSON); err != nil {
				return nbformat.Output{}, false
			}
			delete(o.Extra, "transient")
			o.OutputType = v.Type
			return o, true
		}
	}
	return nbformat.Output{}, false
}
