package refserver

// Frontend config sections: GET, PATCH and PUT /api/config/{section}, kept
// per server as Jupyter keeps them in serverconfig/{section}.json.

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// configSection serves /api/config/{section}. A section never written is
// {}. PATCH merges as Jupyter's recursive_update and answers the section;
// PUT replaces it, as sent, and answers 204. Reads see a section through
// the same merge, so a stored null or empty object never shows.
func (s *Server) configSection(r *http.Request, section string) reply {
	if r.Method == http.MethodGet {
		s.mu.Lock()
		defer s.mu.Unlock()
		return reply{status: http.StatusOK, body: s.visibleConfig(section)}
	}
	v, err := readJSON(r)
	if err == errNoJSON {
		return crashReply("AttributeError: 'NoneType' object has no attribute 'items'")
	} else if err != nil {
		return errorReply(http.StatusBadRequest, err.Error())
	}
	update, ok := v.(map[string]any)
	if !ok {
		return crashReply(fmt.Sprintf("AttributeError: '%s' object has no attribute 'items'", pyType(v)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.config == nil {
		s.config = map[string]map[string]any{}
	}
	if r.Method == http.MethodPut {
		s.config[section] = deepCopy(update).(map[string]any)
		return reply{status: http.StatusNoContent}
	}
	data := s.visibleConfig(section)
	if err := recursiveUpdate(data, update); err != nil {
		// Jupyter's update raises before it writes: nothing changes.
		return crashReply(err.Error())
	}
	s.config[section] = data
	return reply{status: http.StatusOK, body: deepCopy(data)}
}

// visibleConfig is a section as Jupyter reads it: merged into {}. It is a
// fresh value the caller may change; the caller holds s.mu.
func (s *Server) visibleConfig(section string) map[string]any {
	data := map[string]any{}
	_ = recursiveUpdate(data, deepCopy(s.config[section]).(map[string]any)) // merging into a fresh object cannot fail
	return data
}

// recursiveUpdate merges update into target as Jupyter's recursive_update:
// an object merges key by key (an object left empty is removed), null
// removes the key, anything else replaces the value. Where Python would
// raise (an object merged into a scalar or a list) it returns Python's
// complaint; target may then be half changed. Keys are taken in sorted
// order, so the complaint is the same from one run to the next.
func recursiveUpdate(target any, update map[string]any) error {
	t, isMap := target.(map[string]any)
	keys := make([]string, 0, len(update))
	for k := range update {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := update[k]
		if !isMap {
			return notADict(target, k, v)
		}
		switch v := v.(type) {
		case map[string]any:
			if _, ok := t[k]; !ok {
				t[k] = map[string]any{}
			}
			if err := recursiveUpdate(t[k], v); err != nil {
				return err
			}
			if !truthy(t[k]) { // Python's `if not target[k]`: 0, "" and [] go too
				delete(t, k)
			}
		case nil:
			delete(t, k)
		default:
			t[k] = v
		}
	}
	return nil
}

// notADict is the exception recursive_update meets when target, a value
// met below the top, is not a dict and gets key k set to v.
func notADict(target any, k string, v any) error {
	typ := pyType(target)
	switch v.(type) {
	case map[string]any: // `k not in target`, then target[k]
		switch t := target.(type) {
		case string:
			if strings.Contains(t, k) {
				return fmt.Errorf("TypeError: string indices must be integers, not 'str'")
			}
		case []any:
		default:
			return fmt.Errorf("TypeError: argument of type '%s' is not iterable", typ)
		}
	case nil: // target.pop(k, None)
		if _, ok := target.([]any); ok {
			return fmt.Errorf("TypeError: pop expected at most 1 argument, got 2")
		}
		return fmt.Errorf("AttributeError: '%s' object has no attribute 'pop'", typ)
	}
	if _, ok := target.([]any); ok { // target[k] = ...
		return fmt.Errorf("TypeError: list indices must be integers or slices, not str")
	}
	return fmt.Errorf("TypeError: '%s' object does not support item assignment", typ)
}

// deepCopy copies a decoded JSON value, so that a stored section and the
// answers made from it share nothing; a nil map becomes an empty one.
func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = deepCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = deepCopy(x)
		}
		return out
	}
	return v
}
