package nbserv

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Config configures a Client. Only BaseURL is required.
//
// One rule covers every number: zero takes the default (the Default…
// constants), NoTimeout and NoRetries switch a feature off, and any other
// negative value is refused by NewClient with a *ValidationError naming
// the field.
type Config struct {
	// BaseURL is the server's base URL, including any prefix, such as
	// "http://127.0.0.1:8888" or "https://hub.example.org/user/alice/".
	// The trailing slash is optional.
	BaseURL string
	// Token is sent as "Authorization: token <Token>", and only to
	// BaseURL's origin. Empty sends none. Make it with NewSecret.
	Token Secret
	// Header is added to every request, and, like Token, never sent to
	// another origin. It can override the SDK's Accept and User-Agent, and
	// carries another Authorization scheme when Token is empty; when Token
	// is set, Token's Authorization wins. Make it with NewSecretHeader:
	// its values are credentials too, held where no printing reaches them.
	Header SecretHeader
	// UserAgent is prepended to the SDK's own "go-nbserv/<Version>".
	UserAgent string
	// HTTPClient carries the requests; set it for TLS settings, proxies
	// or a custom transport. Its Timeout, if any, applies per attempt. The
	// Client uses a copy of it whose redirect policy is the SDK's (see the
	// README's Reliability section); the value passed is not modified.
	// Nil uses a pooled client with keep-alive.
	HTTPClient *http.Client
	// Timeout bounds each call as a whole: every attempt, every wait
	// between attempts and reading the body. For a streamed body
	// (Contents.Download and Open, KernelSpecs.Resource), whose length has
	// no bound, it bounds the wait for the answer's headers, and
	// StreamIdleTimeout the reading. Zero means DefaultTimeout; NoTimeout
	// leaves calls bounded by their context alone.
	Timeout time.Duration
	// RetryMax is how many times a failed attempt may be retried (see the
	// README's Reliability section). Zero means DefaultRetryMax; NoRetries
	// disables retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential wait
	// between attempts. A Retry-After longer than RetryWaitMax, or than
	// what is left of the call's deadline, ends the retries at once. Zero
	// means the defaults.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxResponseBytes caps the size of a response body; a larger one
	// fails with ErrResponseTooLarge. It also bounds the memory decoding
	// may take (see the README's Reliability section). Zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// StreamIdleTimeout bounds the silences while a streamed body is read
	// (Contents.Download and Open, KernelSpecs.Resource), whose length
	// Timeout does not bound: a read that receives nothing for this long
	// fails with an error matching ErrStreamStalled and
	// context.DeadlineExceeded, and the connection is closed. Only time
	// spent waiting in a read counts: a caller may take as long as it
	// likes between reads. Zero means the call's timeout (Timeout, or
	// WithTimeout's), so that a Download with a 1s timeout gives up on a
	// server silent for 1s; NoTimeout leaves the reads bounded by their
	// context alone.
	StreamIdleTimeout time.Duration
	// Logger, when set, gets one Debug record per call (method, path,
	// status, attempts, duration, error) and one per retry. Records never
	// hold headers, bodies or the token. Nil logs nothing.
	Logger *slog.Logger
}

// String describes the configuration without secrets: the token
// redacted, BaseURL without any userinfo, query or fragment (where a
// pasted token would sit), and only the names of Header's keys, whose
// values may be credentials too.
func (c Config) String() string {
	return fmt.Sprintf("nbserv.Config{BaseURL: %q, Token: %q, Header: %v, Timeout: %v, RetryMax: %d}",
		transport.RedactURL(c.BaseURL), c.Token.String(), c.Header.Names(), c.Timeout, c.RetryMax)
}

// GoString is String, so that %#v does not print the token either.
func (c Config) GoString() string { return c.String() }

// Format prints String for every verb, so that no verb reaches the token
// or the Header's values.
func (c Config) Format(f fmt.State, verb rune) { _, _ = fmt.Fprint(f, c.String()) }

// LogValue makes slog record the configuration as String describes it.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", transport.RedactURL(c.BaseURL)), slog.String("token", c.Token.String()),
		slog.Any("header_keys", c.Header.Names()), slog.Duration("timeout", c.Timeout),
		slog.Int("retry_max", c.RetryMax), slog.Int64("max_response_bytes", c.MaxResponseBytes),
		slog.Duration("stream_idle_timeout", c.StreamIdleTimeout),
	)
}

// MarshalJSON encodes the configuration as String describes it, for
// loggers that encode their fields with encoding/json (zap, logrus):
// without it, every Header value would be written out.
func (c Config) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		BaseURL           string        `json:"base_url"`
		Token             string        `json:"token"`
		HeaderKeys        []string      `json:"header_keys"`
		UserAgent         string        `json:"user_agent,omitempty"`
		Timeout           time.Duration `json:"timeout"`
		RetryMax          int           `json:"retry_max"`
		RetryWaitMin      time.Duration `json:"retry_wait_min"`
		RetryWaitMax      time.Duration `json:"retry_wait_max"`
		MaxResponseBytes  int64         `json:"max_response_bytes"`
		StreamIdleTimeout time.Duration `json:"stream_idle_timeout"`
	}{transport.RedactURL(c.BaseURL), c.Token.String(), c.Header.Names(), c.UserAgent,
		c.Timeout, c.RetryMax, c.RetryWaitMin, c.RetryWaitMax, c.MaxResponseBytes, c.StreamIdleTimeout})
}

// MarshalText encodes the configuration as String prints it, for every
// encoder that falls back on text: encoding/xml, YAML and TOML libraries,
// map keys. Without it, an encoder that walks the fields would write out
// the Header's values. A Config is not meant to be decoded back: it has
// no UnmarshalText.
func (c Config) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// MarshalBinary is MarshalText, for encoding/gob (which ignores
// MarshalText) and any encoder that looks for encoding.BinaryMarshaler.
func (c Config) MarshalBinary() ([]byte, error) { return c.MarshalText() }

// Retarget returns a copy of c pointed at baseURL, for a program that lets
// a flag replace the server ConfigFromEnv found. Token and Header are kept
// only when baseURL has c.BaseURL's origin (scheme, host and port, a
// missing port counting as the scheme's; host names compared as spelled
// but for ASCII case, so that "localhost." or a Unicode spelling of an
// ASCII name counts as another host); otherwise both are cleared, so
// that a credential meant for one server is never sent to another: the
// token the environment holds belongs to the server the environment names.
// A BaseURL that does not parse, or is empty, has no origin and shares it
// with nothing, so a token found without a URL is dropped too; set Token
// after Retarget to send one on purpose.
func (c Config) Retarget(baseURL string) Config {
	if !transport.SameOrigin(c.BaseURL, baseURL) {
		c.Token, c.Header = Secret{}, SecretHeader{}
	}
	c.BaseURL = baseURL // Token and Header are immutable: the copy may share them
	return c
}
