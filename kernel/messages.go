package kernel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
	"github.com/nbserv/go-nbserv/nbformat"
)

// The Jupyter messaging protocol, version 5.3, as Go types: what a kernel
// and its clients say to each other over a kernel's channels (see the
// package documentation's Messages).

// ProtocolVersion is the version of the messaging protocol the SDK speaks,
// sent in every header it writes.
const ProtocolVersion = "5.3"

// Channel is one of a kernel's four message channels.
type Channel string

// The channels a client talks on.
const (
	// ChannelShell carries requests (execute, complete, inspect, kernel
	// info, comms) and their replies.
	ChannelShell Channel = "shell"
	// ChannelIOPub carries what the kernel broadcasts to every client:
	// status, the code being run, outputs, errors.
	ChannelIOPub Channel = "iopub"
	// ChannelStdin carries the kernel's input requests and the client's
	// input replies.
	ChannelStdin Channel = "stdin"
	// ChannelControl carries requests that must not wait behind running
	// code: shutdown, interrupt, debug.
	ChannelControl Channel = "control"
)

// Message types. A kernel may send others (comm_open, comm_msg, debug_event,
// …); they are delivered as Messages all the same, with *RawContent.
const (
	MsgExecuteRequest    = "execute_request"
	MsgExecuteReply      = "execute_reply"
	MsgExecuteInput      = "execute_input"
	MsgExecuteResult     = "execute_result"
	MsgStream            = "stream"
	MsgDisplayData       = "display_data"
	MsgUpdateDisplayData = "update_display_data"
	MsgClearOutput       = "clear_output"
	MsgError             = "error"
	MsgStatus            = "status"
	MsgKernelInfoRequest = "kernel_info_request"
	MsgKernelInfoReply   = "kernel_info_reply"
	MsgCompleteRequest   = "complete_request"
	MsgCompleteReply     = "complete_reply"
	MsgInspectRequest    = "inspect_request"
	MsgInspectReply      = "inspect_reply"
	MsgInputRequest      = "input_request"
	MsgInputReply        = "input_reply"
	MsgInterruptRequest  = "interrupt_request"
	MsgInterruptReply    = "interrupt_reply"
	MsgShutdownRequest   = "shutdown_request"
	MsgShutdownReply     = "shutdown_reply"
	MsgCommOpen          = "comm_open"
	MsgCommMsg           = "comm_msg"
	MsgCommClose         = "comm_close"
)

// Header identifies a message: every message has one, and a reply or
// output carries its request's header as its ParentHeader.
type Header struct {
	// MsgID is unique per message; replies and outputs refer to it.
	MsgID string `json:"msg_id"`
	// Session identifies the sender's session (for the SDK's messages,
	// the Conn's session id).
	Session string `json:"session"`
	// Username is the sender's user name ("username" from ipykernel).
	Username string `json:"username"`
	// Date is when the message was made, as the sender wrote it (ISO 8601,
	// such as "2026-11-27T21:46:02.018545Z"); see Time.
	Date string `json:"date"`
	// MsgType is the message's type, such as "execute_reply".
	MsgType string `json:"msg_type"`
	// Version is the protocol version of the sender ("5.3").
	Version string `json:"version"`
}

// Time parses Date; ok is false when it is empty or not ISO 8601.
func (h Header) Time() (t time.Time, ok bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05.999999-07:00"} {
		if t, err := time.Parse(layout, h.Date); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Message is one message of the protocol, received or sent.
//
// A received frame that is not a message (not JSON, no header object, a
// binary frame whose offsets do not fit) is still delivered, to the
// connection's message handler, with Raw holding the frame and Err saying
// what is wrong; the other fields then hold what could be read.
type Message struct {
	// Channel is the channel the message came on (or goes to).
	Channel Channel
	// Header identifies the message.
	Header Header
	// ParentHeader is the header of the request this message answers or
	// belongs to; zero when there is none (a kernel's own status).
	ParentHeader Header
	// Metadata is the message's metadata object, as sent.
	Metadata json.RawMessage
	// Content is the message's content object, as sent; Decode decodes it.
	Content json.RawMessage
	// Buffers are the binary buffers sent with the message (by comms, such
	// as widgets); nil for most messages.
	Buffers [][]byte

	// Raw is the whole frame, kept only when Err is set.
	Raw []byte
	// Err is why the frame could not be read as a message; nil when it
	// could.
	Err error

	// rawHeader is Header exactly as received, sent back verbatim as the
	// parent of a reply (an input_reply).
	rawHeader json.RawMessage
}

// MsgType is the message's type (Header.MsgType).
func (m *Message) MsgType() string { return m.Header.MsgType }

// Decode decodes Content into the typed content of the message's type:
// *ExecuteReply for an "execute_reply", *Stream for a "stream", and so on
// for each type the Msg constants name (comms included, as *RawContent).
// A type this package does not know gives *RawContent. Content that does
// not fit its type (a string where a number belongs) gives an error,
// never a panic; the Message keeps it raw.
func (m *Message) Decode() (Content, error) {
	if m.Err != nil {
		return nil, m.Err
	}
	return decodeContent(m.Header.MsgType, m.Content)
}

// Content is the typed content of one message type; MsgType names it.
type Content interface {
	MsgType() string
}

// decodeContent decodes content of msgType into its Go type.
func decodeContent(msgType string, content json.RawMessage) (Content, error) {
	var v Content
	switch msgType {
	case MsgExecuteRequest:
		v = new(ExecuteRequest)
	case MsgExecuteReply:
		v = new(ExecuteReply)
	case MsgExecuteInput:
		v = new(ExecuteInput)
	case MsgExecuteResult:
		v = new(ExecuteResult)
	case MsgStream:
		v = new(Stream)
	case MsgDisplayData:
		v = new(DisplayData)
	case MsgUpdateDisplayData:
		v = new(UpdateDisplayData)
	case MsgClearOutput:
		v = new(ClearOutput)
	case MsgError:
		v = new(Error)
	case MsgStatus:
		v = new(Status)
	case MsgKernelInfoRequest:
		v = new(KernelInfoRequest)
	case MsgKernelInfoReply:
		v = new(KernelInfoReply)
	case MsgCompleteRequest:
		v = new(CompleteRequest)
	case MsgCompleteReply:
		v = new(CompleteReply)
	case MsgInspectRequest:
		v = new(InspectRequest)
	case MsgInspectReply:
		v = new(InspectReply)
	case MsgInputRequest:
		v = new(InputRequest)
	case MsgInputReply:
		v = new(InputReply)
	case MsgInterruptRequest:
		v = new(InterruptRequest)
	case MsgInterruptReply:
		v = new(InterruptReply)
	case MsgShutdownRequest:
		v = new(ShutdownRequest)
	case MsgShutdownReply:
		v = new(ShutdownReply)
	default:
		return &RawContent{Type: msgType, JSON: content}, nil
	}
	if len(bytes.TrimSpace(content)) == 0 {
		return nil, fmt.Errorf("nbserv: %s message without content", msgType)
	}
	if err := json.Unmarshal(content, v); err != nil {
		return nil, fmt.Errorf("nbserv: decoding %s content: %w", msgType, err)
	}
	return v, nil
}

// RawContent is the content of a message type without a Go type of its
// own (comm_open, comm_msg, comm_close, debug_event, …): its JSON as sent.
type RawContent struct {
	// Type is the message type.
	Type string
	// JSON is the content object as sent.
	JSON json.RawMessage
}

// MsgType returns Type.
func (c *RawContent) MsgType() string { return c.Type }

// ExecuteRequest is the content of an execute_request: code to run.
type ExecuteRequest struct {
	// Code is the source to run.
	Code string `json:"code"`
	// Silent runs the code without broadcasting outputs or counting it.
	Silent bool `json:"silent"`
	// StoreHistory records the code in the kernel's history.
	StoreHistory bool `json:"store_history"`
	// UserExpressions are evaluated after the code, their results returned
	// in the reply's UserExpressions.
	UserExpressions map[string]string `json:"user_expressions"`
	// AllowStdin lets the code ask for input (input_request).
	AllowStdin bool `json:"allow_stdin"`
	// StopOnError aborts the requests queued behind this one if it fails.
	StopOnError bool `json:"stop_on_error"`
}

// MsgType returns "execute_request".
func (*ExecuteRequest) MsgType() string { return MsgExecuteRequest }

// Execution reply statuses (ExecuteReply.Status and the other replies').
const (
	StatusOK      = "ok"
	StatusError   = "error"
	StatusAborted = "aborted"
)

// ExecuteReply is the content of an execute_reply: how running the code
// ended.
type ExecuteReply struct {
	// Status is StatusOK, StatusError or StatusAborted (an earlier error
	// with stop_on_error aborted this request).
	Status string `json:"status"`
	// ExecutionCount is the kernel's execution counter for this request.
	ExecutionCount int `json:"execution_count"`
	// Ename is the exception's class name when Status is StatusError.
	Ename string `json:"ename,omitempty"`
	// Evalue is the exception's message when Status is StatusError.
	Evalue string `json:"evalue,omitempty"`
	// Traceback is the formatted traceback when Status is StatusError.
	Traceback []string `json:"traceback,omitempty"`
	// Payload holds deprecated payloads (such as "page"), as sent.
	Payload []json.RawMessage `json:"payload,omitempty"`
	// UserExpressions holds the results of the request's user
	// expressions, each a MIME bundle with a status, as sent.
	UserExpressions map[string]json.RawMessage `json:"user_expressions,omitempty"`
}

// MsgType returns "execute_reply".
func (*ExecuteReply) MsgType() string { return MsgExecuteReply }

// ExecuteInput is the content of an execute_input: the kernel announces
// on IOPub the code it is about to run, with its execution count.
type ExecuteInput struct {
	// Code is the code being run.
	Code string `json:"code"`
	// ExecutionCount is its execution counter (In [n]).
	ExecutionCount int `json:"execution_count"`
}

// MsgType returns "execute_input".
func (*ExecuteInput) MsgType() string { return MsgExecuteInput }

// ExecuteResult is the content of an execute_result: the value of the
// code's last expression (Out[n]).
type ExecuteResult struct {
	// ExecutionCount is the execution's counter (Out[n]).
	ExecutionCount int `json:"execution_count"`
	// Data holds the value's representations, by MIME type.
	Data nbformat.MIMEBundle `json:"data"`
	// Metadata holds per-MIME-type metadata (such as image sizes), as sent.
	Metadata map[string]json.RawMessage `json:"metadata"`
	// Transient holds what is not saved in a notebook: a "display_id"
	// when the result was displayed with one (IPython's
	// display(..., display_id=...) as the last expression), which
	// update_display_data may later refer to.
	Transient map[string]json.RawMessage `json:"transient,omitempty"`
}

// MsgType returns "execute_result".
func (*ExecuteResult) MsgType() string { return MsgExecuteResult }

// DisplayID returns Transient's "display_id", or "".
func (r *ExecuteResult) DisplayID() string { return displayID(r.Transient) }

// Stream names.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Stream is the content of a stream message: text the code wrote to
// stdout or stderr.
type Stream struct {
	// Name is Stdout or Stderr.
	Name string `json:"name"`
	// Text is what was written (a piece of it: writes arrive in chunks).
	Text string `json:"text"`
}

// MsgType returns "stream".
func (*Stream) MsgType() string { return MsgStream }

// DisplayData is the content of a display_data message: a rich value
// shown by display().
type DisplayData struct {
	// Data holds the value's representations, by MIME type.
	Data nbformat.MIMEBundle `json:"data"`
	// Metadata holds per-MIME-type metadata, as sent.
	Metadata map[string]json.RawMessage `json:"metadata"`
	// Transient holds what is not saved in a notebook, such as the
	// "display_id" that update_display_data refers to.
	Transient map[string]json.RawMessage `json:"transient,omitempty"`
}

// MsgType returns "display_data".
func (*DisplayData) MsgType() string { return MsgDisplayData }

// DisplayID returns Transient's "display_id", or "".
func (d *DisplayData) DisplayID() string { return displayID(d.Transient) }

// UpdateDisplayData is the content of an update_display_data message: it
// replaces every earlier display with the same display id.
type UpdateDisplayData struct {
	// Data holds the new representations, by MIME type.
	Data nbformat.MIMEBundle `json:"data"`
	// Metadata holds per-MIME-type metadata, as sent.
	Metadata map[string]json.RawMessage `json:"metadata"`
	// Transient holds the "display_id" of the displays to replace.
	Transient map[string]json.RawMessage `json:"transient"`
}

// MsgType returns "update_display_data".
func (*UpdateDisplayData) MsgType() string { return MsgUpdateDisplayData }

// DisplayID returns Transient's "display_id", or "".
func (d *UpdateDisplayData) DisplayID() string { return displayID(d.Transient) }

func displayID(transient map[string]json.RawMessage) string {
	var id string
	_ = json.Unmarshal(transient["display_id"], &id)
	return id
}

// ClearOutput is the content of a clear_output message: the outputs so far
// are to be cleared, at once or (Wait) when the next output arrives.
type ClearOutput struct {
	// Wait defers the clearing until the next output arrives.
	Wait bool `json:"wait"`
}

// MsgType returns "clear_output".
func (*ClearOutput) MsgType() string { return MsgClearOutput }

// Error is the content of an error message, the exception the code
// raised, and the Go error Execute returns for it: errors.As(err, &ke)
// reaches it.
type Error struct {
	// Ename is the exception's class name, such as "ValueError".
	Ename string `json:"ename"`
	// Evalue is the exception's message.
	Evalue string `json:"evalue"`
	// Traceback is the formatted traceback, one entry per frame, with the
	// kernel's terminal colour codes (PlainTraceback removes them).
	Traceback []string `json:"traceback"`
}

// MsgType returns "error".
func (*Error) MsgType() string { return MsgError }

// Error reports the exception on one line, as "kernel error: ValueError:
// boom"; the traceback stays in the field.
func (e *Error) Error() string {
	s := "nbserv: kernel error: " + e.Ename
	if e.Evalue != "" {
		s += ": " + e.Evalue
	}
	return transport.OneLine(s)
}

// ansiEscape matches terminal colour and cursor codes.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]")

// PlainTraceback returns the traceback as one text, without colour codes.
func (e *Error) PlainTraceback() string {
	return ansiEscape.ReplaceAllString(strings.Join(e.Traceback, "\n"), "")
}

// Kernel execution states, as Status messages and the REST API's kernel
// model report them. A server may send others; compare with these rather
// than literals.
const (
	// StateStarting: the kernel process is starting, or no client has
	// connected to its channels yet (Jupyter reports this until one does).
	StateStarting = "starting"
	// StateIdle: the kernel is waiting for a request.
	StateIdle = "idle"
	// StateBusy: the kernel is running a request.
	StateBusy = "busy"
	// StateRestarting: the kernel is being restarted.
	StateRestarting = "restarting"
	// StateDead: the kernel died and could not be restarted.
	StateDead = "dead"
)

// Status is the content of a status message: the kernel is busy with a
// request, idle again, starting, or (sent by the server) restarting or
// dead.
type Status struct {
	// ExecutionState is StateBusy, StateIdle, StateStarting,
	// StateRestarting or StateDead.
	ExecutionState string `json:"execution_state"`
}

// MsgType returns "status".
func (*Status) MsgType() string { return MsgStatus }

// KernelInfoRequest is the (empty) content of a kernel_info_request.
type KernelInfoRequest struct{}

// MsgType returns "kernel_info_request".
func (*KernelInfoRequest) MsgType() string { return MsgKernelInfoRequest }

// KernelInfoReply is the content of a kernel_info_reply: what the kernel
// is and speaks.
type KernelInfoReply struct {
	// Status is StatusOK.
	Status string `json:"status"`
	// ProtocolVersion is the messaging protocol version the kernel speaks.
	ProtocolVersion string `json:"protocol_version"`
	// Implementation names the kernel ("ipython"), ImplementationVersion
	// its version.
	Implementation        string `json:"implementation"`
	ImplementationVersion string `json:"implementation_version"`
	// LanguageInfo describes the language the kernel runs.
	LanguageInfo nbformat.LanguageInfo `json:"language_info"`
	// Banner is the kernel's greeting text.
	Banner string `json:"banner"`
	// Debugger is true when the kernel supports the debug protocol.
	Debugger bool `json:"debugger,omitempty"`
	// HelpLinks are documentation links for the kernel's language.
	HelpLinks []HelpLink `json:"help_links,omitempty"`
}

// MsgType returns "kernel_info_reply".
func (*KernelInfoReply) MsgType() string { return MsgKernelInfoReply }

// HelpLink is one documentation link, as a kernel_info_reply and a
// kernelspec's help menu carry it.
type HelpLink struct {
	// Text is the menu entry's text.
	Text string `json:"text"`
	// URL is where it leads.
	URL string `json:"url"`
}

// CompleteRequest is the content of a complete_request.
type CompleteRequest struct {
	// Code is the text being completed.
	Code string `json:"code"`
	// CursorPos counts Unicode code points (runes), not bytes.
	CursorPos int `json:"cursor_pos"`
}

// MsgType returns "complete_request".
func (*CompleteRequest) MsgType() string { return MsgCompleteRequest }

// CompleteReply is the content of a complete_reply: the completions of
// the text between CursorStart and CursorEnd (in runes).
type CompleteReply struct {
	// Status is StatusOK or StatusError.
	Status string `json:"status"`
	// Matches are the completions.
	Matches []string `json:"matches"`
	// CursorStart and CursorEnd delimit the text the matches replace.
	CursorStart int `json:"cursor_start"`
	CursorEnd   int `json:"cursor_end"`
	// Metadata holds extra information (ipykernel's completion types), as sent.
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// MsgType returns "complete_reply".
func (*CompleteReply) MsgType() string { return MsgCompleteReply }

// InspectRequest is the content of an inspect_request.
type InspectRequest struct {
	// Code is the text holding the name to inspect.
	Code string `json:"code"`
	// CursorPos counts Unicode code points (runes), not bytes.
	CursorPos int `json:"cursor_pos"`
	// DetailLevel is 0 or 1 (more detail, such as the source).
	DetailLevel int `json:"detail_level"`
}

// MsgType returns "inspect_request".
func (*InspectRequest) MsgType() string { return MsgInspectRequest }

// InspectReply is the content of an inspect_reply: help on the name at
// the cursor, when Found.
type InspectReply struct {
	// Status is StatusOK or StatusError.
	Status string `json:"status"`
	// Found says whether the name was found.
	Found bool `json:"found"`
	// Data holds the help text, by MIME type.
	Data nbformat.MIMEBundle `json:"data"`
	// Metadata holds per-MIME-type metadata, as sent.
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// MsgType returns "inspect_reply".
func (*InspectReply) MsgType() string { return MsgInspectReply }

// InputRequest is the content of an input_request: running code (input(),
// getpass()) asks the client for a line of text.
type InputRequest struct {
	// Prompt is the text to show, such as "name? ".
	Prompt string `json:"prompt"`
	// Password asks for input not to be echoed.
	Password bool `json:"password"`
}

// MsgType returns "input_request".
func (*InputRequest) MsgType() string { return MsgInputRequest }

// InputReply is the content of an input_reply: the line typed.
type InputReply struct {
	// Value is the line, without its newline.
	Value string `json:"value"`
}

// MsgType returns "input_reply".
func (*InputReply) MsgType() string { return MsgInputReply }

// InterruptRequest is the (empty) content of an interrupt_request, for
// kernels whose kernelspec asks for message interrupts.
type InterruptRequest struct{}

// MsgType returns "interrupt_request".
func (*InterruptRequest) MsgType() string { return MsgInterruptRequest }

// InterruptReply is the content of an interrupt_reply.
type InterruptReply struct {
	// Status is StatusOK.
	Status string `json:"status"`
}

// MsgType returns "interrupt_reply".
func (*InterruptReply) MsgType() string { return MsgInterruptReply }

// ShutdownRequest is the content of a shutdown_request (on control).
type ShutdownRequest struct {
	// Restart asks for a restart after the shutdown.
	Restart bool `json:"restart"`
}

// MsgType returns "shutdown_request".
func (*ShutdownRequest) MsgType() string { return MsgShutdownRequest }

// ShutdownReply is the content of a shutdown_reply, which ipykernel also
// broadcasts on IOPub: the kernel is going down, to restart if Restart.
type ShutdownReply struct {
	// Status is StatusOK.
	Status string `json:"status"`
	// Restart says whether the kernel is restarting.
	Restart bool `json:"restart"`
}

// MsgType returns "shutdown_reply".
func (*ShutdownReply) MsgType() string { return MsgShutdownReply }
