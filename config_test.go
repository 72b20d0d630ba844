package nbserv

import (
	"bytes"
	"context"
	"encoding/asn1"
	"encoding/binary"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Config and Secret never encode the token, nor any Header value (header
// values are credentials: "Authorization: Bearer ...", "X-Api-Key"), with
// any printer a program may hand them to: fmt's verbs, encoding/json (what
// zap and logrus use for fields), slog's text and JSON handlers; a value,
// a pointer, or a field of something else. Only the header names print.
func TestConfigNeverEncodesTheToken(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: NewSecret(testToken),
		Header: NewSecretHeader(http.Header{"X-Api-Key": {"k3y-value"}, "Authorization": {"Bearer b3arer-value"}})}
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
	if NewSecret("").String() != "" || NewSecret("x").String() != "[REDACTED]" {
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
	cfg := Config{BaseURL: "http://h/", Token: NewSecret(testToken),
		Header: NewSecretHeader(http.Header{"X-Api-Key": {"k3y-value"}, "Authorization": {"Bearer b3arer-value"}})}
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
	env := Config{BaseURL: "http://127.0.0.1:8888/user/alice/", Token: NewSecret(testToken), Header: NewSecretHeader(http.Header{"X-Api-Key": {"k"}}), Timeout: time.Second}
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
		if kept := got.Token.Reveal() == testToken && got.Header.Get("X-Api-Key") == "k"; kept != tc.keep || !tc.keep && (!got.Token.IsZero() || got.Header.Len() != 0) {
			t.Errorf("%q → %q: Token %q Header %v, want kept %v", tc.from, tc.to, got.Token.Reveal(), got.Header, tc.keep)
		}
	}
	if env.Token.Reveal() != testToken || env.Header.Get("X-Api-Key") != "k" {
		t.Error("Retarget changed its receiver")
	}
	// The copy may share the receiver's Header, which nobody can change:
	// a header added to a Clone of it is added to neither.
	got := env.Retarget(env.BaseURL)
	got.Header.Clone().Set("X-Added", "v")
	if env.Header.Get("X-Added") != "" || got.Header.Get("X-Added") != "" {
		t.Error("a SecretHeader changed through its Clone")
	}
}

// fmt prints a value by reflection, calling none of its methods, where a
// Config sits in an unexported field, and for %p of a non-pointer (a bad
// verb: fmt then prints the value's fields as they are). The token and
// the Header's values printed there in the clear; they are now held
// behind pointers, so reflection prints an address. Every verb with every
// flag, on a Config, a pointer, a struct holding either in an exported and
// an unexported field, a slice, an array and a map of them.
func TestConfigPrintedByReflectionHoldsNoCredential(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: NewSecret(testToken),
		Header: NewSecretHeader(http.Header{"X-Api-Key": {"k3y-value"}, "Authorization": {"Bearer b3arer-value"}})}
	type inner struct{ c Config }
	type both struct {
		C Config
		c Config
		P *Config
		p *Config
		i inner
		s []Config
		m map[string]Config
	}
	values := map[string]any{
		"Config": cfg, "*Config": &cfg, "Secret": cfg.Token, "SecretHeader": cfg.Header,
		"exported field":   struct{ C Config }{cfg},
		"unexported field": struct{ c Config }{cfg},
		"unexported ptr":   struct{ c *Config }{&cfg},
		"nested":           both{cfg, cfg, &cfg, &cfg, inner{cfg}, []Config{cfg}, map[string]Config{"k": cfg}},
		"*nested":          &both{cfg, cfg, &cfg, &cfg, inner{cfg}, []Config{cfg}, map[string]Config{"k": cfg}},
		"slice":            []Config{cfg, cfg}, "array": [1]Config{cfg}, "map": map[string]Config{"k": cfg},
		"slice of ptrs":    []*Config{&cfg},
		"any slice":        []any{cfg, &cfg, struct{ c Config }{cfg}},
		"unexported token": struct{ t Secret }{cfg.Token}, "unexported header": struct{ h SecretHeader }{cfg.Header},
	}
	// A Client printed by reflection (a value in an unexported field, a
	// bad verb) reaches its transport's fields, where the token and the
	// headers are kept: they are held the same way.
	client, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	values["Client"], values["*Client"], values["Client in an unexported field"] = client, *client, struct{ c Client }{*client}
	secrets := []string{testToken, "k3y-value", "b3arer-value"}
	var forms []string
	for _, s := range secrets {
		forms = append(forms, s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s), fmt.Sprintf("% x", s), fmt.Sprintf("%v", []byte(s))[1:12], fmt.Sprintf("%o", []byte(s[:4])))
	}
	flags := []string{"", "+", "#", "-", " ", "0", "+#", "# ", "#0", "10", ".3", "+#-010.5", "*"}
	n := 0
	for name, v := range values {
		for _, verb := range "vsqdxXoObcUeEfFgGtpTw" {
			for _, f := range flags {
				format := "%" + f + string(verb)
				var got string
				if f == "*" {
					got = fmt.Sprintf(format, 7, v)
				} else {
					got = fmt.Sprintf(format, v)
				}
				n++
				for _, form := range forms {
					if strings.Contains(got, form) {
						t.Fatalf("%s with %s holds %q: %s", name, format, form, got)
					}
				}
			}
		}
		var b bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&b, nil), slog.NewTextHandler(&b, nil)} {
			slog.New(h).Info("v", "v", v, slog.Group("g", "v", v))
		}
		js, _ := json.Marshal(v)
		for _, out := range []string{b.String(), string(js), fmt.Sprint(v), fmt.Sprintln(v)} {
			for _, form := range forms {
				if strings.Contains(out, form) {
					t.Fatalf("%s logged or encoded holds %q: %s", name, form, out)
				}
			}
		}
	}
	t.Logf("%d formats", n)
	// The values still get where they are needed.
	if cfg.Token.Reveal() != testToken || cfg.Header.Get("X-Api-Key") != "k3y-value" || !cfg.Token.Equal(NewSecret(testToken)) {
		t.Error("Reveal or Get lost the value")
	}
}

// A Secret decodes from a string (a configuration file with a token in
// it, read with encoding/json or a YAML or TOML library) and the zero
// values are empty.
func TestSecretDecodesFromText(t *testing.T) {
	var c struct{ Token Secret }
	if err := json.Unmarshal([]byte(`{"Token": "`+testToken+`"}`), &c); err != nil || c.Token.Reveal() != testToken {
		t.Errorf("%v: %q", err, c.Token.Reveal())
	}
	if !(Secret{}).IsZero() || !NewSecret("").IsZero() || NewSecret("").String() != "" || (SecretHeader{}).Len() != 0 ||
		(SecretHeader{}).Clone() != nil || NewSecretHeader(nil).Get("x") != "" {
		t.Error("zero values are not empty")
	}
	h := http.Header{"x-lower": {"a"}}
	sh := NewSecretHeader(h)
	h.Set("X-Lower", "changed")
	if sh.Get("X-Lower") != "a" || fmt.Sprint(sh.Names()) != "[X-Lower]" {
		t.Errorf("NewSecretHeader must copy and canonicalise: %q %v", sh.Get("X-Lower"), sh.Names())
	}
}

// A Config decoded from a JSON configuration file gets its Header, in
// http.Header's own JSON form (what decoded into Header when it was an
// http.Header), canonicalised; a SecretHeader, a struct without exported
// fields, would otherwise be skipped without a word and every request
// sent without its credential. null leaves it as it was; another shape
// fails, quoting no value.
func TestConfigDecodesItsHeaderFromJSON(t *testing.T) {
	var c Config
	err := json.Unmarshal([]byte(`{"BaseURL": "http://h/", "Token": "`+testToken+`", "Header": {"x-api-key": ["k3y-value"], "Authorization": ["Bearer b3arer-value"]}}`), &c)
	if err != nil || c.Token.Reveal() != testToken || c.Header.Get("X-Api-Key") != "k3y-value" ||
		c.Header.Get("Authorization") != "Bearer b3arer-value" || fmt.Sprint(c.Header.Names()) != "[Authorization X-Api-Key]" {
		t.Fatalf("%v: token %q, header %v X-Api-Key %q", err, c.Token.Reveal(), c.Header.Names(), c.Header.Get("X-Api-Key"))
	}
	if err := json.Unmarshal([]byte(`{"Header": null}`), &c); err != nil || c.Header.Get("X-Api-Key") != "k3y-value" {
		t.Errorf("null: %v, X-Api-Key %q", err, c.Header.Get("X-Api-Key"))
	}
	for _, bad := range []string{`{"Header": {"X-Api-Key": "k3y-value"}}`, `{"Header": ["X-Api-Key"]}`, `{"Header": "k3y-value"}`} {
		var d Config
		err := json.Unmarshal([]byte(bad), &d)
		if err == nil || strings.Contains(err.Error(), "k3y-value") || d.Header.Len() != 0 {
			t.Errorf("%s: err %v, header %v", bad, err, d.Header)
		}
	}
	// The client built from it sends the header.
	got := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("X-Api-Key"):
		default:
		}
		_, _ = io.WriteString(w, `{"version": "2.0.0"}`)
	}))
	defer srv.Close()
	c.BaseURL = srv.URL
	client, err := NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Server.Version(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h := <-got; h != "k3y-value" {
		t.Errorf("the server got X-Api-Key %q", h)
	}
}

// Two Configs with the same settings compare equal with go-cmp, which
// calls a type's Equal method and otherwise panics on unexported fields:
// Secret has one, and SecretHeader needs one too (reflect.DeepEqual
// cannot compare them: the headers are held by a closure).
func TestConfigsCompareWithEqual(t *testing.T) {
	mk := func(key string) Config {
		return Config{BaseURL: "http://h/", Token: NewSecret(testToken), Header: NewSecretHeader(http.Header{"x-api-key": {key}})}
	}
	equal := func(a, b Config) (eq bool, panicked any) {
		defer func() { panicked = recover() }()
		return cmp.Equal(a, b), nil
	}
	for _, tc := range []struct {
		a, b Config
		want bool
	}{
		{mk("k3y-value"), mk("k3y-value"), true},
		{mk("k3y-value"), mk("other"), false},
		{mk("k3y-value"), Config{BaseURL: "http://h/", Token: NewSecret(testToken)}, false},
		{Config{}, Config{Header: NewSecretHeader(http.Header{})}, true},
	} {
		if eq, p := equal(tc.a, tc.b); p != nil || eq != tc.want {
			t.Errorf("cmp.Equal(%v, %v) = %v, want %v (panic: %v)", tc.a, tc.b, eq, tc.want, p)
		}
	}
	h := NewSecretHeader(http.Header{"A": {"1", "2"}})
	if h.Equal(NewSecretHeader(http.Header{"A": {"2", "1"}})) || !h.Equal(NewSecretHeader(http.Header{"a": {"1", "2"}})) {
		t.Error("Equal must compare names and values, in order")
	}
}

// What encoding a Secret writes in its place, "[REDACTED]", is refused
// when decoded: a configuration saved with its token encoded and read
// back would otherwise send "token [REDACTED]" to the server, and fail
// with a 403 that says nothing of why.
func TestSecretRefusesItsRedactedForm(t *testing.T) {
	type file struct{ Token Secret }
	b, err := json.Marshal(file{NewSecret(testToken)})
	if err != nil {
		t.Fatal(err)
	}
	var back file
	err = json.Unmarshal(b, &back)
	var ve *ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidArgument) || !back.Token.IsZero() {
		t.Errorf("decoding %s: err %v, token set %v", b, err, !back.Token.IsZero())
	}
	if err := back.Token.UnmarshalText([]byte("[REDACTED]x")); err != nil || back.Token.Reveal() != "[REDACTED]x" {
		t.Errorf("another value: %v %q", err, back.Token.Reveal())
	}
}

// A token or Header value no HTTP header can carry (a control character,
// such as the line break a token read from a file keeps) fails NewClient
// with a *ValidationError naming the field, as a malformed setting does,
// not every call with net/http's error; the value is never quoted.
func TestNewClientRefusesCredentialsNoHeaderCanCarry(t *testing.T) {
	for field, cfg := range map[string]Config{
		"Token":           {Token: NewSecret(testToken + "\n")},
		"Token CR":        {Token: NewSecret("s3cr\r3t")},
		"Token DEL":       {Token: NewSecret("s3cr3t\x7f")},
		"Header":          {Header: NewSecretHeader(http.Header{"X-Api-Key": {"k3y-value\r\nX-Evil: 1"}})},
		"Header NUL":      {Header: NewSecretHeader(http.Header{"X-Api-Key": {"ok", "k3y-value\x00"}})},
		"Header name":     {Header: NewSecretHeader(http.Header{"X-Api-Key\n": {"k3y-value"}})},
		"Header name ':'": {Header: NewSecretHeader(http.Header{"X-Api:Key": {"k3y-value"}})},
		"Header name ' '": {Header: NewSecretHeader(http.Header{"X Api": {"k3y-value"}})},
		"Header name ''":  {Header: NewSecretHeader(http.Header{"": {"k3y-value"}})},
	} {
		cfg.BaseURL = "http://h/"
		_, err := NewClient(cfg)
		var ve *ValidationError
		want, _, _ := strings.Cut(field, " ")
		if !errors.As(err, &ve) || ve.Field != want {
			t.Errorf("%s: err = %v", field, err)
			continue
		}
		for _, secret := range []string{"s3cr", "3t", "k3y-value"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: the error quotes the value: %v", field, err)
			}
		}
	}
	// What a header can carry passes: a tab, text beyond ASCII.
	for _, cfg := range []Config{
		{Token: NewSecret("a\tb")},
		{Header: NewSecretHeader(http.Header{"X-Api-Key": {"ä\tb"}, "X-Empty": {""}, "!#$%&'*+-.^_`|~": {"v"}})},
	} {
		cfg.BaseURL = "http://h/"
		if _, err := NewClient(cfg); err != nil {
			t.Errorf("%v: %v", cfg, err)
		}
	}
}

// Keys that differ only in case merge into one, in the same order every
// time (sorted keys: "X-A" before "x-a"), so Get gives the same value on
// every run, not whichever key map iteration happened to visit first.
func TestNewSecretHeaderMergesKeysInOneOrder(t *testing.T) {
	h := http.Header{"x-a": {"1"}, "X-A": {"2"}, "X-a": {"3"}}
	for range 100 {
		if got := NewSecretHeader(h).Clone()["X-A"]; fmt.Sprint(got) != "[2 3 1]" {
			t.Fatalf("X-A = %v, want [2 3 1]", got)
		}
	}
}
