package transport

import (
	"fmt"
	"log/slog"
)

// Secret is a credential, such as Config.Token. Its value is only ever
// sent in the Authorization header: formatting it with fmt (any verb),
// encoding it as JSON or logging it with slog gives "[REDACTED]", so a
// Config or a struct that holds one can be printed or logged safely.
// Convert it with string(s) where the value itself is needed.
type Secret string

const redacted = "[REDACTED]"

// String returns "[REDACTED]", or "" for an empty secret, so that an unset
// token can be told from a set one.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString is String, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format prints String for every verb, so that no verb (%x, %d, %q …)
// reaches the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = fmt.Fprint(f, s.GoString())
		return
	}
	if verb == 'q' {
		_, _ = fmt.Fprintf(f, "%q", s.String())
		return
	}
	_, _ = fmt.Fprint(f, s.String())
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText encodes the redacted form (YAML, TOML, XML and map keys use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalBinary encodes the redacted form, for encoding/gob, which
// ignores MarshalText and would otherwise write the string itself.
func (s Secret) MarshalBinary() ([]byte, error) { return s.MarshalText() }

// LogValue makes slog record the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
