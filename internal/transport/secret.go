package transport

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
)

// Secret is a credential, such as Config.Token. Its value is only ever
// sent in the Authorization header. It is held behind a pointer, so that
// the Secret's own representation never holds it in the clear: fmt
// printing a Secret, or any value holding one, by reflection (in an
// unexported field, or with %p of a non-pointer, where fmt calls no
// method) prints an address; every method that prints or encodes it (fmt
// with any verb, encoding/json, text and binary marshalling, slog) gives
// "[REDACTED]". NewSecret makes one; Reveal returns the value where it is
// needed. The zero Secret is empty.
type Secret struct{ v *string }

const redacted = "[REDACTED]"

// NewSecret returns a Secret holding s; an empty s gives the zero Secret.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{&s}
}

// Reveal returns the secret's value, "" for the zero Secret.
func (s Secret) Reveal() string {
	if s.v == nil {
		return ""
	}
	return *s.v
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.Reveal() == "" }

// Equal reports whether s and t hold the same value (== compares where
// they are held, not what).
func (s Secret) Equal(t Secret) bool { return s.Reveal() == t.Reveal() }

// String returns "[REDACTED]", or "" for an empty secret, so that an unset
// token can be told from a set one.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// GoString is String, quoted, for %#v.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Format prints String for every verb, so that no verb (%x, %d, %q …)
// reaches the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') || verb == 'q' {
		_, _ = fmt.Fprint(f, s.GoString())
		return
	}
	_, _ = fmt.Fprint(f, s.String())
}

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText encodes the redacted form (YAML, TOML, XML and map keys use it).
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a secret's value, so that a configuration file
// decoded with encoding/json, YAML or TOML can fill a Secret field from a
// string. Encoding gives "[REDACTED]": a Secret never round-trips, and
// decoding "[REDACTED]" is a *ValidationError, since a file holding it
// was written from an encoded Secret and lost the value; sent, it would
// fail as a wrong token, saying nothing of why.
func (s *Secret) UnmarshalText(b []byte) error {
	if string(b) == redacted {
		return &ValidationError{Field: "Secret", Value: redacted,
			Problem: "what encoding a Secret writes in its place: the value was lost when it was encoded"}
	}
	*s = NewSecret(string(b))
	return nil
}

// MarshalBinary encodes the redacted form, for encoding/gob, which
// ignores MarshalText and would otherwise write the value itself.
func (s Secret) MarshalBinary() ([]byte, error) { return s.MarshalText() }

// LogValue makes slog record the redacted form.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// SecretHeader is a set of request headers whose values are credentials,
// such as Config.Header ("Authorization: Bearer …", "X-Api-Key"). Like
// Secret, its representation never holds them: they are held by a
// closure, which fmt prints by reflection as an address (a pointer to the
// map would not do: fmt follows a pointer to a map at the top level, as
// with a bad verb such as %p of a non-pointer). Every method that prints
// or encodes it gives only the header names. It is immutable:
// NewSecretHeader copies the header it is given, and Clone returns a copy.
type SecretHeader struct{ h func() http.Header }

// NewSecretHeader returns a SecretHeader holding a copy of h, its keys
// canonicalised; an empty h gives the zero SecretHeader. Keys that differ
// only in case merge, their values in the order of the keys, sorted, so
// that Get gives the same value on every run.
func NewSecretHeader(h http.Header) SecretHeader {
	if len(h) == 0 {
		return SecretHeader{}
	}
	c := make(http.Header, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		c[http.CanonicalHeaderKey(k)] = append(c[http.CanonicalHeaderKey(k)], h[k]...)
	}
	return holdHeader(c)
}

// holdHeader returns a SecretHeader holding h itself, not a copy.
func holdHeader(h http.Header) SecretHeader { return SecretHeader{func() http.Header { return h }} }

// held returns the headers themselves, nil when there are none: never to
// be modified or handed out.
func (h SecretHeader) held() http.Header {
	if h.h == nil {
		return nil
	}
	return h.h()
}

// Clone returns a copy of the headers, nil when there are none.
func (h SecretHeader) Clone() http.Header { return h.held().Clone() }

// Get returns the first value of key, as http.Header.Get does.
func (h SecretHeader) Get(key string) string { return h.held().Get(key) }

// Equal reports whether h and o hold the same names with the same values,
// in order. Compare SecretHeaders (and Configs) with it, or with go-cmp,
// which calls it: reflect.DeepEqual reports any two non-zero
// SecretHeaders unequal, a SecretHeader itself included, since the
// closure that holds the headers is a func.
func (h SecretHeader) Equal(o SecretHeader) bool {
	a, b := h.held(), o.held()
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// Len returns the number of header names.
func (h SecretHeader) Len() int { return len(h.held()) }

// Names returns the header names, sorted, never nil (so JSON has []).
func (h SecretHeader) Names() []string {
	keys := make([]string, 0, h.Len())
	for k := range h.held() {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// String lists the header names, never their values.
func (h SecretHeader) String() string { return fmt.Sprint(h.Names()) }

// GoString is String, for %#v.
func (h SecretHeader) GoString() string { return h.String() }

// Format prints String for every verb.
func (h SecretHeader) Format(f fmt.State, verb rune) { _, _ = fmt.Fprint(f, h.String()) }

// MarshalJSON encodes the header names, a JSON array.
func (h SecretHeader) MarshalJSON() ([]byte, error) { return json.Marshal(h.Names()) }

// UnmarshalJSON reads headers in http.Header's JSON form, an object of
// arrays of strings ({"X-Api-Key": ["…"]}), keys canonicalised, so that
// a configuration file decoded with encoding/json fills Config.Header:
// without it, encoding/json would skip a struct without exported fields
// without a word, and every request would go without its credential.
// null leaves h as it is. (Encoding gives the names only: a SecretHeader
// never round-trips.)
func (h *SecretHeader) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var m http.Header
	if err := json.Unmarshal(b, &m); err != nil {
		return err // encoding/json's errors name types, never the values
	}
	*h = NewSecretHeader(m)
	return nil
}

// MarshalText encodes String.
func (h SecretHeader) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// MarshalBinary is MarshalText, for encoding/gob.
func (h SecretHeader) MarshalBinary() ([]byte, error) { return h.MarshalText() }

// LogValue makes slog record the header names.
func (h SecretHeader) LogValue() slog.Value { return slog.AnyValue(h.Names()) }
