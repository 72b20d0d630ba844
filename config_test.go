package nbserv

import (
	"bytes"
	"encoding/asn1"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"text/template"
	"time"
)

// Config and Secret never encode the token, nor any Header value (header
// values are credentials: "Authorization: Bearer ...", "X-Api-Key"), with
// any printer a program may hand them to: fmt's verbs, encoding/json (what
// zap and logrus use for fields), slog's text and JSON handlers; a value,
// a pointer, or a field of something else. Only the header names print.
func TestConfigNeverEncodesTheToken(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: testToken,
		Header: http.Header{"X-Api-Key": {"k3y-value"}, "Authorization": {"Bearer b3arer-value"}}}
	secrets := []string{testToken, "k3y-value", "b3arer-value"}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ptr, _ := json.Marshal(&cfg)
	var text, logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logged, nil), slog.NewTextHandler(&text, nil)} {
		slog.New(h).Info("config", "cfg", cfg, "ptr", &cfg, "token", cfg.Token, slog.Group("g", "cfg", cfg))
		slog.New(h).With("cfg", cfg).WithGroup("g").Info("config", "any", any(cfg))
	}
	wrapped, _ := json.Marshal(struct{ C Config }{cfg})
	inMap, _ := json.Marshal(map[string]any{"c": cfg, "p": &cfg})
	indented, _ := json.MarshalIndent([]Config{cfg}, "", " ")
	printers := map[string]string{
		"json": string(js), "json of a pointer": string(ptr), "json of a struct holding it": string(wrapped),
		"json of a map": string(inMap), "json indented": string(indented),
		"slog json": logged.String(), "slog text": text.String(),
		"fmt":                     fmt.Sprintf("%v %+v %#v %s %q %x %X %d %10s", cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token),
		"fmt config":              fmt.Sprintf("%v %+v %#v %s %q %d %x %X %t", cfg, cfg, cfg, cfg, cfg, cfg, cfg, cfg, cfg),
		"fmt pointer":             fmt.Sprintf("%v %+v %#v %s %q %d %x %p", &cfg, &cfg, &cfg, &cfg, &cfg, &cfg, &cfg, &cfg),
		"fmt pointer in a struct": fmt.Sprintf("%v %+v %#v", struct{ C *Config }{&cfg}, struct{ C *Config }{&cfg}, struct{ C *Config }{&cfg}),
		"fmt in a struct":         fmt.Sprintf("%v %+v %#v %d", struct{ C Config }{cfg}, struct{ C Config }{cfg}, struct{ C Config }{cfg}, struct{ C Config }{cfg}),
		"fmt in a slice":          fmt.Sprintf("%v %+v %#v", []Config{cfg}, []Config{cfg}, []Config{cfg}),
		"String":                  cfg.String(), "Println": fmt.Sprintln(cfg, &cfg),
	}
	for where, s := range printers {
		for _, secret := range secrets {
			if strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) || strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", secret)) {
				t.Errorf("%s holds %q: %s", where, secret, s)
			}
		}
	}
	// The names still print, so a log says which headers were configured.
	for _, where := range []string{"json", "slog json", "slog text", "String"} {
		if !strings.Contains(printers[where], "X-Api-Key") || !strings.Contains(printers[where], "Authorization") {
			t.Errorf("%s lacks the header names: %s", where, printers[where])
		}
	}
	if Secret("").String() != "" || Secret("x").String() != "[REDACTED]" {
		t.Error("Secret.String must tell set from unset")
	}
}

// One rule for Config's numbers, each refused under its own
// name.
func TestConfigNegativeValuesAreRefusedByName(t *testing.T) {
	for field, cfg := range map[string]Config{
		"Timeout":           {Timeout: -time.Second},
		"RetryMax":          {RetryMax: -2},
		"RetryWaitMin":      {RetryWaitMin: -time.Second},
		"RetryWaitMax":      {RetryWaitMax: -time.Second},
		"MaxResponseBytes":  {MaxResponseBytes: -1},
		"StreamIdleTimeout": {StreamIdleTimeout: -time.Nanosecond},
	} {
		cfg.BaseURL = "http://h"
		var ve *ValidationError
		if _, err := NewClient(cfg); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	for _, cfg := range []Config{{RetryMax: NoRetries}, {Timeout: NoTimeout}, {StreamIdleTimeout: NoTimeout}, {RetryWaitMin: 5 * time.Second}, {RetryWaitMax: time.Millisecond}} {
		cfg.BaseURL = "http://h"
		if _, err := NewClient(cfg); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}

// Every encoder of the standard library that can encode a Config gets the
// String form (encoding/xml and YAML libraries through MarshalText,
// encoding/gob through MarshalBinary), as a value, a pointer or a field;
// the ones that cannot fail without quoting a credential.
func TestConfigEncodingsNeverHoldCredentials(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: testToken,
		Header: http.Header{"X-Api-Key": {"k3y-value"}, "Authorization": {"Bearer b3arer-value"}}}
	type holder struct {
		C Config
		P *Config
		A Config `xml:"a,attr"`
	}
	encoded := map[string]string{}
	encode := func(name string, f func() ([]byte, error), mustWork bool) {
		b, err := f()
		if err != nil && mustWork {
			t.Errorf("%s: %v", name, err)
		}
		encoded[name] = fmt.Sprint(string(b), err)
		if mustWork && !strings.Contains(string(b), "[REDACTED]") {
			t.Errorf("%s: no redacted token in %q", name, b)
		}
	}
	encode("xml", func() ([]byte, error) { return xml.Marshal(cfg) }, true)
	encode("xml pointer", func() ([]byte, error) { return xml.Marshal(&cfg) }, true)
	encode("xml field", func() ([]byte, error) { return xml.Marshal(holder{cfg, &cfg, cfg}) }, true)
	gobOf := func(v any) func() ([]byte, error) {
		return func() ([]byte, error) {
			var b bytes.Buffer
			err := gob.NewEncoder(&b).Encode(v)
			return b.Bytes(), err
		}
	}
	encode("gob", gobOf(cfg), true)
	encode("gob pointer", gobOf(&cfg), true)
	encode("gob field", gobOf(holder{cfg, &cfg, cfg}), true)
	encode("gob token", gobOf(struct{ T, U Secret }{cfg.Token, cfg.Token}), true)
	encode("text", cfg.MarshalText, true)
	encode("asn1", func() ([]byte, error) { return asn1.Marshal(cfg) }, false)
	encode("binary", func() ([]byte, error) {
		var b bytes.Buffer
		err := binary.Write(&b, binary.LittleEndian, cfg)
		return b.Bytes(), err
	}, false)
	encode("template", func() ([]byte, error) {
		var b bytes.Buffer
		err := template.Must(template.New("").Parse("{{.}} {{.Token}} {{printf \"%v %#v\" .Token .}}")).Execute(&b, cfg)
		return b.Bytes(), err
	}, true)
	for where, s := range encoded {
		for _, secret := range []string{testToken, "k3y-value", "b3arer-value"} {
			if strings.Contains(s, secret) {
				t.Errorf("%s holds %q: %q", where, secret, s)
			}
		}
	}
}

// Retarget keeps the credentials only for the same origin: a flag's URL
// never receives the environment's token, nor its Header.
func TestConfigRetargetKeepsCredentialsOnTheirOrigin(t *testing.T) {
	env := Config{BaseURL: "http://127.0.0.1:8888/user/alice/", Token: testToken, Header: http.Header{"X-Api-Key": {"k"}}, Timeout: time.Second}
	for _, tc := range []struct {
		from, to string
		keep     bool
	}{
		{env.BaseURL, env.BaseURL, true},
		{env.BaseURL, "http://127.0.0.1:8888/user/bob/", true}, // one origin: the hub's own rule for its token
		{env.BaseURL, "HTTP://127.0.0.1:8888", true},
		{"http://h/", "http://H:80/x/", true},
		{"https://h/", "https://h:443", true},
		{env.BaseURL, "http://127.0.0.1:8889/user/alice/", false},
		{env.BaseURL, "https://127.0.0.1:8888/user/alice/", false},
		{env.BaseURL, "http://localhost:8888/user/alice/", false},
		{env.BaseURL, "http://evil.example/", false},
		{env.BaseURL, "http://127.0.0.1:8888@evil.example/", false},
		// Unicode case folding is not how a host is resolved: σ and ς
		// fold together but are two IDNA names (xn--4xa, xn--3xa), and
		// the Kelvin sign, which IDNA maps to "k", is kept apart too.
		{"http://σ.example/", "http://ς.example/", false},
		{"http://k.example/", "http://\u212a.example/", false},
		{"http://σ.example/", "http://σ.example:80/x/", true},
		{env.BaseURL, "127.0.0.1:8888", false},
		{env.BaseURL, "", false},
		{"", "http://127.0.0.1:8888/", false}, // a token found without a URL goes nowhere unasked
		{"not a url", "http://127.0.0.1:8888/", false},
	} {
		from := env
		from.BaseURL = tc.from
		got := from.Retarget(tc.to)
		if got.BaseURL != tc.to || got.Timeout != time.Second {
			t.Errorf("%q → %q: BaseURL %q Timeout %v", tc.from, tc.to, got.BaseURL, got.Timeout)
		}
		if kept := got.Token == testToken && got.Header.Get("X-Api-Key") == "k"; kept != tc.keep || !tc.keep && (got.Token != "" || got.Header != nil) {
			t.Errorf("%q → %q: Token %q Header %v, want kept %v", tc.from, tc.to, string(got.Token), got.Header, tc.keep)
		}
	}
	if env.Token != testToken || env.Header == nil {
		t.Error("Retarget changed its receiver")
	}
	// The copy's Header is its own: adding to it leaves the receiver's.
	got := env.Retarget(env.BaseURL)
	got.Header.Set("X-Added", "v")
	if env.Header.Get("X-Added") != "" {
		t.Error("the copy shares its Header with the receiver")
	}
}
