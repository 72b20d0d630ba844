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

// Config and Secret never encode the token.
func TestConfigNeverEncodesTheToken(t *testing.T) {
	cfg := Config{BaseURL: "http://h/", Token: testToken, Header: http.Header{"X-Api-Key": {"k3y-value"}}}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text, logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "cfg", cfg, "token", cfg.Token)
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cfg", cfg, "token", cfg.Token)
	wrapped, _ := json.Marshal(struct{ C Config }{cfg})
	for where, s := range map[string]string{
		"json": string(js), "json of a struct holding it": string(wrapped), "slog json": logged.String(), "slog text": text.String(),
		"fmt":        fmt.Sprintf("%v %+v %#v %s %q %x %X %d %10s", cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token, cfg.Token),
		"fmt config": fmt.Sprintf("%v %+v %#v %s %d %x", cfg, cfg, cfg, cfg, cfg, cfg),
	} {
		if strings.Contains(s, testToken) || strings.Contains(s, fmt.Sprintf("%x", testToken)) {
			t.Errorf("%s holds the token: %s", where, s)
		}
		if where == "slog json" && strings.Contains(s, "k3y-value") {
			t.Errorf("slog holds a Header value: %s", s)
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
		"Timeout":          {Timeout: -time.Second},
		"RetryMax":         {RetryMax: -2},
		"RetryWaitMin":     {RetryWaitMin: -time.Second},
		"RetryWaitMax":     {RetryWaitMax: -time.Second},
		"MaxResponseBytes": {MaxResponseBytes: -1},
	} {
		cfg.BaseURL = "http://h"
		var ve *ValidationError
		if _, err := NewClient(cfg); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%s: err = %v", field, err)
		}
	}
	for _, cfg := range []Config{{RetryMax: NoRetries}, {Timeout: NoTimeout}, {RetryWaitMin: 5 * time.Second}, {RetryWaitMax: time.Millisecond}} {
		cfg.BaseURL = "http://h"
		if _, err := NewClient(cfg); err != nil {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
