package refserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// rawRequest writes a request line and headers as given (paths such as
// //evil.example/ reach the server unchanged) and returns the answer.
func (w *wire) rawRequest(method, target string, header ...string) answer {
	w.t.Helper()
	conn, err := net.Dial("tcp", w.srv.Listener.Addr().String())
	if err != nil {
		w.t.Fatal(err)
	}
	defer conn.Close()
	req := method + " " + target + " HTTP/1.1\r\nHost: " + w.srv.Listener.Addr().String() + "\r\nConnection: close\r\n"
	for i := 0; i < len(header); i += 2 {
		req += header[i] + ": " + header[i+1] + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		w.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

// TestOpenRedirect: Jupyter's trailing-slash handler strips leading and
// trailing slashes and puts one back, so no redirect leaves the server
// (docs/wire/server.md SV2). The reference server once answered
// GET //evil.example/ with Location: //evil.example.
func TestOpenRedirect(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for target, loc := range map[string]string{
		"//evil.example/":          "/evil.example",
		"///evil.example/":         "/evil.example",
		"//evil.example//?a=b":     "/evil.example?a=b",
		"/%2Fevil.example/":        "/%2Fevil.example",
		"//":                       "/",
		"/api/sessions/?":          "/api/sessions?",
		"/api/sessions/?x=1":       "/api/sessions?x=1",
		"/x/../api/sessions/":      "/x/../api/sessions",
		"/api/sessions/a-b-c-d-e/": "/api/sessions/a-b-c-d-e",
	} {
		a := w.rawRequest("GET", target)
		if a.status != 302 || a.header.Get("Location") != loc || a.body != "" {
			t.Errorf("GET %s: %d Location %q, want 302 %q", target, a.status, a.header.Get("Location"), loc)
		}
	}
	// Under a prefix the redirect is only for URLs below it.
	w = newWire(t, Options{Token: tok, BaseURL: "/user/ci/", Generation: 1})
	expectHTML404(t, w.rawRequest("GET", "//evil.example/"))
	if a := w.rawRequest("GET", "/user/ci//evil.example/"); a.status != 302 || a.header.Get("Location") != "/user/ci//evil.example" {
		t.Errorf("under the prefix: %d %q", a.status, a.header.Get("Location"))
	}
}

// TestTrailingSlashMethods: the redirect handler is a plain Tornado
// handler: GET redirects; POST and PUT redirect only past Tornado's XSRF
// check (the token does not exempt them), PATCH and DELETE are refused by
// it (403) or else 405; HEAD, OPTIONS and unknown methods are 405. The
// reference server once redirected every method.
func TestTrailingSlashMethods(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	xsrf := []string{"Cookie", "_xsrf=abc", "X-XSRFToken", "abc"}
	for _, c := range []struct {
		method string
		xsrf   bool
		want   int
	}{
		{"GET", false, 302}, {"HEAD", false, 405}, {"POST", false, 403}, {"PUT", false, 403},
		{"PATCH", false, 403}, {"DELETE", false, 403}, {"OPTIONS", false, 405}, {"FOO", false, 405},
		{"POST", true, 302}, {"PUT", true, 302}, {"PATCH", true, 405}, {"DELETE", true, 405},
	} {
		h := []string{"Authorization", "token " + tok}
		if c.xsrf {
			h = append(h, xsrf...)
		}
		a := w.rawRequest(c.method, "/api/sessions/?x=1", h...)
		if a.status != c.want || a.header.Get("Content-Type") != "text/html; charset=UTF-8" {
			t.Errorf("%s (XSRF %v): %d %q, want %d", c.method, c.xsrf, a.status, a.header.Get("Content-Type"), c.want)
		}
		if c.want == 302 && a.header.Get("Location") != "/api/sessions?x=1" {
			t.Errorf("%s: Location %q", c.method, a.header.Get("Location"))
		}
		if c.want != 302 && c.method != "HEAD" && !strings.Contains(a.body, fmt.Sprintf("<title>%d: ", c.want)) {
			t.Errorf("%s: body %q is not Tornado's error page", c.method, a.body)
		}
	}
}

// TestAPIMethods: on an API route a method the handler does not implement
// is 405 even without the token; OPTIONS is the CORS preflight, answered
// without the token; unknown methods are 405 before anything.
func TestAPIMethods(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for _, m := range []string{"HEAD", "FOO"} {
		if a := w.rawRequest(m, "/api/sessions"); a.status != 405 || a.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s without the token: %d %q", m, a.status, a.header.Get("Content-Type"))
		}
	}
	a := w.rawRequest("OPTIONS", "/api/sessions")
	if a.status != 200 || a.body != "" || a.header.Get("Access-Control-Allow-Methods") != "GET, PUT, POST, PATCH, DELETE, OPTIONS" ||
		a.header.Get("Access-Control-Allow-Headers") != "accept, content-type, authorization, x-xsrftoken" {
		t.Errorf("OPTIONS: %d %v %q", a.status, a.header, a.body)
	}
	// Token-authenticated answers echo the Origin; others must come from the same origin.
	a = w.rawRequest("GET", "/api/sessions", "Authorization", "token "+tok, "Origin", "http://evil.example")
	if a.status != 200 || a.header.Get("Access-Control-Allow-Origin") != "http://evil.example" {
		t.Errorf("token and a foreign Origin: %d %v", a.status, a.header)
	}
	if a = w.rawRequest("GET", "/api/sessions", "Authorization", "token "+tok); a.header.Values("Access-Control-Allow-Origin") == nil {
		t.Errorf("token-authenticated answer without Access-Control-Allow-Origin: %v", a.header)
	}
	expectError(t, w.rawRequest("GET", "/api", "Origin", "http://evil.example"), 404, "Not Found")
	if a := w.rawRequest("GET", "/api", "Origin", "HTTP://"+w.srv.Listener.Addr().String()); a.status != 200 {
		t.Errorf("same origin: %d", a.status)
	}
}

// TestPages: outside the API Jupyter answers HTML: the main page at the
// base URL, its 404 page for anything else, 403 for a write without the
// token or XSRF cookie, 405 for a method it does not know.
func TestPages(t *testing.T) {
	w := newWire(t, Options{Token: `a"<b`, Generation: 1})
	auth := []string{"Authorization", `token a"<b`}
	for _, c := range []struct {
		method, path string
		auth         bool
		status       int
		heading      string
	}{
		{"GET", "/", false, 200, "<h1>A Jupyter Server is running.</h1>"},
		{"POST", "/", true, 200, "<h1>A Jupyter Server is running.</h1>"},
		{"POST", "/", false, 403, "<h1>403 : Forbidden</h1>"},
		{"HEAD", "/", false, 405, ""},
		{"DELETE", "/", true, 405, "<h1>405 : Method Not Allowed</h1>"},
		{"GET", "/nope", false, 404, "<h1>404 : Not Found</h1>"},
		{"HEAD", "/nope", false, 404, ""},
		{"OPTIONS", "/nope", false, 404, "<h1>404 : Not Found</h1>"},
		{"POST", "/nope", false, 403, "&#39;_xsrf&#39; argument missing from POST"},
		{"POST", "/nope", true, 404, "<h1>404 : Not Found</h1>"},
		{"FOO", "/nope", true, 405, "<h1>405 : Method Not Allowed</h1>"},
	} {
		h := []string{}
		if c.auth {
			h = auth
		}
		a := w.rawRequest(c.method, c.path, h...)
		if a.status != c.status || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, c.heading) {
			t.Errorf("%s %s: %d %q %.80q", c.method, c.path, a.status, a.header.Get("Content-Type"), a.body)
		}
		embedded := strings.Contains(a.body, `data-jupyter-api-token="a%22%3Cb"`) && strings.Contains(a.body, `?token=a&#34;&lt;b"`)
		if c.method != "HEAD" && embedded != c.auth {
			t.Errorf("%s %s: token embedded %v, want %v", c.method, c.path, embedded, c.auth)
		}
	}
}
