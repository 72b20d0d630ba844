package refserver

// Terminals: /api/terminals and /api/terminals/{name}, answered as
// Jupyter's TerminalManager (on terminado's NamedTermManager) does. No pty
// is opened: a terminal is its name and creation time, which is all the
// REST API shows of one.

import (
	"fmt"
	"math"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type terminal struct {
	key          string // the name as a Python dict key (pyKey)
	name         any    // the name as first stored: "1", or what a client sent
	lastActivity time.Time
	sh           *termShell // its scripted shell, once a socket opened (terminals_ws.go)
}

func (t *terminal) model() map[string]any {
	return map[string]any{"name": t.name, "last_activity": isoformat(t.lastActivity)}
}

// terminalNamed finds a terminal by the name in its URL; the caller holds
// s.mu.
func (s *Server) terminalNamed(name string) *terminal {
	key := "s:" + name
	for _, t := range s.terms {
		if t.key == key {
			return t
		}
	}
	return nil
}

func (s *Server) terminalsRoot(r *http.Request, _ string) reply {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		list := make([]map[string]any, len(s.terms))
		for i, t := range s.terms {
			list[i] = t.model()
		}
		return reply{status: http.StatusOK, body: list}
	}
	return s.createTerminal(r)
}

// createTerminal is POST /api/terminals: 200 (not 201) and no Location.
// The body, when there is one, holds keyword arguments for terminado: a
// name, a cwd, the size; the checks below are the ones Python makes on
// them, in its order.
func (s *Server) createTerminal(r *http.Request) reply {
	v, err := readJSON(r)
	if err != nil && err != errNoJSON {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	if !truthy(v) { // the handler's `self.get_json_body() or {}`
		v = map[string]any{}
	}
	var data map[string]any
	switch d := v.(type) {
	case map[string]any:
		data = d
	case string:
		if strings.Contains(d, "cwd") {
			return crashReply("TypeError: string indices must be integers, not 'str'")
		}
		return crashReply("TypeError: TerminalManager.create() argument after ** must be a mapping, not str")
	case []any:
		if slices.Contains(d, any("cwd")) {
			return crashReply("TypeError: list indices must be integers or slices, not str")
		}
		return crashReply("TypeError: TerminalManager.create() argument after ** must be a mapping, not list")
	default:
		return crashReply(fmt.Sprintf("TypeError: argument of type '%s' is not iterable", pyType(v)))
	}
	if cwd, ok := data["cwd"]; ok {
		// Jupyter resolves it and drops it when no such dir exists; only
		// its type can fail.
		if _, ok := cwd.(string); !ok {
			return crashReply(fmt.Sprintf("TypeError: expected str, bytes or os.PathLike object, not %s", pyType(cwd)))
		}
	}
	// terminado formats the size with %d before it starts the shell.
	for _, k := range []string{"width", "height"} {
		if dim, ok := data[k]; ok {
			if msg := pyFormatD(dim); msg != "" {
				return crashReply("TypeError: " + msg)
			}
		}
	}
	if ww, wh := data["winwidth"], data["winheight"]; truthy(ww) && truthy(wh) {
		for _, dim := range []any{ww, wh} {
			if msg := pyFormatD(dim); msg != "" {
				return crashReply("TypeError: " + msg)
			}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	name, named := data["name"]
	if !named {
		name = s.nextTerminalName()
	}
	key, err := pyKey(name)
	if err != nil {
		return crashReply("TypeError: " + err.Error())
	}
	t := &terminal{key: key, name: name, lastActivity: time.Now().UTC()}
	// A name in use replaces that terminal where it stands in the dict,
	// which keeps its first key; the old shell would be left running.
	if i := slices.IndexFunc(s.terms, func(o *terminal) bool { return o.key == key }); i >= 0 {
		t.name = s.terms[i].name
		s.terms[i] = t
	} else {
		s.terms = append(s.terms, t)
	}
	model := t.model()
	model["name"] = name // the answer echoes the name as sent
	return reply{status: http.StatusOK, body: model}
}

// nextTerminalName is terminado's lowest free "%d" name from 1; the caller
// holds s.mu.
func (s *Server) nextTerminalName() string {
	for n := 1; ; n++ {
		name := fmt.Sprint(n)
		if s.terminalNamed(name) == nil {
			return name
		}
	}
}

func (s *Server) terminalByName(r *http.Request, name string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.terminalNamed(name)
	if t == nil {
		return errorReply(http.StatusNotFound, "Terminal not found: "+name)
	}
	if r.Method == http.MethodDelete {
		s.endTerminal(t) // its sockets are told and closed, as when the pty ends
		return reply{status: http.StatusNoContent}
	}
	return reply{status: http.StatusOK, body: t.model()}
}

// pyKey is a decoded JSON value as a Python dict key: equal keys (5, 5.0
// and true == 1) give equal strings; a list or dict is unhashable.
func pyKey(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "None", nil
	case string:
		return "s:" + v, nil
	case bool:
		if v {
			return "n:1", nil
		}
		return "n:0", nil
	case []any, map[string]any:
		return "", fmt.Errorf("unhashable type: '%s'", pyType(v))
	}
	n := fmt.Sprint(v)                  // a json.Number
	if !strings.ContainsAny(n, ".eE") { // a Python int
		if n == "-0" {
			n = "0"
		}
		return "n:" + n, nil
	}
	f, _ := strconv.ParseFloat(n, 64) // a Python float; out of range is ±inf, as in Python
	if f == 0 {                       // -0.0 too
		return "n:0", nil
	}
	if f == math.Trunc(f) && !math.IsInf(f, 0) {
		return "n:" + new(big.Float).SetFloat64(f).Text('f', 0), nil // equal to the int of that value
	}
	return "f:" + strconv.FormatFloat(f, 'g', -1, 64), nil
}

// pyFormatD is the error of Python's "%d" % v, or "" when v formats
// (numbers and booleans do).
func pyFormatD(v any) string {
	switch v.(type) {
	case nil, string, []any, map[string]any:
		return fmt.Sprintf("%%d format: a real number is required, not %s", pyType(v))
	}
	return ""
}
