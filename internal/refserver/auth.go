package refserver

// Who is asking: the token, read exactly as Jupyter Server 1.23.3's login
// handler reads it, and Tornado's XSRF check, which guards every write not
// authenticated by the token. docs/wire/server.md SV1 records what
// the real server answered to each form.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// authResult is what the token in a request amounts to.
type authResult int

const (
	authNone  authResult = iota // no token, or the wrong one
	authToken                   // the server's token: Jupyter's token_authenticated
	authOpen                    // the server requires no token
	authAbort                   // ?token= is not UTF-8: Jupyter drops the connection
)

// authenticate reads the token as Jupyter's LoginHandler.get_token does:
// the last ?token= query value first (Tornado's get_argument: decoded,
// control characters made spaces, whitespace stripped); only when that is
// empty, the Authorization header matched against `token\s+(.+)` ignoring
// case, the header read as Latin-1 as Tornado reads headers.
func (s *Server) authenticate(r *http.Request) authResult {
	if s.token == nil {
		return authOpen
	}
	got, ok := pyArgument(r.URL.RawQuery, "token")
	if !ok {
		return authAbort
	}
	if got == "" {
		got = headerToken(r.Header.Values("Authorization"), s.gen >= 2)
	}
	if subtle.ConstantTimeCompare([]byte(got), s.token) == 1 {
		return authToken
	}
	return authNone
}

// authorized reports whether the request may use the API.
func (s *Server) authorized(r *http.Request) bool {
	a := s.authenticate(r)
	return a == authToken || a == authOpen
}

// headerToken applies Jupyter's `token\s+(.+)` (re.IGNORECASE, re.match)
// to the Authorization header; with bearer, 2.x's `(token|bearer)\s+(.+)`
// (docs/wire/jupyter-server-2.md G5). Tornado strips each header value and joins
// repeated headers with commas; it decodes header bytes as Latin-1, so a
// non-ASCII token never matches through the header (it does through the
// query).
func headerToken(values []string, bearer bool) string {
	for i, v := range values {
		values[i] = strings.TrimFunc(latin1(v), pySpace)
	}
	h := strings.Join(values, ",")
	scheme := "token"
	if bearer && len(h) >= len("bearer") && strings.EqualFold(h[:len("bearer")], "bearer") {
		scheme = "bearer"
	}
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return ""
	}
	rest := h[len(scheme):]
	trimmed := strings.TrimLeftFunc(rest, pySpace)
	if trimmed == rest || trimmed == "" {
		return ""
	}
	return trimmed
}

// latin1 reads each byte of s as one character, as Python's
// bytes.decode("latin1") does.
func latin1(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}

// pySpace is Python's str.isspace: Unicode white space plus the
// separators U+001C..U+001F.
func pySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// pyArgument is Tornado's get_argument(name, ""): the last value of name
// in the query, split as Python's parse_qs splits it (on "&" only, "+" as
// a space, invalid %-escapes kept), decoded as UTF-8 (ok is false when it
// is not), control characters but tab and line breaks made spaces, white
// space stripped.
func pyArgument(rawQuery, name string) (value string, ok bool) {
	raw, found := "", false
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		if pyUnquotePlus(k) == name {
			raw, found = pyUnquotePlus(v), true
		}
	}
	if !found {
		return "", true
	}
	if !utf8.ValidString(raw) {
		return "", false
	}
	raw = strings.Map(func(r rune) rune {
		if r <= 0x08 || (r >= 0x0e && r <= 0x1f) {
			return ' '
		}
		return r
	}, raw)
	return strings.TrimFunc(raw, pySpace), true
}

// hasArgument reports whether the query names the argument at all, as
// Tornado's get_argument(name, None) is not None.
func hasArgument(rawQuery, name string) bool {
	for _, pair := range strings.Split(rawQuery, "&") {
		if k, _, _ := strings.Cut(pair, "="); pair != "" && pyUnquotePlus(k) == name {
			return true
		}
	}
	return false
}

// pyUnquotePlus is urllib.parse.unquote_plus on bytes: "+" is a space,
// %XX a byte, and a "%" not followed by two hex digits stays as it is.
func pyUnquotePlus(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			v, _ := hex.DecodeString(s[i+1 : i+3])
			b.WriteByte(v[0])
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// tornadoMethods are the methods Tornado dispatches at all; any other
// answers 405 before anything else is checked.
func tornadoMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete, http.MethodPatch, http.MethodPut, http.MethodOptions:
		return true
	}
	return false
}

// needsXSRF reports whether Tornado checks the XSRF token for the method.
func needsXSRF(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// xsrfProblem is Tornado's check_xsrf_cookie: the _xsrf argument, or the
// X-XSRFToken or X-CSRFToken header, must match the _xsrf cookie once both
// are decoded. It returns Tornado's message, or "" when they match.
func xsrfProblem(r *http.Request) string {
	sent, _ := pyArgument(r.URL.RawQuery, "_xsrf")
	if sent == "" {
		sent = r.Header.Get("X-Xsrftoken")
	}
	if sent == "" {
		sent = r.Header.Get("X-Csrftoken")
	}
	if sent == "" {
		return "'_xsrf' argument missing from POST"
	}
	got := decodeXSRF(sent)
	if len(got) == 0 {
		return "'_xsrf' argument has invalid format"
	}
	var want []byte
	if c, err := r.Cookie("_xsrf"); err == nil && c.Value != "" {
		want = decodeXSRF(c.Value)
	}
	if want == nil { // Tornado makes up a fresh random token, which nothing matches
		want = []byte(rand.Text())
	}
	if !hmac.Equal(got, want) {
		return "XSRF cookie does not match POST argument"
	}
	return ""
}

// decodeXSRF is Tornado's _decode_xsrf_token: "2|mask|masked|timestamp"
// (hex, the token XORed with the 4-byte mask), or a version-1 token in hex
// or as it is. It returns nil for a token Tornado cannot decode.
func decodeXSRF(v string) []byte {
	if version, rest, ok := strings.Cut(v, "|"); ok && version != "" && version[0] != '0' && strings.Trim(version, "0123456789") == "" && !strings.Contains(rest, "\n") {
		if version != "2" {
			return nil
		}
		parts := strings.Split(v, "|")
		if len(parts) != 4 || !pyInt(parts[3]) {
			return nil
		}
		mask, err1 := hex.DecodeString(parts[1])
		masked, err2 := hex.DecodeString(parts[2])
		if err1 != nil || err2 != nil || len(mask) < 4 {
			return nil
		}
		for i := range masked {
			masked[i] ^= mask[i%4]
		}
		return masked
	}
	if b, err := hex.DecodeString(v); err == nil {
		return b
	}
	return []byte(v)
}

// pyInt reports whether Python's int() accepts s: optional white space and
// sign around decimal digits, single underscores between digits.
func pyInt(s string) bool {
	s = strings.TrimFunc(s, pySpace)
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' || strings.Contains(s, "__") {
		return false
	}
	return strings.Trim(s, "0123456789_") == ""
}
