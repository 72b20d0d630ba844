package nbserv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf16"
)

// wire404HTML is the start of Jupyter's "no route" page; like the real one
// it embeds the token of an authenticated request.
const wire404HTML = `<!DOCTYPE HTML>
<html>
<head><title>Jupyter Server</title></head>
<body class=""  
  data-jupyter-api-token="` + testToken + `"   dir="ltr">
<div class="error"><h1>404 : Not Found</h1></div></body></html>`

// TestStatusesMapToTypedErrors drives every error row of the wire record (docs/wire/server.md SV3 and docs/wire/sessions.md)
// through the SDK and checks the sentinel, the decoded fields, and that
// nothing else matches.
func TestStatusesMapToTypedErrors(t *testing.T) {
	ctx := context.Background()
	sentinels := []error{ErrBadRequest, ErrUnauthorized, ErrNotFound, ErrKernelGone, ErrKernelUnavailable, ErrServer, ErrInvalidArgument}
	create := func(c *Client) error {
		_, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "p", Type: "file", Kernel: &KernelRequest{Name: "nosuch"}})
		return err
	}
	get := func(c *Client) error { _, err := c.Sessions.Get(ctx, testSessionID); return err }
	patch := func(c *Client) error {
		_, err := c.Sessions.Update(ctx, testSessionID, UpdateSessionRequest{Kernel: &KernelRequest{ID: "nope-a-b-c-d"}})
		return err
	}
	del := func(c *Client) error { return c.Sessions.Delete(ctx, testSessionID) }
	list := func(c *Client) error { _, err := c.Sessions.List(ctx); return err }

	cases := []struct {
		name                 string
		call                 func(*Client) error
		method               string
		status               int
		body                 string
		want                 error
		message, short, tb   string
		bodyMustNotHaveToken bool
	}{
		{"403 forbidden", list, "GET", 403, `{"message": "Forbidden", "reason": null}`, ErrUnauthorized, "Forbidden", "", "", false},
		{"403 xsrf", create, "POST", 403, `{"message": "'_xsrf' argument missing from POST", "reason": null}`, ErrUnauthorized, "'_xsrf' argument missing from POST", "", "", false},
		{"401", list, "GET", 401, `{"message": "Unauthorized", "reason": null}`, ErrUnauthorized, "Unauthorized", "", "", false},
		{"400 no json", create, "POST", 400, `{"message": "No JSON data provided", "reason": null}`, ErrBadRequest, "No JSON data provided", "", "", false},
		{"400 missing path", create, "POST", 400, `{"message": "Missing field in JSON data: path", "reason": null}`, ErrBadRequest, "Missing field in JSON data: path", "", "", false},
		{"400 invalid json", create, "POST", 400, `{"message": "Invalid JSON in body of request", "reason": null}`, ErrBadRequest, "Invalid JSON in body of request", "", "", false},
		{"400 no such kernel", patch, "PATCH", 400, `{"message": "No such kernel: nope", "reason": null}`, ErrBadRequest, "No such kernel: nope", "", "", false},
		{"404 json", get, "GET", 404, `{"message": "Session not found: session_id='` + testSessionID + `'", "reason": null}`, ErrNotFound, "Session not found: session_id='" + testSessionID + "'", "", "", false},
		{"404 html", get, "GET", 404, wire404HTML, ErrNotFound, "", "", "", true},
		{"405", list, "GET", 405, `{"message": "Method Not Allowed", "reason": null}`, nil, "Method Not Allowed", "", "", false},
		{"410", del, "DELETE", 410, `{"message": "Kernel deleted before session", "reason": null}`, ErrKernelGone, "Kernel deleted before session", "", "", false},
		{"501", create, "POST", 501, `{"message": "The 'nosuch' kernel is not available. Please pick another suitable kernel instead, or install that kernel.", "short_message": "nosuch not found"}`,
			ErrKernelUnavailable, "The 'nosuch' kernel is not available. Please pick another suitable kernel instead, or install that kernel.", "nosuch not found", "", false},
		{"500 traceback", create, "POST", 500, `{"message": "Unhandled error", "reason": null, "traceback": "Traceback (most recent call last):\n  File \"handlers.py\", line 56, in post\nTypeError: list indices must be integers or slices, not str\n"}`,
			ErrServer, "Unhandled error", "", "Traceback (most recent call last):\n  File \"handlers.py\", line 56, in post\nTypeError: list indices must be integers or slices, not str\n", false},
		{"500 plain", create, "POST", 500, `{"message": "'int' object has no attribute 'strip'", "reason": null}`, ErrServer, "'int' object has no attribute 'strip'", "", "", false},
		{"502 html proxy", list, "GET", 502, `<html>Bad Gateway</html>`, ErrServer, "", "", "", false},
		{"500 empty", list, "GET", 500, ``, ErrServer, "", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, m := newMock(t, "http://jupyter.test", func(cfg *Config) { cfg.RetryMax = NoRetries })
			for _, url := range []string{"http://jupyter.test/api/sessions", "http://jupyter.test/api/sessions/" + testSessionID} {
				m.on(tc.method, url, tc.status, tc.body, "Content-Type", "application/json")
			}
			err := tc.call(c)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %#v, want *Error", err)
			}
			if e.StatusCode != tc.status || e.Message != tc.message || e.ShortMessage != tc.short || e.Traceback != tc.tb || e.Reason != "" {
				t.Errorf("got %d %q %q %q %q", e.StatusCode, e.Message, e.ShortMessage, e.Traceback, e.Reason)
			}
			if e.Method != tc.method || !strings.HasPrefix(e.Path, "/api/sessions") {
				t.Errorf("request %s %s", e.Method, e.Path)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tc.want) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			if strings.Contains(err.Error(), testToken) || strings.Contains(err.Error(), "Traceback") {
				t.Errorf("Error() leaks: %s", err)
			}
			if tc.message != "" && !strings.Contains(err.Error(), tc.message) {
				t.Errorf("Error() = %s, lacks the message", err)
			}
			if tc.bodyMustNotHaveToken {
				if strings.Contains(string(e.Body), testToken) || !strings.Contains(string(e.Body), "[REDACTED]") {
					t.Errorf("token not redacted from body: %s", e.Body)
				}
			} else if string(e.Body) != tc.body {
				t.Errorf("Body = %q, want the raw body", e.Body)
			}
		})
	}
}

func TestErrorStringForHTMLBody(t *testing.T) {
	c, m := newMock(t, "http://jupyter.test/user/alice/")
	m.on("GET", "http://jupyter.test/user/alice/api/sessions/"+testSessionID, 404, wire404HTML, "Content-Type", "text/html")
	_, err := c.Sessions.Get(context.Background(), testSessionID)
	want := "nbserv: GET /user/alice/api/sessions/" + testSessionID + ": 404 Not Found (" + itoa(len(strings.ReplaceAll(wire404HTML, testToken, "[REDACTED]"))) + "-byte text/html body)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant  %s", err, want)
	}
}

func TestValidationFailsBeforeAnyRequest(t *testing.T) {
	ctx := context.Background()
	c, m := newMock(t, "http://jupyter.test")
	calls := map[string]func() error{
		"Create no path": func() error { _, err := c.Sessions.Create(ctx, CreateSessionRequest{Type: "file"}); return err },
		"Create no type": func() error { _, err := c.Sessions.Create(ctx, CreateSessionRequest{Path: "p"}); return err },
		"Get empty":      func() error { _, err := c.Sessions.Get(ctx, ""); return err },
		"Rename nothing": func() error { _, err := c.Sessions.Rename(ctx, testSessionID, "", ""); return err },
		"Update empty":   func() error { _, err := c.Sessions.Update(ctx, "", UpdateSessionRequest{}); return err },
		"Delete empty":   func() error { return c.Sessions.Delete(ctx, "") },
		"Kernel get":     func() error { _, err := c.Kernels.Get(ctx, ""); return err },
		"Kernel delete":  func() error { return c.Kernels.Delete(ctx, "../x") },
	}
	for name, call := range calls {
		err := call()
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want *ValidationError", name, err)
		} else if want := "nbserv: invalid " + ve.Field + ": " + ve.Problem; err.Error() != want {
			t.Errorf("%s: Error() = %q, want %q", name, err.Error(), want)
		}
	}
	if n := len(m.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

// Config.Header's values are credentials as much as the token: a server
// that echoes them back (a proxy's debug page quoting the request, an
// error message quoting a cookie) has them redacted from Body, the
// decoded fields and Error(), in every escaped form the token is.
func TestHeaderCredentialsRedactedFromErrors(t *testing.T) {
	const bearer, cookie = "be<ar&er/tök€n-😀", `sess</ion&"x'1`
	header := http.Header{"Authorization": {"Bearer " + bearer}, "Cookie": {"theme=dark; session=" + cookie}, "X-Api-Key": {"k3y-<v@lue>"}}
	forms := func(s string) []string {
		goJSON, _ := json.Marshal(s)
		pyJSON := pythonJSON(s)
		return []string{s, string(goJSON[1 : len(goJSON)-1]), pyJSON, strings.ReplaceAll(string(goJSON[1:len(goJSON)-1]), "/", `\/`),
			html.EscapeString(s), url.QueryEscape(s)}
	}
	for name, echo := range map[string]func(r *http.Request) string{
		"go json": func(r *http.Request) string {
			b, _ := json.Marshal(map[string]any{"message": "bad credentials: " + r.Header.Get("Authorization") + " / " + r.Header.Get("Cookie"), "headers": r.Header})
			return string(b)
		},
		"python json": func(r *http.Request) string {
			return `{"message": "bad ` + pythonJSON(r.Header.Get("Authorization")) + `", "reason": "` +
				pythonJSON(cookie) + `", "traceback": "` + pythonJSON(r.Header.Get("X-Api-Key")) + `"}`
		},
		"html": func(r *http.Request) string {
			return `<html><body data-auth="` + html.EscapeString(r.Header.Get("Authorization")) + `">` + html.EscapeString(bearer) +
				" " + html.EscapeString(cookie) + " " + url.QueryEscape(r.Header.Get("X-Api-Key")) + `</body></html>`
		},
		"bare text": func(r *http.Request) string { return "denied " + bearer + " " + cookie },
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusForbidden)
				_, _ = io.WriteString(w, echo(r))
			}, func(cfg *Config) { cfg.Header = NewSecretHeader(header) })
			_, err := c.Sessions.List(context.Background())
			var e *Error
			if !errors.As(err, &e) || e.StatusCode != http.StatusForbidden {
				t.Fatalf("err = %v", err)
			}
			for _, secret := range []string{bearer, cookie, "k3y-<v@lue>"} {
				for _, form := range forms(secret) {
					for where, s := range map[string]string{"Body": string(e.Body), "Error()": e.Error(), "Message": e.Message,
						"Reason": e.Reason, "Traceback": e.Traceback, "RedactErr": fmt.Sprint(err)} {
						if strings.Contains(s, form) {
							t.Errorf("%s holds %q: %s", where, form, s)
						}
					}
				}
			}
			if !strings.Contains(string(e.Body), "[REDACTED]") {
				t.Errorf("Body = %s", e.Body)
			}
		})
	}
}

// pythonJSON is the inside of Python's json.dumps(s): every non-ASCII
// character as \uXXXX, past U+FFFF as a surrogate pair.
func pythonJSON(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		switch {
		case u == '"' || u == '\\':
			b.WriteString(`\` + string(rune(u)))
		case u < 0x20 || u >= 0x7f:
			fmt.Fprintf(&b, `\u%04x`, u)
		default:
			b.WriteRune(rune(u))
		}
	}
	return b.String()
}
