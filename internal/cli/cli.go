// Package cli holds what the example programs share: the server flags with
// their environment fallbacks, and human-friendly durations.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
)

// ServerFlags are the -url and -token flags, defaulting to $JUPYTER_URL and
// $JUPYTER_TOKEN.
type ServerFlags struct {
	URL, Token string
}

// Register adds the flags to fs, taking defaults from getenv.
func (f *ServerFlags) Register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.URL, "url", getenv("JUPYTER_URL"), "Jupyter Server base URL, prefix included (default $JUPYTER_URL)")
	fs.StringVar(&f.Token, "token", getenv("JUPYTER_TOKEN"), "Jupyter Server token (default $JUPYTER_TOKEN)")
}

// ErrNoURL is returned by Client when neither -url nor $JUPYTER_URL is set.
var ErrNoURL = errors.New("no server: give -url or set JUPYTER_URL")

// Client returns a client for the server the flags name.
func (f *ServerFlags) Client() (*nbserv.Client, error) {
	if f.URL == "" {
		return nil, ErrNoURL
	}
	return nbserv.NewClient(nbserv.Config{BaseURL: f.URL, Token: nbserv.Secret(f.Token)})
}

// Ago renders how long ago t was, relative to now, coarsely: "just now",
// "45s ago", "5m ago", "3h ago", "2d ago".
func Ago(t, now time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}

// Short abbreviates a UUID to its first group, as people read them.
func Short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
