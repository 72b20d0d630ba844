package nbserv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
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
		"fmt":             fmt.Sprintf("%v %+v %#v %s %q %x %X %d %10s", cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token),
		"fmt config":      fmt.Sprintf("%v %+v %#v %s %q %d %x %X %t", cfg, cfg, cfg, cfg, cfg, cfg, cfg, cfg, cfg),
		"fmt pointer":     fmt.Sprintf("%v %+v %s %d %x", &cfg, &cfg, &cfg, &cfg, &cfg),
		"fmt in a struct": fmt.Sprintf("%v %+v %#v %d", struct{ C Config }{cfg}, struct{ C Config }{cfg}, struct{ C Config }{cfg}, struct{ C Config }{cfg}),
		"fmt in a slice":  fmt.Sprintf("%v %+v %#v", []Config{cfg}, []Config{cfg}, []Config{cfg}),
		"String":          cfg.String(), "Println": fmt.Sprintln(cfg, &cfg),
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
