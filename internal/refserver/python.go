package refserver

// Python's and SQLite's view of decoded JSON values: what Jupyter's
// sessions table stores, compares and prints. Sessions and kernels both
// need it to answer as Jupyter does for odd request bodies. Decoded values
// are nil, bool, string, json.Number, []any and map[string]any.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nbserv/go-nbserv/internal/pyrepr"
)

// bindError is SQLite refusing a value Python's sqlite3 binds: the
// exception's class and its message as str(exception) gives it.
type bindError struct{ exc, msg string }

// crash is the exception as the last line of Python's traceback shows it.
func (e *bindError) crash() string { return e.exc + ": " + e.msg }

// sqlValue converts v as Python's sqlite3 binds it as SQL parameter
// number param: strings and null as they are, booleans as the integers 1
// and 0, integers within 64 bits as integers, floats as reals (printed back
// as Python prints floats). Objects, arrays and larger integers cannot be
// bound.
func sqlValue(v any, param int) (any, *bindError) {
	switch v := v.(type) {
	case bool:
		if v {
			return json.Number("1"), nil
		}
		return json.Number("0"), nil
	case json.Number:
		n, ok := pyNumber(v)
		if !ok {
			return nil, &bindError{"OverflowError", "Python int too large to convert to SQLite INTEGER"}
		}
		return n, nil
	case map[string]any, []any:
		return nil, &bindError{"sqlite3.ProgrammingError", fmt.Sprintf("Error binding parameter %d: type '%s' is not supported", param, pyType(v))}
	}
	return v, nil
}

// storable binds a session row's path, name and type as Jupyter's INSERT
// does (parameters 2, 3 and 4); the first refusal wins.
func storable(path, name, typ any) (p, n, t any, err *bindError) {
	var out [3]any
	for i, v := range [3]any{path, name, typ} {
		if out[i], err = sqlValue(v, i+2); err != nil {
			return nil, nil, nil, err
		}
	}
	return out[0], out[1], out[2], nil
}

// pyNumber is a JSON number as Python decodes it and SQLite stores it:
// an integer literal stays an integer (ok is false beyond 64 bits, which
// SQLite cannot store), any other literal becomes a float printed as
// Python's repr prints it ("1E2" is "100.0").
func pyNumber(n json.Number) (json.Number, bool) {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return n, false
		}
		return json.Number(strconv.FormatInt(i, 10)), true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		// Beyond float64: Python reads inf, and Jupyter answers Infinity,
		// which is not JSON; the reference server keeps the literal.
		return n, true
	}
	return json.Number(pyFloatRepr(f)), true
}

// pathKey is the key under which SQL equality finds a value bound by
// sqlValue: strings equal strings, numbers equal numbers of the same value
// (1 = 1.0 = true), and NULL equals nothing (ok is false).
func pathKey(stored any) (key string, ok bool) {
	switch v := stored.(type) {
	case string:
		return "s" + v, true
	case json.Number:
		f, err := v.Float64()
		if strings.ContainsAny(string(v), ".eE") && err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return "n" + strconv.FormatInt(int64(f), 10), true
		}
		return "n" + string(v), true
	}
	return "", false
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
		if !strings.ContainsAny(string(v), ".eE") {
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
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(v)
}

// pyRepr renders a value as Python's repr does. Python keeps an object's
// keys in the order they were sent; Go's maps do not, so they are sorted.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return pyStrRepr(v)
	case json.Number:
		if n, ok := pyNumber(v); ok {
			return string(n)
		}
		var b big.Int
		if _, ok := b.SetString(string(v), 10); ok {
			return b.String()
		}
		return string(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = pyRepr(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyStrRepr(k) + ": " + pyRepr(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyStrRepr is Python's repr of a str: single quotes unless the text holds
// a single quote and no double one, and escapes for what is not printable.
func pyStrRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			pyrepr.WriteEscape(&b, r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyIn is Python's `key in container` for a decoded value: a key of an
// object, an element of a list, a substring of a string. Anything else
// raises TypeError, whose message crash gives.
func pyIn(key string, container any) (found bool, crash string) {
	switch c := container.(type) {
	case map[string]any:
		_, found = c[key]
		return found, ""
	case []any:
		for _, x := range c {
			if s, ok := x.(string); ok && s == key {
				return true, ""
			}
		}
		return false, ""
	case string:
		return strings.Contains(c, key), ""
	}
	return false, fmt.Sprintf("TypeError: argument of type '%s' is not iterable", pyType(container))
}

// pyIndex is Python's container[key] for a decoded value; crash is the
// exception when only an object can be indexed by a string.
func pyIndex(container any, key string) (v any, crash string) {
	switch c := container.(type) {
	case map[string]any:
		return c[key], ""
	case []any:
		return nil, "TypeError: list indices must be integers or slices, not str"
	case string:
		return nil, "TypeError: string indices must be integers, not 'str'"
	}
	return nil, fmt.Sprintf("TypeError: '%s' object is not subscriptable", pyType(container))
}

// unhashable reports whether Python refuses v as a dict key.
func unhashable(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// pyUnquote decodes %XX escapes as Python's urllib unquote_to_bytes, which
// Tornado uses for path arguments: an invalid escape stays as it is
// (url.PathUnescape would refuse the whole path). ok is false when the
// result is not UTF-8, which Tornado answers with a 400.
func pyUnquote(s string) (decoded string, ok bool) {
	if !strings.Contains(s, "%") {
		return s, utf8.ValidString(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), utf8.ValidString(b.String())
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// pyBytesRepr renders b as Python's repr of a bytes value, as Tornado puts
// it in its "Invalid unicode" messages: b'caf\xc3'.
func pyBytesRepr(b string) string {
	quote := byte('\'')
	if strings.IndexByte(b, '\'') >= 0 && strings.IndexByte(b, '"') < 0 {
		quote = '"'
	}
	var out strings.Builder
	out.WriteString("b")
	out.WriteByte(quote)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == quote || c == '\\':
			out.WriteByte('\\')
			out.WriteByte(c)
		case c == '\t':
			out.WriteString(`\t`)
		case c == '\n':
			out.WriteString(`\n`)
		case c == '\r':
			out.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			fmt.Fprintf(&out, `\x%02x`, c)
		default:
			out.WriteByte(c)
		}
	}
	out.WriteByte(quote)
	return out.String()
}
