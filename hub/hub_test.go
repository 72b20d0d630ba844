package hub_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nbserv "github.com/nbserv/go-nbserv"
	"github.com/nbserv/go-nbserv/hub"
	"github.com/nbserv/go-nbserv/nbservtest"
)

const secret = "hub-s3cret-token"

// fakeHub serves h as a hub's public URL and returns a client for it.
func fakeHub(t *testing.T, h http.HandlerFunc, adjust ...func(*hub.Config)) *hub.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return hubAt(t, srv.URL, adjust...)
}

// hubAt returns a client for the hub at url.
func hubAt(t *testing.T, url string, adjust ...func(*hub.Config)) *hub.Client {
	t.Helper()
	cfg := hub.Config{URL: url, Token: nbserv.NewSecret(secret)}
	for _, f := range adjust {
		f(&cfg)
	}
	c, err := hub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func TestNewRefusesBadConfigByName(t *testing.T) {
	cases := []struct {
		cfg   hub.Config
		field string
	}{
		{hub.Config{URL: "http://127.0.0.1:8000/"}, "Token"},
		{hub.Config{URL: "127.0.0.1:8000", Token: nbserv.NewSecret(secret)}, "URL"},
		{hub.Config{URL: "", Token: nbserv.NewSecret(secret)}, "URL"},
		{hub.Config{URL: "http://127.0.0.1:8000/", Token: nbserv.NewSecret(secret), Client: nbserv.Config{Timeout: -1}}, "Timeout"},
		{hub.Config{URL: "http://127.0.0.1:8000/", Token: nbserv.NewSecret(secret), Client: nbserv.Config{StreamIdleTimeout: -1}}, "StreamIdleTimeout"},
		// A URL pasted with a token in it is refused without quoting it.
		{hub.Config{URL: "http://127.0.0.1:8000/hub/home?token=" + secret, Token: nbserv.NewSecret("t")}, "URL"},
		{hub.Config{URL: "127.0.0.1:8000/#" + secret, Token: nbserv.NewSecret("t")}, "URL"},
		{hub.Config{URL: "http://admin:" + secret + "@127.0.0.1:8000/", Token: nbserv.NewSecret("t")}, "URL"},
	}
	for _, tc := range cases {
		_, err := hub.New(tc.cfg)
		var v *nbserv.ValidationError
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("New(%v) quotes the token: %v", tc.cfg, err)
		}
		if !errors.As(err, &v) || v.Field != tc.field || !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("New(%v): %v, want a ValidationError for %s", tc.cfg, err, tc.field)
		}
	}
}

// Neither the token nor a header value of Client (header values are
// credentials) reaches any printer: fmt's verbs, encoding/json, slog's
// text and JSON handlers; only header names print.
func TestConfigAndClientNeverPrintTheToken(t *testing.T) {
	cfg := hub.Config{URL: "http://127.0.0.1:8000/", Token: nbserv.NewSecret(secret), Client: nbserv.Config{
		Token:  nbserv.NewSecret("cl13nt-token"),
		Header: nbserv.NewSecretHeader(http.Header{"X-Api-Key": {"k3y-value"}, "Authorization": {"Bearer b3arer-value"}})}}
	secrets := []string{secret, "cl13nt-token", "k3y-value", "b3arer-value"}
	c, err := hub.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var printed []string
	// Unexported fields, %p of a value and a Client value are printed by
	// reflection, no method called: the token and header values are held
	// where reflection prints an address.
	type unexported struct {
		c  hub.Config
		cl hub.Client
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%p", "%+#x", "% x", "%10.3v"} {
		for _, v := range []any{cfg, &cfg, c, *c, struct{ C hub.Config }{cfg}, struct{ C *hub.Client }{c}, []hub.Config{cfg},
			unexported{cfg, *c}, &unexported{cfg, *c}, map[string]hub.Config{"k": cfg}, []any{unexported{cfg, *c}}} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, _ := json.Marshal(map[string]any{"c": cfg, "p": &cfg, "s": struct{ C hub.Config }{cfg}})
	var text, logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logged, nil), slog.NewTextHandler(&text, nil)} {
		slog.New(h).Info("config", "cfg", cfg, "ptr", &cfg, slog.Group("g", "cfg", cfg), "any", any(cfg))
	}
	printed = append(printed, string(js), string(wrapped), logged.String(), text.String(), cfg.String(), fmt.Sprintln(cfg, c))
	// Every encoder of the standard library that can encode it.
	type holder struct{ C hub.Config }
	for _, v := range []any{cfg, &cfg, holder{cfg}} {
		x, err := xml.Marshal(v)
		var g bytes.Buffer
		if err2 := gob.NewEncoder(&g).Encode(v); err != nil || err2 != nil {
			t.Errorf("%v %v", err, err2)
		}
		printed = append(printed, string(x), g.String())
	}
	for _, s := range printed {
		for _, x := range secrets {
			if strings.Contains(s, x) || strings.Contains(strings.ToLower(s), fmt.Sprintf("%x", x)) {
				t.Errorf("printed %q: %s", x, s)
			}
		}
	}
	for _, s := range []string{string(js), logged.String(), text.String(), cfg.String()} {
		if !strings.Contains(s, "X-Api-Key") || !strings.Contains(s, "Authorization") {
			t.Errorf("the header names are missing: %s", s)
		}
	}
}

func TestUserNamesAreEscapedAsTheHubDoes(t *testing.T) {
	var got atomic.Value
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.EscapedPath())
		writeJSON(w, 200, `{"name": "x"}`)
	})
	if _, err := c.User(context.Background(), "a b/c+d@e~f.g_h-i"); err != nil {
		t.Fatal(err)
	}
	if want := "/hub/api/users/a%20b%2Fc%2Bd@e~f.g_h-i"; got.Load() != want {
		t.Errorf("requested %v, want %s", got.Load(), want)
	}
	if want := c.URL() + "user/a%20b%2Fc%2Bd@e~f.g_h-i/"; c.ServerURL("a b/c+d@e~f.g_h-i") != want {
		t.Errorf("ServerURL %s, want %s", c.ServerURL("a b/c+d@e~f.g_h-i"), want)
	}
	for _, name := range []string{"", ".", ".."} {
		if _, err := c.ClientFor(name); !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("ClientFor(%q): %v", name, err)
		}
		if _, err := c.User(context.Background(), name); !errors.Is(err, nbserv.ErrInvalidArgument) {
			t.Errorf("User(%q): %v", name, err)
		}
	}
}

func TestListUsersPages(t *testing.T) {
	names := make([]string, 450)
	for i := range names {
		names[i] = fmt.Sprintf("u%03d", i)
	}
	fake := nbservtest.NewHub(t, nbservtest.WithUsers(names...))
	c, err := hub.New(hub.Config{URL: fake.URL, Token: nbserv.NewSecret(fake.Token)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	users, err := c.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != len(names) {
		t.Fatalf("%d users, want %d", len(users), len(names))
	}
	for i, u := range users {
		if u.Name != names[i] || u.Servers == nil || len(u.Servers) != 0 {
			t.Fatalf("user %d: %+v", i, u)
		}
	}
}

// A hub before 2.0 sends a plain list.
func TestListUsersPlainList(t *testing.T) {
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, ` [{"name": "a", "server": "/user/a/", "servers": {"": {"name": "", "ready": true, "url": "/user/a/"}}}, {"name": "b", "server": null}]`)
	})
	users, err := c.ListUsers(context.Background())
	if err != nil || len(users) != 2 || users[0].Name != "a" || !users[0].Servers[""].Ready || users[1].Server != "" {
		t.Errorf("%+v, %v", users, err)
	}
}

// A hub whose next page does not move on ends the listing with an error,
// never a loop.
func TestListUsersRefusesPaginationThatDoesNotAdvance(t *testing.T) {
	var n atomic.Int32
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 200, `{"items": [{"name": "a"}], "_pagination": {"offset": 0, "limit": 1, "total": 9, "next": {"offset": 0, "limit": 1}}}`)
	})
	if _, err := c.ListUsers(context.Background()); err == nil || !strings.Contains(err.Error(), "does not advance") || n.Load() != 1 {
		t.Errorf("%v after %d requests", err, n.Load())
	}
}

// A hub whose every page has one user and says there is a next one was
// asked for pages until the decode budget ran out: millions of requests.
// ListUsers stops after 10,000 pages, with an error matching
// ErrResponseTooLarge that says why; a hub with exactly 10,000 pages is
// listed whole.
func TestListUsersEndlessPagesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		last  int32 // the page that says there is no next one
		pages int32
	}{
		// Endless as far as ListUsers may go: the last page is far
		// enough past the bound to tell, near enough that the test ends
		// (with a failure) without the bound.
		{"endless", 30_000, 10_000},
		{"exactly 10,000 pages", 10_000, 10_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pages atomic.Int32
			c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
				p := pages.Add(1)
				next := fmt.Sprintf(`{"offset": %d, "limit": 1}`, p)
				if p == tc.last {
					next = "null"
				}
				writeJSON(w, 200, fmt.Sprintf(`{"items": [{"name": "u%d"}], "_pagination": {"offset": %d, "limit": 1, "total": %d, "next": %s}}`, p, p-1, p+1, next))
			})
			users, err := c.ListUsers(context.Background())
			if tc.last > 10_000 && (!errors.Is(err, nbserv.ErrResponseTooLarge) || !strings.Contains(err.Error(), "a page after 10000 pages (10000 users)")) {
				t.Errorf("%v", err)
			}
			if tc.last <= 10_000 && (err != nil || len(users) != int(tc.last) || users[len(users)-1].Name != "u10000") {
				t.Errorf("%d users, %v", len(users), err)
			}
			if got := pages.Load(); got != tc.pages {
				t.Errorf("%d pages asked for, want %d", got, tc.pages)
			}
		})
	}
}

// Bodies are bounded twice: in bytes by MaxResponseBytes, and in what
// their values could take decoded (8 × MaxResponseBytes), per answer and
// across the pages of ListUsers.
func TestResponsesAreBounded(t *testing.T) {
	const limit = 64 << 10
	small := func(cfg *hub.Config) { cfg.Client.MaxResponseBytes = limit }
	ctx := context.Background()

	big := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"name": "`+strings.Repeat("x", limit)+`"}`)
	}, small)
	if _, err := big.User(ctx, "a"); !errors.Is(err, nbserv.ErrResponseTooLarge) {
		t.Errorf("a body over MaxResponseBytes: %v", err)
	}

	// 20,000 empty objects in 60 KB would decode to 20,000 Users.
	dense := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `[`+strings.Repeat(`{},`, 20000)+`{}]`)
	}, small)
	if _, err := dense.ListUsers(ctx); !errors.Is(err, nbserv.ErrResponseTooLarge) {
		t.Errorf("a dense body: %v", err)
	}

	// Pages each under the bound, endless together.
	var pages atomic.Int32
	endless := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		p := int(pages.Add(1))
		writeJSON(w, 200, fmt.Sprintf(`{"items": [%s{"name": "x"}], "_pagination": {"next": {"offset": %d}}}`,
			strings.Repeat(`{"name": "x"},`, 100), p*101))
	}, small)
	if _, err := endless.ListUsers(ctx); !errors.Is(err, nbserv.ErrResponseTooLarge) || pages.Load() > 20 {
		t.Errorf("endless pages: %v after %d pages", err, pages.Load())
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var hits atomic.Int32
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/hub/login?next=%2Fhub%2Fapi%2Fusers", http.StatusFound)
	})
	_, err := c.ListUsers(context.Background())
	var e *nbserv.Error
	if !errors.Is(err, nbserv.ErrRedirect) || !errors.As(err, &e) || e.Location != "/hub/login?next=%2Fhub%2Fapi%2Fusers" || hits.Load() != 1 {
		t.Errorf("%v (%d requests)", err, hits.Load())
	}
}

func TestErrorsNeverHoldTheToken(t *testing.T) {
	var auth atomic.Value
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		writeJSON(w, 403, `{"status": 403, "message": "bad token `+secret+`"}`)
	})
	_, err := c.User(context.Background(), "a")
	var e *nbserv.Error
	if !errors.As(err, &e) || e.StatusCode != 403 || !errors.Is(err, nbserv.ErrUnauthorized) {
		t.Fatalf("%v", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(e.Message, secret) || strings.Contains(string(e.Body), secret) {
		t.Errorf("the token leaks: %v / %q / %q", err, e.Message, e.Body)
	}
	if auth.Load() != "token "+secret {
		t.Errorf("sent Authorization %q", auth.Load())
	}
}

// scriptedHub answers the start, the user's model (models in turn, the
// last repeating) and the server's /api/status (statuses in turn).
func scriptedHub(t *testing.T, start int, models []string, statuses []int, adjust ...func(*hub.Config)) (*hub.Client, *atomic.Int32) {
	var m, s atomic.Int32
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "POST" && r.URL.Path == "/hub/api/users/a/server":
			w.WriteHeader(start)
		case r.URL.Path == "/hub/api/users/a":
			writeJSON(w, 200, models[min(int(m.Add(1))-1, len(models)-1)])
		case r.URL.Path == "/user/a/api/status":
			st := statuses[min(int(s.Add(1))-1, len(statuses)-1)]
			writeJSON(w, st, `{"message": "x"}`)
		default:
			http.NotFound(w, r)
		}
	}, adjust...)
	return c, &s
}

const (
	modelPending = `{"name": "a", "pending": "spawn", "servers": {"": {"name": "", "ready": false, "pending": "spawn", "url": "/user/a/"}}}`
	modelReady   = `{"name": "a", "server": "/user/a/", "servers": {"": {"name": "", "ready": true, "url": "/user/a/"}}}`
	modelGone    = `{"name": "a", "server": null, "servers": {}}`
	modelStop    = `{"name": "a", "pending": "stop", "servers": {"": {"name": "", "ready": false, "pending": "stop", "url": "/user/a/"}}}`
)

func TestStartServerWaitsForTheHubThenTheProxy(t *testing.T) {
	c, status := scriptedHub(t, 202, []string{modelPending, modelPending, modelReady}, []int{424, 424, 200})
	client, err := c.StartServer(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer client.CloseIdleConnections()
	if status.Load() != 3 || client.BaseURL() != c.URL()+"user/a/" {
		t.Errorf("%d status probes, client at %s", status.Load(), client.BaseURL())
	}
}

func TestStartServerReportsAFailedSpawn(t *testing.T) {
	c, _ := scriptedHub(t, 202, []string{modelPending, modelGone}, []int{200})
	if _, err := c.StartServer(context.Background(), "a"); !errors.Is(err, hub.ErrSpawnFailed) {
		t.Errorf("%v", err)
	}
}

func TestStartServerWhileStopping(t *testing.T) {
	c, _ := scriptedHub(t, 400, []string{modelStop}, []int{200})
	if _, err := c.StartServer(context.Background(), "a"); !errors.Is(err, hub.ErrStopping) {
		t.Errorf("%v", err)
	}
}

// A token that cannot reach the server ends the wait at once.
func TestStartServerStopsWaitingOnForbidden(t *testing.T) {
	c, status := scriptedHub(t, 201, []string{modelReady}, []int{424, 403})
	if _, err := c.StartServer(context.Background(), "a"); !errors.Is(err, nbserv.ErrUnauthorized) || status.Load() != 2 {
		t.Errorf("%v after %d probes", err, status.Load())
	}
}

func TestStartTimeoutBoundsTheWait(t *testing.T) {
	c, _ := scriptedHub(t, 202, []string{modelPending}, []int{200})
	_, err := c.StartServer(context.Background(), "a", hub.StartTimeout(300*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v", err)
	}
}

// JupyterHub 3.0 crashes into a 500 when asked to stop the server of a
// user it does not know (the stand-in does too); StopServer reports the
// missing user instead.
func TestStopServerOfAnUnknownUser(t *testing.T) {
	fake := nbservtest.NewHub(t)
	c, err := hub.New(hub.Config{URL: fake.URL, Token: nbserv.NewSecret(fake.Token)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if err := c.StopServer(context.Background(), "nobody"); !errors.Is(err, nbserv.ErrNotFound) {
		t.Errorf("%v", err)
	}
}

// A hub (or a proxy before it) that echoes the token escaped, as JSON,
// Python's ensure_ascii, Tornado's "<\/" or HTML escape it, leaves it in
// neither Error.Body nor Error(): the hub shares the SDK's redactor.
func TestErrorsNeverHoldTheTokenEscaped(t *testing.T) {
	const token = "hub/t</k&n'<ö"
	forms := map[string]string{
		"raw":                 token,
		"go json":             `hub/t\u003c/k\u0026n'\u003cö`,
		"tornado json":        `hub/t<\/k&n'<ö`,
		"every slash":         `hub\/t<\/k&n'<ö`,
		"python ensure_ascii": `hub/t<\/k&n'<\u00f6`,
		"go html":             `hub/t&lt;/k&amp;n&#39;&lt;ö`,
		"python html":         `hub/t&lt;/k&amp;n&#x27;&lt;ö`,
	}
	for name, form := range forms {
		for kind, body := range map[string]string{
			"json":  `{"status": 403, "message": "bad token ` + form + `"}`,
			"plain": "bad token " + form,
			"html":  `<html><body data-token="` + form + `"></body></html>`,
		} {
			c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
				if kind == "html" {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(403)
					_, _ = w.Write([]byte(body))
					return
				}
				writeJSON(w, 403, body)
			}, func(cfg *hub.Config) { cfg.Token = nbserv.NewSecret(token) })
			_, err := c.User(context.Background(), "a")
			var e *nbserv.Error
			if !errors.As(err, &e) || !errors.Is(err, nbserv.ErrUnauthorized) {
				t.Fatalf("%s in %s: %v", name, kind, err)
			}
			for where, s := range map[string]string{"Error()": err.Error(), "Message": e.Message, "Body": string(e.Body)} {
				for _, f := range forms {
					if strings.Contains(s, f) {
						t.Errorf("token echoed %s in a %s body: %q in %s: %s", name, kind, f, where, s)
					}
				}
			}
		}
	}
}

// A redirect whose target quotes the token URL-escaped (a login page's
// next= of a URL that held it) leaves it in neither Error.Location nor
// Error(): the Location is redacted in the token's escaped forms too.
func TestRedirectNeverHoldsTheTokenEscaped(t *testing.T) {
	const token = "hub/t+k n"
	for name, form := range map[string]string{"query": url.QueryEscape(token), "path": url.PathEscape(token)} {
		c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/hub/login?next=%2Fhub%2Fapi%3Ftoken%3D"+form, http.StatusFound)
		}, func(cfg *hub.Config) { cfg.Token = nbserv.NewSecret(token) })
		_, err := c.User(context.Background(), "a")
		var e *nbserv.Error
		if !errors.As(err, &e) || !errors.Is(err, nbserv.ErrRedirect) {
			t.Fatalf("%s: %v", name, err)
		}
		for where, s := range map[string]string{"Error()": err.Error(), "Location": e.Location} {
			if strings.Contains(s, form) {
				t.Errorf("%s-escaped token in %s: %s", name, where, s)
			}
		}
	}
}

// Each readiness poll is one attempt, whatever the retry settings: the
// poll loop is the retry, so a server is seen ready at the first poll
// after it is (at most pollMax, 2s, later), never a retry wait (up to
// RetryWaitMax, RetryMax times) later. A hub that answers 503 to the first
// polls of the user's model (restarting) and a proxy that answers 503 to
// the first probes of the server are polled again, one request per poll:
// the transport logs no retry.
func TestReadinessPollsAreOneAttemptEach(t *testing.T) {
	var users, probes, stops atomic.Int32
	stopping := atomic.Bool{}
	var logMu sync.Mutex
	var logged bytes.Buffer
	c := fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/hub/api/users/a/server" && r.Method == "POST":
			w.WriteHeader(202)
		case r.URL.Path == "/hub/api/users/a/server" && r.Method == "DELETE":
			stopping.Store(true)
			w.WriteHeader(202)
		case r.URL.Path == "/hub/api/users/a" && stopping.Load():
			if n := stops.Add(1); n <= 2 {
				writeJSON(w, 503, `{"message": "hub restarting"}`)
			} else {
				writeJSON(w, 200, modelGone)
			}
		case r.URL.Path == "/hub/api/users/a":
			switch n := users.Add(1); {
			case n <= 2:
				writeJSON(w, 503, `{"message": "hub restarting"}`)
			case n == 3:
				writeJSON(w, 200, modelPending)
			default:
				writeJSON(w, 200, modelReady)
			}
		case r.URL.Path == "/user/a/api/status":
			if probes.Add(1) <= 3 {
				writeJSON(w, 503, `{"message": "Service Unavailable"}`)
				return
			}
			writeJSON(w, 200, `{}`)
		default:
			http.NotFound(w, r)
		}
	}, func(cfg *hub.Config) {
		cfg.Client.RetryMax, cfg.Client.RetryWaitMin, cfg.Client.RetryWaitMax = 5, time.Millisecond, time.Millisecond
		cfg.Client.Logger = slog.New(slog.NewTextHandler(lockedBuffer{&logMu, &logged}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a bound for a hung test only
	defer cancel()
	client, err := c.StartServer(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	client.CloseIdleConnections()
	if users.Load() != 4 || probes.Load() != 4 {
		t.Errorf("%d polls of the model (want 4: 503, 503, pending, ready), %d probes (want 4: 503 ×3, 200)", users.Load(), probes.Load())
	}
	if err := c.StopServer(ctx, "a"); err != nil || stops.Load() != 3 {
		t.Errorf("StopServer: %v after %d polls (want 3: 503, 503, gone)", err, stops.Load())
	}
	logMu.Lock()
	defer logMu.Unlock()
	if strings.Contains(logged.String(), "hub retry") || strings.Count(logged.String(), "hub call") != 13 {
		t.Errorf("a poll was retried, or not logged as one call:\n%s", logged.String())
	}
}

// lockedBuffer is a bytes.Buffer safe for a logger's concurrent writes.
type lockedBuffer struct {
	mu  *sync.Mutex
	buf *bytes.Buffer
}

func (b lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// A wait that its context ends while the hub refuses every poll says so:
// the error matches the context's and quotes the last poll's failure (it
// said only "context deadline exceeded", leaving a dead hub unnamed).
func TestWaitEndedByContextNamesTheLastPollFailure(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted) // stop pending; then the hub is gone
		go srv.Close()
	}))
	defer srv.Close()
	c, err := hub.New(hub.Config{URL: srv.URL, Token: nbserv.NewSecret(secret)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	// The context ends the wait: the polls' own failures never do.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err = c.StopServer(ctx, "a")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "the last poll: ") ||
		!strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), string(secret)) {
		t.Errorf("StopServer with the hub gone: %v", err)
	}
}

// stopWithin runs StopServer with a context that never ends and fails the
// test if it has not returned within a minute: far beyond the bounds under
// test (a second at most), so only a wait without a bound trips it.
func stopWithin(t *testing.T, c *hub.Client, opts ...hub.StopOption) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.StopServer(context.Background(), "a", opts...) }()
	select {
	case err := <-done:
		return err
	case <-time.After(time.Minute):
		t.Fatal("StopServer without a deadline still waiting after a minute")
		return nil
	}
}

// A hub that answers the stop with 202 and then dies, or that reports the
// server stopping for ever, ends StopServer at Config.WaitTimeout or
// StopTimeout though the caller's context has no deadline (it waited for
// ever, polling a dead hub).
func TestStopServerWithoutDeadlineIsBounded(t *testing.T) {
	dying := func(t *testing.T, adjust ...func(*hub.Config)) *hub.Client {
		var srv *httptest.Server
		srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			go srv.Close()
		}))
		t.Cleanup(srv.Close)
		return hubAt(t, srv.URL, adjust...)
	}
	stopping := func(t *testing.T, adjust ...func(*hub.Config)) *hub.Client {
		return fakeHub(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == "DELETE" {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			writeJSON(w, 200, modelStop)
		}, adjust...)
	}
	waitTimeout := func(c *hub.Config) { c.WaitTimeout = 500 * time.Millisecond }
	for name, tc := range map[string]struct {
		c    func(*testing.T, ...func(*hub.Config)) *hub.Client
		cfg  []func(*hub.Config)
		opts []hub.StopOption
		last string // what the error quotes of the last poll
	}{
		"dead hub, Config.WaitTimeout":   {dying, []func(*hub.Config){waitTimeout}, nil, "refused"},
		"dead hub, StopTimeout":          {dying, nil, []hub.StopOption{hub.StopTimeout(500 * time.Millisecond)}, "refused"},
		"stopping for ever, WaitTimeout": {stopping, []func(*hub.Config){waitTimeout}, nil, ""},
		"StopTimeout over WaitTimeout": {stopping, []func(*hub.Config){func(c *hub.Config) { c.WaitTimeout = nbserv.NoTimeout }},
			[]hub.StopOption{hub.StopTimeout(300 * time.Millisecond)}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			err := stopWithin(t, tc.c(t, tc.cfg...), tc.opts...)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "to stop") ||
				!strings.Contains(err.Error(), tc.last) || strings.Contains(err.Error(), secret) {
				t.Errorf("StopServer: %v", err)
			}
		})
	}
}

// The same bound holds for StartServer: Config.WaitTimeout replaces the
// fixed 5 minutes, and StartTimeout still wins.
func TestStartServerWithoutDeadlineIsBoundedByWaitTimeout(t *testing.T) {
	c, _ := scriptedHub(t, 202, []string{modelPending}, []int{200}, func(c *hub.Config) { c.WaitTimeout = 300 * time.Millisecond })
	if _, err := c.StartServer(context.Background(), "a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v", err)
	}
	if _, err := hub.New(hub.Config{URL: "http://127.0.0.1:1/", Token: nbserv.NewSecret(secret), WaitTimeout: -time.Second}); err == nil ||
		!strings.Contains(err.Error(), "WaitTimeout") {
		t.Errorf("a negative WaitTimeout: %v", err)
	}
}

// StartTimeout and StopTimeout are budgets, as nbserv.WithTimeout is:
// zero has expired (it is not Config.WaitTimeout's "the default"), and
// the call fails at once, sending nothing.
func TestZeroStartAndStopTimeoutsHaveExpired(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	c, err := hub.New(hub.Config{URL: srv.URL + "/", Token: nbserv.NewSecret(secret)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	if _, err := c.StartServer(context.Background(), "a", hub.StartTimeout(0)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("StartServer: %v", err)
	}
	if err := c.StopServer(context.Background(), "a", hub.StopTimeout(0)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("StopServer: %v", err)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// A wait whose bound ends while a poll hangs (a hub, or a proxy, that
// accepts the connection and never answers) fails as one that ends
// between polls does: saying what it waited for and quoting the last
// poll's failure (here a 503), not with the hung poll's bare error.
func TestWaitEndedDuringAHungPollSaysWhatItWaitedFor(t *testing.T) {
	const bound = 1500 * time.Millisecond // the second poll goes at about 250 ms
	hang := func(w http.ResponseWriter, r *http.Request, n *atomic.Int32) {
		if n.Add(1) == 1 {
			writeJSON(w, http.StatusServiceUnavailable, `{"message": "hub restarting"}`)
			return
		}
		<-r.Context().Done() // until the client gives up
	}
	// acceptThenHang answers method (the start or stop) 202, and the polls
	// as hang does.
	acceptThenHang := func(method string) func(n *atomic.Int32) http.HandlerFunc {
		return func(n *atomic.Int32) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				if r.Method == method {
					w.WriteHeader(http.StatusAccepted)
					return
				}
				hang(w, r, n)
			}
		}
	}
	for name, tc := range map[string]struct {
		h    func(n *atomic.Int32) http.HandlerFunc
		call func(*hub.Client) error
		says string
	}{
		"StopServer": {acceptThenHang("DELETE"), func(c *hub.Client) error { return c.StopServer(context.Background(), "a", hub.StopTimeout(bound)) }, "to stop"},
		"StartServer, the hub": {acceptThenHang("POST"), func(c *hub.Client) error {
			_, err := c.StartServer(context.Background(), "a", hub.StartTimeout(bound))
			return err
		}, "to start"},
		"StartServer, the server": {func(n *atomic.Int32) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == "POST":
					w.WriteHeader(http.StatusCreated)
				case r.URL.Path == "/hub/api/users/a":
					writeJSON(w, 200, modelReady)
				default:
					hang(w, r, n)
				}
			}
		}, func(c *hub.Client) error {
			_, err := c.StartServer(context.Background(), "a", hub.StartTimeout(bound))
			return err
		}, "to answer"},
	} {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int32
			c := fakeHub(t, tc.h(&n))
			err := tc.call(c)
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), tc.says) ||
				!strings.Contains(err.Error(), "the last poll") || !strings.Contains(err.Error(), "503") {
				t.Errorf("%v; want it to say %q and quote the last poll's 503", err, tc.says)
			}
		})
	}
}
