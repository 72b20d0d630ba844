package transport

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const (
	testToken     = "s3cr3t-t0ken"
	testSessionID = "5c4a1c7e-1d7c-4b5e-9d2a-3f8e6b7a9c01"
)

// wire404HTML is a page like Jupyter's "no route" page, which embeds the
// token of an authenticated request.
const wire404HTML = `<html><body data-jupyter-api-token="` + testToken + `"><h1>404 : Not Found</h1></body></html>`

func TestErrorStringWithoutContentType(t *testing.T) {
	e := newError("GET", "/api/sessions", 502, nil, []byte("\x00\x01\x02"), nil)
	if got, want := e.Error(), "nbserv: GET /api/sessions: 502 Bad Gateway (3-byte body)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	// Bare text is the message (Jupyter Server 2.x's contents 404s, proxies).
	e = newError("GET", "/api/sessions", 502, nil, []byte("bad gateway"), nil)
	if got, want := e.Error(), "nbserv: GET /api/sessions: 502 Bad Gateway: bad gateway"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestErrorBodyWithOddTypes(t *testing.T) {
	e := newError("GET", "/api/sessions", 400, nil, []byte(`{"message": ["a", 1], "reason": 7}`), nil)
	if e.Message != `["a",1]` || e.Reason != "7" {
		t.Errorf("Message %q Reason %q", e.Message, e.Reason)
	}
}

// Jupyter Server 2.x sends some messages as bare text; an HTML page or
// binary junk is not a message.
func TestPlainTextErrorBodyIsTheMessage(t *testing.T) {
	for body, want := range map[string]string{
		"file or directory '/nosuch' does not exist\n": "file or directory '/nosuch' does not exist",
		"<html><body>404</body></html>":                "",
		"\x00\x01binary":                               "",
		`{"message": "json", "reason": null}`:          "json",
	} {
		if got := newError("GET", "/api/contents/nosuch", 404, http.Header{}, []byte(body), nil).Message; got != want {
			t.Errorf("body %q: Message %q, want %q", body, got, want)
		}
	}
}

// A token the server echoes back escaped is redacted too.
func TestTokenRedactedInEscapedForms(t *testing.T) {
	for _, token := range []string{"ab<cd&ef", "tök€n-1", `a/b"c`, "ab</cd", "emoji-😀-x"} {
		red := newRedactor(token, nil)
		goEsc, _ := json.Marshal("bad token " + token)
		bodies := map[string]string{
			"go":      `{"message": ` + string(goEsc) + `}`,
			"python":  `{"message": "bad token ` + pythonJSON(token) + `"}`,
			"tornado": `{"message": "bad token ` + strings.ReplaceAll(pythonJSON(token), "</", `<\/`) + `"}`,
			"upper":   `{"message": "bad token ` + strings.ToUpper(pythonJSON(token)[:0]) + pythonJSON(token) + `"}`,
			"html":    `<body data-jupyter-api-token="` + strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;").Replace(token) + `">`,
		}
		for name, body := range bodies {
			e := newError("GET", "/api/sessions", 403, http.Header{}, []byte(body), red)
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Error("call", "err", e, "msg2", e.Message)
			for where, s := range map[string]string{"Error()": e.Error(), "Message": e.Message, "Body": string(e.Body), "slog": logged.String()} {
				if strings.Contains(s, token) || strings.Contains(s, pythonJSON(token)) || (name != "html" && strings.Contains(s, string(goEsc[1:len(goEsc)-1]))) {
					t.Errorf("token %q echoed %s: in clear in %s: %s", token, name, where, s)
				}
			}
		}
	}
}

// Server text in Error() is one line, without terminal
// escapes, and bounded; the fields keep it whole.
func TestErrorMessageIsSanitised(t *testing.T) {
	long := strings.Repeat("é", 2000)
	for _, msg := range []string{"line one\nline two", "\x1b[31mred\x1b[0m", "rtl \u202e txt", long} {
		body, _ := json.Marshal(map[string]string{"message": msg})
		e := newError("GET", "/api/sessions", 500, http.Header{}, body, nil)
		s := e.Error()
		if strings.ContainsAny(s, "\n\r\x1b\u202e") || len(s) > maxErrorText+200 {
			t.Errorf("Error() = %q", s)
		}
		if e.Message != msg {
			t.Errorf("Message changed: %q", e.Message)
		}
	}
}

func FuzzErrorBody(f *testing.F) {
	for _, s := range []string{`{"message": "Forbidden", "reason": null}`, wire404HTML, ``, `{"message": 5, "traceback": ["x"]}`, `[`} {
		f.Add(404, []byte(s))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := newError("GET", "/api/sessions", status, nil, body, newRedactor(testToken, nil))
		msg := e.Error()
		if strings.Contains(msg, testToken) || bytes.Contains(e.Body, []byte(testToken)) {
			t.Fatalf("token leaked: %q / %q", msg, e.Body)
		}
		_ = e.Is(ErrServer)
	})
}

// Header values too short to be a credential, and headers that describe
// the request, are not redacted: replacing "1" or "application/json"
// everywhere would garble every message.
func TestShortAndDescriptiveHeaderValuesAreNotRedacted(t *testing.T) {
	red := newRedactor("", http.Header{"X-Debug": {"1"}, "Accept": {"application/json"}, "Cookie": {"a=1; session=s3ss10n"}})
	e := newError("GET", "/api/sessions", 404, http.Header{}, []byte(`{"message": "404 1 application/json s3ss10n"}`), red)
	if e.Message != "404 1 application/json [REDACTED]" {
		t.Errorf("Message = %q", e.Message)
	}
	if newRedactor("", http.Header{"Accept": {"text/plain"}}) != nil {
		t.Error("a redactor with nothing to redact")
	}
	// An Origin (set to pass Jupyter's check_origin) is the server's own
	// scheme, host and port, in every URL a message quotes: no credential.
	red = newRedactor(testToken, http.Header{"Origin": {"http://127.0.0.1:8888"}})
	e = newError("GET", "/api/sessions", 404, http.Header{}, []byte(`{"message": "no http://127.0.0.1:8888/api/x for `+testToken+`"}`), red)
	if e.Message != "no http://127.0.0.1:8888/api/x for [REDACTED]" {
		t.Errorf("with an Origin: Message = %q", e.Message)
	}
}

// The response header an *Error keeps is redacted as its Location and
// Body are: a redirect's Location holds the token escaped (a login page's
// next=), and the *Error's fields are what a caller logs or encodes
// (encoding/json writes every one). Names and other values are kept.
func TestErrorHeaderHoldsNoCredential(t *testing.T) {
	red := newRedactor(testToken, http.Header{"X-Api-Key": {"k3y-s3cr3t"}})
	header := http.Header{
		"Location":     {"/login?next=%2Fapi%2Fsessions%3Ftoken%3D" + testToken},
		"X-Echo":       {"token " + testToken + ", key k3y-s3cr3t"},
		"Content-Type": {"text/html"},
	}
	for _, status := range []int{302, 403} {
		e := newError("GET", "/api/sessions", status, header, nil, red)
		encoded, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{testToken, "k3y-s3cr3t"} {
			if strings.Contains(string(encoded), secret) {
				t.Errorf("%d: %s in the *Error's fields: %s", status, secret, encoded)
			}
		}
		if e.Header.Get("Content-Type") != "text/html" || e.Header.Get("X-Echo") != "token [REDACTED], key [REDACTED]" {
			t.Errorf("%d: header %v", status, e.Header)
		}
	}
	if !strings.Contains(header.Get("Location"), testToken) {
		t.Error("newError modified the response's header")
	}
}
