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

// rawGet sends a GET with the given query and headers (name, value pairs,
// repeats allowed) and returns the status, or 0 when the server closed the
// connection without answering.
func (w *wire) rawGet(path, query string, header ...string) int {
	w.t.Helper()
	target := w.srv.URL + path
	if query != "" {
		target += "?" + query
	}
	req, err := http.NewRequest("GET", target, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	for i := 0; i < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestTokenMatchesJupyter holds the token rules of Jupyter 1.23.3's login
// handler (docs/wire/server.md SV1): the query first (last value,
// stripped), then the header against `token\s+(.+)` in any case.
func TestTokenMatchesJupyter(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	for _, c := range []struct {
		name, query string
		header      []string
		want        int
	}{
		{"header", "", []string{"Authorization", "token " + tok}, 200},
		{"Token", "", []string{"Authorization", "Token " + tok}, 200},
		{"TOKEN", "", []string{"Authorization", "TOKEN " + tok}, 200},
		{"tab", "", []string{"Authorization", "token\t" + tok}, 200},
		{"spaces", "", []string{"Authorization", "token   " + tok}, 200},
		{"Latin-1 no-break space", "", []string{"Authorization", "token\xa0" + tok}, 200},
		{"trailing no-break space", "", []string{"Authorization", "token " + tok + "\xa0"}, 200},
		{"no space", "", []string{"Authorization", "token" + tok}, 403},
		{"trailing word", "", []string{"Authorization", "token " + tok + " x"}, 403},
		{"bearer", "", []string{"Authorization", "Bearer " + tok}, 403},
		{"two headers", "", []string{"Authorization", "token " + tok, "Authorization", "x"}, 403},
		{"query", "token=" + tok, nil, 200},
		{"query wins over a wrong header", "token=" + tok, []string{"Authorization", "token wrong"}, 200},
		{"wrong query wins over the header", "token=wrong", []string{"Authorization", "token " + tok}, 403},
		{"empty query: the header", "token=", []string{"Authorization", "token " + tok}, 200},
		{"blank query: the header", "token=+%20", []string{"Authorization", "token " + tok}, 200},
		{"last value", "token=x&token=" + tok, nil, 200},
		{"last value wrong", "token=" + tok + "&token=x", nil, 403},
		{"last value empty", "token=" + tok + "&token=", nil, 403},
		{"stripped", "token=%20" + tok + "%09", nil, 200},
		{"control character", "token=" + tok + "%01", nil, 200},
		{"escaped name", "to%6ben=" + tok, nil, 200},
		{"semicolon is no separator", "token=" + tok + ";x=1", []string{"Authorization", "token " + tok}, 403},
		{"semicolon in another pair", "a=1;token=x", []string{"Authorization", "token " + tok}, 200},
		{"bare name", "token", []string{"Authorization", "token " + tok}, 200},
		{"invalid escape kept", "token=%zz", []string{"Authorization", "token " + tok}, 403},
		{"not UTF-8: dropped", "token=%ff", []string{"Authorization", "token " + tok}, 0},
		{"not UTF-8 elsewhere", "x=%ff", []string{"Authorization", "token " + tok}, 200},
	} {
		if got := w.rawGet("/api/sessions", c.query, c.header...); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// Pages evaluate the token too; the trailing-slash redirect does not.
	if got := w.rawGet("/nope", "token=%ff"); got != 0 {
		t.Errorf("page, token not UTF-8: %d, want the connection dropped", got)
	}
	if got := w.rawGet("/api/sessions/", "token=%ff"); got != 302 {
		t.Errorf("trailing slash, token not UTF-8: %d, want 302", got)
	}
}

// Tornado reads the header as Latin-1: a non-ASCII token matches only
// through the query.
func TestNonASCIITokenOnlyThroughTheQuery(t *testing.T) {
	w := newWire(t, Options{Token: "tök", Generation: 1})
	if got := w.rawGet("/api/sessions", "token=t%C3%B6k"); got != 200 {
		t.Errorf("query: %d", got)
	}
	if got := w.rawGet("/api/sessions", "", "Authorization", "token tök"); got != 403 {
		t.Errorf("header: %d, want 403 as Jupyter", got)
	}
	if got := w.rawGet("/api/sessions", "", "Authorization", "token t\xf6k"); got != 200 {
		t.Errorf("header in Latin-1: %d, want 200 as Jupyter", got)
	}
}

// TestXSRF holds Tornado's XSRF check on writes not authenticated by the
// token: a matching _xsrf cookie lets the request reach the token check.
func TestXSRF(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	send := func(method, path string, header ...string) answer {
		t.Helper()
		req, _ := http.NewRequest(method, w.srv.URL+path, strings.NewReader("{}"))
		for i := 0; i < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		resp, err := w.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return answer{resp.StatusCode, resp.Header, string(b)}
	}
	v2 := func(token string, mask [4]byte) string { // Tornado's masked version-2 form
		b := []byte(token)
		for i := range b {
			b[i] ^= mask[i%4]
		}
		return fmt.Sprintf("2|%x|%x|1700000000", mask, b)
	}
	expectError(t, send("POST", "/api/sessions"), 403, "'_xsrf' argument missing from POST")
	expectError(t, send("POST", "/api/sessions", "Cookie", "_xsrf=abc", "X-XSRFToken", "abc"), 403, "Forbidden")
	expectError(t, send("POST", "/api/sessions", "Cookie", "_xsrf=abc", "X-CSRFToken", "abc"), 403, "Forbidden")
	expectError(t, send("POST", "/api/sessions?_xsrf=abc", "Cookie", "_xsrf=abc"), 403, "Forbidden")
	expectError(t, send("POST", "/api/sessions", "Cookie", "_xsrf=ABCD", "X-XSRFToken", "abcd"), 403, "Forbidden")
	expectError(t, send("POST", "/api/sessions", "Cookie", "_xsrf="+v2("secret", [4]byte{1, 2, 3, 4}), "X-XSRFToken", v2("secret", [4]byte{9, 8, 7, 6})), 403, "Forbidden")
	expectError(t, send("POST", "/api/sessions", "Cookie", "_xsrf=abc", "X-XSRFToken", "abd"), 403, "XSRF cookie does not match POST argument")
	expectError(t, send("POST", "/api/sessions", "X-XSRFToken", "abc"), 403, "XSRF cookie does not match POST argument")
	expectError(t, send("POST", "/api/sessions", "Cookie", "_xsrf=abc", "X-XSRFToken", "3|x"), 403, "'_xsrf' argument has invalid format")
	expectError(t, send("PUT", "/api/sessions", "Cookie", "_xsrf=abc", "X-XSRFToken", "abc"), 405, "Method Not Allowed")
	// The token exempts API writes from the check.
	if a := send("POST", "/api/sessions", "Authorization", "token "+tok); a.status != 400 {
		t.Errorf("token-authenticated write: %d %s", a.status, a.body)
	}
}

// A ?token= that is not UTF-8 gets no answer at all: the connection
// closes, as Jupyter's does when its token lookup raises.
func TestTokenNotUTF8DropsTheConnection(t *testing.T) {
	w := newWire(t, Options{Token: tok, Generation: 1})
	conn, err := net.Dial("tcp", w.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/status?token=%%ff HTTP/1.1\r\nHost: x\r\n\r\n")
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != io.EOF || line != "" {
		t.Errorf("answered %q (%v), want the connection closed as Jupyter closes it", line, err)
	}
}
