package refserver

// Python's and SQLite's view of decoded JSON values: what Jupyter's
// sessions table stores, compares and prints. Sessions and kernels both
// need it to answer as Jupyter does for odd request bodies.

import (
	"encoding/json"
	"fmt"
)

// storable converts values as Python's sqlite3 stores them: strings,
// numbers and null as they are, booleans as 1 or 0. An object or array
// cannot be bound: bad is then its SQL parameter number (2 path, 3 name,
// 4 type, as in Jupyter's INSERT) and msg SQLite's complaint.
func storable(path, name, typ any) (p, n, t any, bad int, msg string) {
	out := [3]any{path, name, typ}
	for i, v := range out {
		switch b := v.(type) {
		case bool:
			out[i] = json.Number("0")
			if b {
				out[i] = json.Number("1")
			}
		case map[string]any, []any:
			return nil, nil, nil, i + 2, fmt.Sprintf("type '%s' is not supported", pyType(v))
		}
	}
	return out[0], out[1], out[2], 0, ""
}

// sameValue is SQL equality of two stored values (neither NULL).
func sameValue(a, b any) bool {
	switch a := a.(type) {
	case string:
		b, ok := b.(string)
		return ok && a == b
	case json.Number:
		switch b := b.(type) {
		case json.Number:
			return a == b
		case bool:
			return (a == "1" && b) || (a == "0" && !b)
		}
	}
	return false
}

// truthy is Python's truth value of a decoded JSON value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case json.Number:
		f, err := v.Float64()
		return err != nil || f != 0
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// pyType names the Python type json.loads gives for a decoded value.
func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "int"
		}
		return "float"
	case []any:
		return "list"
	}
	return "dict"
}

// pyStr renders a value as Python's "%s" does, for error messages.
func pyStr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	case json.Number:
		return v.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}
