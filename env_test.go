package nbserv_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/nbservtest"
)

// envVars are every variable the tests set: those ConfigFromEnv reads and
// those a hub sets that it must not read.
var envVars = []string{
	"JUPYTER_URL", "JUPYTER_TOKEN",
	"JUPYTERHUB_SERVICE_URL", "JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_SERVICE_NAME",
	"JUPYTERHUB_API_TOKEN", "JPY_API_TOKEN",
	"JUPYTERHUB_API_URL", "JUPYTERHUB_BASE_URL", "JUPYTERHUB_USER", "JUPYTERHUB_SERVER_NAME",
	"JUPYTERHUB_HOST", "JUPYTERHUB_CLIENT_ID", "JUPYTERHUB_ACTIVITY_URL",
}

// setEnv empties every variable of envVars (the developer's own shell may
// run inside a hub), then sets env; an empty variable counts as unset.
func setEnv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range envVars {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// singleUserEnv is what JupyterHub 3.0 gave user ci's server (and every
// kernel and terminal it starts), as recorded in
// docs/wire/jupyterhub.md H11, H12, with tokens replaced.
func singleUserEnv() map[string]string {
	return map[string]string{
		"JPY_API_TOKEN":             "hub-token",
		"JUPYTERHUB_ACTIVITY_URL":   "http://127.0.0.1:58737/hub/api/users/ci/activity",
		"JUPYTERHUB_API_TOKEN":      "hub-token",
		"JUPYTERHUB_API_URL":        "http://127.0.0.1:58737/hub/api",
		"JUPYTERHUB_BASE_URL":       "/",
		"JUPYTERHUB_CLIENT_ID":      "jupyterhub-user-ci",
		"JUPYTERHUB_HOST":           "",
		"JUPYTERHUB_SERVER_NAME":    "",
		"JUPYTERHUB_SERVICE_PREFIX": "/user/ci/",
		"JUPYTERHUB_SERVICE_URL":    "http://127.0.0.1:57293/user/ci/",
		"JUPYTERHUB_USER":           "ci",
	}
}

// serviceEnv is what JupyterHub 3.0 gave a managed service named envdump
// with a url.
func serviceEnv() map[string]string {
	return map[string]string{
		"JPY_API_TOKEN":             "service-token",
		"JUPYTERHUB_API_TOKEN":      "service-token",
		"JUPYTERHUB_API_URL":        "http://127.0.0.1:58737/hub/api",
		"JUPYTERHUB_BASE_URL":       "/",
		"JUPYTERHUB_CLIENT_ID":      "service-envdump",
		"JUPYTERHUB_SERVICE_NAME":   "envdump",
		"JUPYTERHUB_SERVICE_PREFIX": "/services/envdump/",
		"JUPYTERHUB_SERVICE_URL":    "http://127.0.0.1:54511",
		"JUPYTERHUB_USER":           "",
	}
}

func with(env map[string]string, kv ...string) map[string]string {
	for i := 0; i+1 < len(kv); i += 2 {
		env[kv[i]] = kv[i+1]
	}
	return env
}

func configFromEnv(t *testing.T, env map[string]string) nbserv.Config {
	t.Helper()
	setEnv(t, env)
	cfg, err := nbserv.ConfigFromEnv()
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	return cfg
}

func TestConfigFromEnvBaseURL(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"nothing set names no server", nil, ""},
		{"JUPYTER_URL as given", map[string]string{"JUPYTER_URL": "https://hub.example.org/user/alice"}, "https://hub.example.org/user/alice"},
		{"single-user server: host and port of SERVICE_URL, path SERVICE_PREFIX", singleUserEnv(), "http://127.0.0.1:57293/user/ci/"},
		{"JUPYTER_URL wins over the hub's", with(singleUserEnv(), "JUPYTER_URL", "http://10.1.2.3:8888/"), "http://10.1.2.3:8888/"},
		{"SERVICE_PREFIX wins over SERVICE_URL's path, as in jupyterhub-singleuser",
			with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:57293/elsewhere/"), "http://127.0.0.1:57293/user/ci/"},
		{"named server", with(singleUserEnv(), "JUPYTERHUB_SERVER_NAME", "gpu", "JUPYTERHUB_SERVICE_PREFIX", "/user/ci/gpu/"),
			"http://127.0.0.1:57293/user/ci/gpu/"},
		{"no SERVICE_PREFIX is /", with(singleUserEnv(), "JUPYTERHUB_SERVICE_PREFIX", ""), "http://127.0.0.1:57293/"},
		{"SERVICE_PREFIX gets its slashes", with(singleUserEnv(), "JUPYTERHUB_SERVICE_PREFIX", "user/ci"), "http://127.0.0.1:57293/user/ci/"},
		{"escaped SERVICE_PREFIX stays escaped", with(singleUserEnv(), "JUPYTERHUB_SERVICE_PREFIX", "/user/a%40b%2Fc/"),
			"http://127.0.0.1:57293/user/a%40b%2Fc/"},
		{"wildcard IPv4 host is reached on loopback", with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://0.0.0.0:8888/user/ci/"),
			"http://127.0.0.1:8888/user/ci/"},
		{"empty host is loopback", with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://:8888/user/ci/"), "http://127.0.0.1:8888/user/ci/"},
		{"wildcard IPv6 host is reached on loopback", with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://[::]:8888/"),
			"http://[::1]:8888/user/ci/"},
		{"no port is 80 for http", with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://jupyter-ci/"), "http://jupyter-ci:80/user/ci/"},
		{"no port is 443 for https", with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "https://jupyter-ci"), "https://jupyter-ci:443/user/ci/"},
		{"a hub service names no Jupyter Server", serviceEnv(), ""},
		{"a hub service with JUPYTER_URL", with(serviceEnv(), "JUPYTER_URL", "http://127.0.0.1:8000/user/ci/"), "http://127.0.0.1:8000/user/ci/"},
		{"SERVICE_PREFIX without SERVICE_URL (hubs before 2.0) names no port", map[string]string{"JUPYTERHUB_SERVICE_PREFIX": "/user/ci/"}, ""},
		{"the hub's API, base URL, user and server name are not a server", map[string]string{
			"JUPYTERHUB_API_URL": "http://127.0.0.1:8081/hub/api", "JUPYTERHUB_BASE_URL": "/", "JUPYTERHUB_USER": "ci",
			"JUPYTERHUB_SERVER_NAME": "gpu", "JUPYTERHUB_HOST": "https://ci.hub.example.org", "JUPYTERHUB_ACTIVITY_URL": "http://127.0.0.1:8081/hub/api/users/ci/activity",
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := configFromEnv(t, tc.env).BaseURL; got != tc.want {
				t.Errorf("BaseURL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigFromEnvToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"none", map[string]string{"JUPYTER_URL": "http://127.0.0.1:8888/"}, ""},
		{"JUPYTER_TOKEN", map[string]string{"JUPYTER_TOKEN": "t1"}, "t1"},
		{"JUPYTER_TOKEN wins over the hub's", map[string]string{"JUPYTER_TOKEN": "t1", "JUPYTERHUB_API_TOKEN": "t2", "JPY_API_TOKEN": "t3"}, "t1"},
		{"JUPYTERHUB_API_TOKEN wins over JPY_API_TOKEN", map[string]string{"JUPYTERHUB_API_TOKEN": "t2", "JPY_API_TOKEN": "t3"}, "t2"},
		{"JPY_API_TOKEN alone (hubs before 0.7.2)", map[string]string{"JPY_API_TOKEN": "t3"}, "t3"},
		{"empty counts as unset", map[string]string{"JUPYTER_TOKEN": "", "JUPYTERHUB_API_TOKEN": "t2"}, "t2"},
		{"single-user server", singleUserEnv(), "hub-token"},
		{"hub service", serviceEnv(), "service-token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := configFromEnv(t, tc.env).Token; got.Reveal() != tc.want {
				t.Errorf("Token = %q, want %q", got.Reveal(), tc.want)
			}
		})
	}
}

func TestConfigFromEnvErrorsNameTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env   map[string]string
		field string
	}{
		{map[string]string{"JUPYTER_URL": "127.0.0.1:8888"}, "JUPYTER_URL"},
		{map[string]string{"JUPYTER_URL": "ftp://h/"}, "JUPYTER_URL"},
		{map[string]string{"JUPYTER_URL": "http://me:pw-secret@h/"}, "JUPYTER_URL"},
		{map[string]string{"JUPYTER_URL": "http://h/?token=pw-secret"}, "JUPYTER_URL"},
		{with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "tcp://127.0.0.1:1/"), "JUPYTERHUB_SERVICE_URL"},
		{with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://h:1\x7f/"), "JUPYTERHUB_SERVICE_URL"},
		{with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://me:pw-secret@h:1/"), "JUPYTERHUB_SERVICE_URL"},
		{with(singleUserEnv(), "JUPYTERHUB_SERVICE_PREFIX", "/user/ci/?x=1"), "JUPYTERHUB_SERVICE_PREFIX"},
		{with(singleUserEnv(), "JUPYTERHUB_SERVICE_PREFIX", "//evil.example/"), "JUPYTERHUB_SERVICE_PREFIX"},
		{with(singleUserEnv(), "JUPYTERHUB_SERVICE_PREFIX", "http://evil.example/"), "JUPYTERHUB_SERVICE_PREFIX"},
	} {
		setEnv(t, with(tc.env, "JUPYTERHUB_API_TOKEN", "tok-secret"))
		cfg, err := nbserv.ConfigFromEnv()
		var ve *nbserv.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field || !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("%v: err = %#v, want a *ValidationError for %s", tc.env, err, tc.field)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows a credential: %v", err)
		}
		// The token is kept for a program that takes the URL from a flag.
		if cfg.BaseURL != "" || cfg.Token.Reveal() != "tok-secret" {
			t.Errorf("%v: cfg = %q, token %t", tc.env, cfg.BaseURL, cfg.Token.Reveal() == "tok-secret")
		}
	}
}

// TestConfigFromEnvReachesTheSingleUserServer plays a hub's part: a
// reference server under /user/ci/ and the variables a hub would give it.
// The Config that ConfigFromEnv builds from them reaches it.
func TestConfigFromEnvReachesTheSingleUserServer(t *testing.T) {
	srv := nbservtest.NewServer(t, nbservtest.WithBaseURL("/user/ci/"))
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	env := with(singleUserEnv(), "JUPYTERHUB_SERVICE_URL", "http://"+u.Host+"/user/ci/",
		"JUPYTERHUB_API_TOKEN", srv.Token, "JPY_API_TOKEN", srv.Token)
	cfg := configFromEnv(t, env)
	if cfg.BaseURL != srv.URL {
		t.Fatalf("BaseURL = %q, want %q", cfg.BaseURL, srv.URL)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), srv.Token) {
		t.Error("the Config prints its token")
	}
	c, err := nbserv.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.Sessions.Create(context.Background(), nbserv.CreateSessionRequest{Path: "a.ipynb", Type: nbserv.SessionNotebook}); err != nil {
		t.Fatal(err)
	}
	if list, err := srv.Client.Sessions.List(context.Background()); err != nil || len(list) != 1 {
		t.Errorf("sessions on the server: %v, %v", list, err)
	}
}
