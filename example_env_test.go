package nbserv_test

import (
	"context"
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// ExampleConfigFromEnv is a program run inside a JupyterHub single-user
// server, from a terminal or a notebook there: the hub's variables name
// the server and its token, so the program needs no flags.
func ExampleConfigFromEnv() {
	hub := pretendToBeInsideAHub()
	defer hub.Close()

	cfg, err := nbserv.ConfigFromEnv()
	if err != nil {
		log.Fatal(err) // a malformed variable, named in the error
	}
	if cfg.BaseURL == "" {
		log.Fatal("no Jupyter Server: set JUPYTER_URL and JUPYTER_TOKEN")
	}
	cfg.Timeout = 10 * time.Second // add what the environment does not say
	c, err := nbserv.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer c.CloseIdleConnections()

	sessions, err := c.Sessions.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(c.BaseURL())
	fmt.Println(u.Path, len(sessions), "sessions, token", cfg.Token)
	// Output: /user/alice/ 0 sessions, token [REDACTED]
}

// pretendToBeInsideAHub starts a reference server at /user/alice/ and sets
// the variables JupyterHub gives alice's server (and every kernel and
// terminal it starts), clearing JUPYTER_URL and JUPYTER_TOKEN, which would
// win over them. Close stops the server and restores the environment.
func pretendToBeInsideAHub() interface{ Close() } {
	srv, err := nbservtest.Start(nbservtest.WithBaseURL("/user/alice/"))
	if err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(srv.URL)
	env := map[string]string{
		"JUPYTER_URL": "", "JUPYTER_TOKEN": "", "JUPYTERHUB_SERVICE_NAME": "",
		"JUPYTERHUB_SERVICE_URL":    "http://" + u.Host + "/user/alice/",
		"JUPYTERHUB_SERVICE_PREFIX": "/user/alice/",
		"JUPYTERHUB_API_TOKEN":      srv.Token,
		"JUPYTERHUB_USER":           "alice",
	}
	saved := map[string]string{}
	for k, v := range env {
		old, ok := os.LookupEnv(k)
		if ok {
			saved[k] = old
		}
		os.Setenv(k, v)
	}
	return closer(func() {
		srv.Close()
		for k := range env {
			if old, ok := saved[k]; ok {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}
	})
}

type closer func()

func (f closer) Close() { f() }
