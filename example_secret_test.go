package nbserv_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	nbserv "github.com/nbserv/go-nbserv"
)

// A Secret prints, encodes and logs redacted; Reveal gives the value
// where it is needed. A configuration file decodes into one.
func ExampleSecret() {
	token := nbserv.NewSecret("s3cr3t")
	fmt.Printf("%v %q %x\n", token, token, token)
	b, _ := json.Marshal(struct{ Token nbserv.Secret }{token})
	fmt.Println(string(b))
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	logger.Info("connecting", "token", token)
	fmt.Println(token.Reveal(), token.Equal(nbserv.NewSecret("s3cr3t")), nbserv.Secret{}.IsZero())

	var file struct{ Token nbserv.Secret }
	_ = json.Unmarshal([]byte(`{"Token": "from-a-file"}`), &file)
	fmt.Println(file.Token.Reveal())
	// Output:
	// [REDACTED] "[REDACTED]" [REDACTED]
	// {"Token":"[REDACTED]"}
	// level=INFO msg=connecting token=[REDACTED]
	// s3cr3t true true
	// from-a-file
}

// A SecretHeader holds headers whose values are credentials: it prints
// their names only, and is immutable (NewSecretHeader copies its argument,
// Clone returns a copy).
func ExampleNewSecretHeader() {
	h := http.Header{"x-api-key": {"k3y"}}
	cfg := nbserv.Config{BaseURL: "http://127.0.0.1:8888/", Header: nbserv.NewSecretHeader(h)}
	h.Set("X-Api-Key", "changed") // the Config keeps its own copy
	fmt.Println(cfg.Header, cfg.Header.Get("X-Api-Key"))
	fmt.Printf("%+v\n", cfg)

	more := cfg.Header.Clone()
	more.Set("X-Team", "data")
	cfg.Header = nbserv.NewSecretHeader(more)
	fmt.Println(cfg.Header.Names(), cfg.Header.Len())
	// Output:
	// [X-Api-Key] k3y
	// nbserv.Config{BaseURL: "http://127.0.0.1:8888/", Token: "", Header: [X-Api-Key], Timeout: 0s, RetryMax: 0}
	// [X-Api-Key X-Team] 2
}
