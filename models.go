package nbserv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"time"

	"github.com/nbserv/go-nbserv/kernel"
)

// Kernel execution states, as Kernel.ExecutionState reports them (the
// kernel package's, which its Status messages carry). A server may send
// others; compare with these rather than literals.
const (
	StateStarting   = kernel.StateStarting
	StateIdle       = kernel.StateIdle
	StateBusy       = kernel.StateBusy
	StateRestarting = kernel.StateRestarting
	StateDead       = kernel.StateDead
)

// SessionType is what a session is for, as Session.Type and the requests'
// Type fields hold it. Jupyter stores whatever string a client sends, so
// a session may hold a type other than the constants below.
type SessionType string

// The session types Jupyter's own clients create.
const (
	// SessionNotebook is the session of a notebook (Jupyter then also
	// reports the legacy Session.Notebook pair).
	SessionNotebook SessionType = "notebook"
	// SessionConsole is the session of a console.
	SessionConsole SessionType = "console"
	// SessionFile is the session of another file, such as a script
	// JupyterLab runs in a kernel.
	SessionFile SessionType = "file"
)

// Session ties a path (a notebook, a file, a console) to a running kernel.
type Session struct {
	// ID is the session's UUID.
	ID string `json:"id"`
	// Path is the file the session belongs to, relative to the server's
	// root. Empty when the server holds null.
	Path string `json:"path"`
	// Name is the session's display name. Empty when never given (null).
	Name string `json:"name"`
	// Type is SessionNotebook, SessionConsole, SessionFile, or any string
	// a client chose.
	Type SessionType `json:"type"`
	// Kernel is the kernel the session runs on. Jupyter always sends it,
	// but it is nil when a server sends none (or null): check before use.
	Kernel *Kernel `json:"kernel"`
	// Notebook is the legacy {"path", "name"} pair that Jupyter still sends
	// for notebook sessions. When a server sends only this key, Path and
	// Name are filled from it.
	Notebook *NotebookRef `json:"notebook,omitempty"`

	// Malformed holds, by JSON key, the raw value of each field whose JSON
	// type did not fit (a server stores whatever a client sent, so
	// {"name": 5} is possible). The typed field is left zero and the raw
	// value kept here, so one odd session never fails a whole List. Keys
	// inside the kernel are prefixed "kernel.". Nil for well-formed
	// sessions.
	Malformed map[string]json.RawMessage `json:"-"`
}

// NotebookRef is the legacy notebook model of a notebook session.
type NotebookRef struct {
	// Path is the notebook's path.
	Path string `json:"path"`
	// Name is the notebook's name.
	Name string `json:"name"`
}

// Kernel is a running kernel as the server reports it.
type Kernel struct {
	// ID is the kernel's UUID.
	ID string `json:"id"`
	// Name is the kernelspec name, such as "python3".
	Name string `json:"name"`
	// LastActivity is when the kernel last sent or received a message.
	LastActivity time.Time `json:"last_activity"`
	// ExecutionState is one of the State constants (StateIdle, StateBusy,
	// ...) or another string a server sent.
	ExecutionState string `json:"execution_state"`
	// Connections counts the clients connected to the kernel's channels.
	Connections int `json:"connections"`
	// Reason says why a kernel's start failed; Jupyter adds it only then
	// (both generations).
	Reason string `json:"reason,omitempty"`
}

// CreateSessionRequest is the body of Create.
type CreateSessionRequest struct {
	// Path is required: the file the session is for.
	Path string `json:"path"`
	// Type is required: SessionNotebook, SessionConsole, SessionFile or
	// any string.
	Type SessionType `json:"type"`
	// Name is optional; Jupyter stores null when it is empty.
	Name string `json:"name,omitempty"`
	// Kernel optionally picks the kernel; nil starts the server's default.
	Kernel *KernelRequest `json:"kernel,omitempty"`
}

// KernelRequest picks a kernel: ID attaches to a running kernel, Name
// starts a new kernel of that kernelspec. When both are set the server
// uses ID.
type KernelRequest struct {
	// ID of a running kernel to attach to.
	ID string `json:"id,omitempty"`
	// Name of the kernelspec to start a new kernel from.
	Name string `json:"name,omitempty"`
	// Env is sent as the request's "env". Jupyter Server 1.23.3 and 2.21.1
	// both ignore it for the kernel they start (docs/wire/jupyter-server-2.md G7);
	// it is here for servers and kernel provisioners that read it.
	Env map[string]string `json:"env,omitempty"`
}

// UpdateSessionRequest is the body of Update. Nil fields are not sent, so
// the server leaves them unchanged.
type UpdateSessionRequest struct {
	// Path moves the session to another path.
	Path *string `json:"path,omitempty"`
	// Name renames the session.
	Name *string `json:"name,omitempty"`
	// Type changes the session's type.
	Type *SessionType `json:"type,omitempty"`
	// Kernel switches kernels: by Name the server starts a new kernel, by
	// ID it attaches to a running one; either way the old kernel is shut
	// down.
	Kernel *KernelRequest `json:"kernel,omitempty"`
}

// Ptr returns a pointer to v, for the optional fields of
// UpdateSessionRequest: Ptr("renamed").
func Ptr[T any](v T) *T { return &v }

// fill copies the legacy notebook model into Path and Name when the
// server sent only that.
func (s *Session) fill() {
	if s.Notebook == nil {
		return
	}
	if s.Path == "" {
		s.Path = s.Notebook.Path
	}
	if s.Name == "" {
		s.Name = s.Notebook.Name
	}
	if s.Type == "" {
		s.Type = SessionNotebook
	}
}

// errNoID marks a model without an id: whatever it is, it is not a
// session or a kernel a client could act on.
var errNoID = errors.New("no id")

// check reports a session a client could not act on: one without an id
// (missing, null, empty or not a string).
func (s *Session) check() error {
	if s.ID == "" {
		return fmt.Errorf("session with %w", errNoID)
	}
	return nil
}

// decodeSession decodes one session model. A field of the wrong JSON type
// is kept in Malformed rather than failing the decode; a body that is not
// a JSON object, or a session without an id, is an error.
func decodeSession(body []byte) (*Session, error) {
	if string(bytes.TrimSpace(body)) == "null" {
		return nil, errors.New("null instead of a session")
	}
	s := new(Session)
	if err := json.Unmarshal(body, s); err != nil {
		if !isTypeError(err) {
			return nil, err
		}
		if s, err = decodeSessionLeniently(body); err != nil {
			return nil, err
		}
	}
	s.fill()
	return s, s.check()
}

// decodeSessions decodes a list of session models. The fast path is one
// json.Unmarshal; only if some field has the wrong JSON type is the list
// decoded again, element by element from a stream (so no copy of the whole
// list is held), keeping the odd session with its Malformed fields. null
// is not a list, and every element must be a session with an id.
//
// budget bounds what the lenient path's Malformed maps may take, on top
// of the estimate the transport checked before decoding
// (internal/transport/decodebound.go).
func decodeSessions(body []byte, budget int64) ([]Session, error) {
	if string(bytes.TrimSpace(body)) == "null" {
		return nil, errors.New("null instead of a list of sessions")
	}
	var list []Session
	if err := json.Unmarshal(body, &list); err != nil {
		if !isTypeError(err) {
			return nil, err
		}
		if list, err = decodeSessionsLeniently(body, budget); err != nil {
			return nil, err
		}
	}
	if list == nil {
		list = []Session{}
	}
	for i := range list {
		list[i].fill()
		if err := list[i].check(); err != nil {
			return nil, fmt.Errorf("element %d of %d: %w", i, len(list), err)
		}
	}
	return list, nil
}

// costMalformed is what the lenient session decoder charges against the
// decoding budget (see the transport's decoding bound), as it goes, for
// each Session.Malformed map it keeps (a small map's table).
const costMalformed = 512

// decodeSessionsLeniently decodes a JSON array of sessions one element at
// a time.
func decodeSessionsLeniently(body []byte, budget int64) ([]Session, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, errors.New("not a JSON array of sessions")
	}
	var list []Session
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		s := new(Session)
		if err := json.Unmarshal(raw, s); err != nil {
			if !isTypeError(err) {
				return nil, err
			}
			if s, err = decodeSessionLeniently(raw); err != nil {
				return nil, fmt.Errorf("element %d: %w", len(list), err)
			}
			if err := s.check(); err != nil {
				return nil, fmt.Errorf("element %d: %w", len(list), err)
			}
			if budget -= costMalformed; budget < 0 {
				return nil, fmt.Errorf("%w: too many sessions with malformed fields", ErrResponseTooLarge)
			}
		}
		list = append(list, *s)
	}
	return list, nil
}

// isTypeError reports whether a decode failed on a value of the wrong type
// (including a time.Time that would not parse) rather than on bad JSON.
func isTypeError(err error) bool {
	var syn *json.SyntaxError
	return !errors.As(err, &syn)
}

// decodeSessionLeniently decodes a session field by field.
func decodeSessionLeniently(raw []byte) (*Session, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("session is not a JSON object: %w", err)
	}
	s := new(Session)
	bad := map[string]json.RawMessage{}
	decodeFields(obj, "", map[string]any{
		"id": &s.ID, "path": &s.Path, "name": &s.Name, "type": &s.Type, "notebook": &s.Notebook,
	}, bad)
	if k, ok := obj["kernel"]; ok {
		var kobj map[string]json.RawMessage
		if err := json.Unmarshal(k, &kobj); err != nil {
			bad["kernel"] = k
		} else if kobj != nil {
			s.Kernel = new(Kernel)
			decodeFields(kobj, "kernel.", map[string]any{
				"id": &s.Kernel.ID, "name": &s.Kernel.Name, "last_activity": &s.Kernel.LastActivity,
				"execution_state": &s.Kernel.ExecutionState, "connections": &s.Kernel.Connections,
				"reason": &s.Kernel.Reason,
			}, bad)
		}
	}
	if len(bad) > 0 {
		s.Malformed = maps.Clone(bad) // sized to what it holds
	}
	return s, nil
}

// decodeFields decodes each known key of obj into its destination,
// recording the keys whose value does not fit in bad (under prefix+key).
// Each value is decoded into a fresh variable and stored only if it
// decodes whole: json.Unmarshal leaves a map, slice or pointer half-filled
// when an element fails ({"N": 5} into a map[string]string gives
// {"N": ""}), and a field listed as malformed must be left unset.
func decodeFields(obj map[string]json.RawMessage, prefix string, dst map[string]any, bad map[string]json.RawMessage) {
	for key, ptr := range dst {
		raw, ok := obj[key]
		if !ok {
			continue
		}
		v := reflect.New(reflect.TypeOf(ptr).Elem())
		if err := json.Unmarshal(raw, v.Interface()); err != nil {
			bad[prefix+key] = raw
			continue
		}
		reflect.ValueOf(ptr).Elem().Set(v.Elem())
	}
}

// decodeKernel decodes one kernel model; one without an id is an error.
func decodeKernel(body []byte) (*Kernel, error) {
	if string(bytes.TrimSpace(body)) == "null" {
		return nil, errors.New("null instead of a kernel")
	}
	k := new(Kernel)
	if err := json.Unmarshal(body, k); err != nil {
		return nil, err
	}
	if k.ID == "" {
		return nil, fmt.Errorf("kernel with %w", errNoID)
	}
	return k, nil
}

// decodeKernels decodes a list of kernel models, each with an id.
func decodeKernels(body []byte) ([]Kernel, error) {
	if string(bytes.TrimSpace(body)) == "null" {
		return nil, errors.New("null instead of a list of kernels")
	}
	list := []Kernel{}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == "" {
			return nil, fmt.Errorf("element %d of %d: kernel with %w", i, len(list), errNoID)
		}
	}
	return list, nil
}

// decodeInto returns a decoder that unmarshals a body into v.
func decodeInto(v any) func([]byte) error {
	return func(b []byte) error { return json.Unmarshal(b, v) }
}
