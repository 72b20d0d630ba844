package refserver

// Request bodies: read as Jupyter's get_json_body reads them, within a
// stated memory bound. Jupyter accepts bodies up to 512 MiB and decodes
// them whole; a 10 MiB [0,0,…] once took 300 MiB of heap here. The bound
// is two limits checked before decoding, the body's size and its number of
// JSON values; beyond them the answer is 413, where Jupyter would decode
// the body (docs/wire/server.md SV30).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// jsonLimits bounds what decoding one request body may cost.
type jsonLimits struct {
	bytes  int64 // body size
	values int   // JSON values: scalars, arrays, objects and keys
}

// modelLimits bound the sessions and kernels routes, whose bodies are
// models of a few hundred bytes (a path is at most 4 KiB on Linux): 64 KiB
// and 10,000 values leave any real request far inside, while no request
// allocates more than 2 MiB (TestRequestMemoryIsBounded). A route with
// larger bodies passes its own limits to readJSONWithin.
var modelLimits = jsonLimits{bytes: 64 << 10, values: 10_000}

// errNoJSON is a missing or null body: Jupyter's get_json_body gives None.
var errNoJSON = errors.New("No JSON data provided")

// errInvalidJSON is a body json.loads refuses.
var errInvalidJSON = errors.New("Invalid JSON in body of request")

// bodyError is a body refused with an answer of its own: beyond the
// limits (413), unreadable (400), or not UTF-8 (Jupyter's 500).
type bodyError struct{ rep reply }

func (e *bodyError) Error() string {
	if m, ok := e.rep.body.(apiError); ok {
		return m.Message
	}
	return http.StatusText(e.rep.status)
}

// bodyReply is the answer to a readJSON error: the bodyError's own, or
// Jupyter's 400 with the error's message.
func bodyReply(err error) reply {
	var be *bodyError
	if errors.As(err, &be) {
		return be.rep
	}
	return errorReply(http.StatusBadRequest, err.Error())
}

// readJSON reads a sessions or kernels body within modelLimits.
func readJSON(r *http.Request) (any, error) { return readJSONWithin(r, modelLimits) }

// readJSONWithin parses the request body as Jupyter's get_json_body does:
// an empty body or null is errNoJSON; bytes that are not UTF-8 crash it
// (500); the body stripped of white space must be one JSON value, or it is
// errInvalidJSON. Numbers stay json.Number so that stored values keep
// Python's meaning. A body beyond lim is refused with 413 before it is
// decoded, a body that cannot be read (a client too slow for the server's
// read timeout) with 400; both close the connection.
func readJSONWithin(r *http.Request, lim jsonLimits) (any, error) {
	if r.ContentLength > lim.bytes {
		return nil, tooLarge(fmt.Sprintf("Request body too large: the reference server reads at most %d bytes here", lim.bytes))
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // room for the read that finds EOF
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, lim.bytes+1)); err != nil {
		return nil, &bodyError{reply{status: http.StatusBadRequest, close: true,
			body: apiError{Message: "Bad Request: the request body could not be read"}}}
	}
	body := buf.Bytes()
	if int64(len(body)) > lim.bytes {
		return nil, tooLarge(fmt.Sprintf("Request body too large: the reference server reads at most %d bytes here", lim.bytes))
	}
	if len(body) == 0 {
		return nil, errNoJSON
	}
	if !utf8.Valid(body) {
		return nil, &bodyError{crashReply("UnicodeDecodeError: 'utf-8' codec can't decode the request body")}
	}
	body = bytes.Trim(body, " \t\n\r\v\f") // Python's bytes.strip
	if n := countJSONValues(body, lim.values); n > lim.values {
		return nil, tooLarge(fmt.Sprintf("Request body too large: the reference server decodes at most %d JSON values here", lim.values))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errInvalidJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errInvalidJSON
	}
	if v == nil {
		return nil, errNoJSON
	}
	return v, nil
}

func tooLarge(msg string) error {
	return &bodyError{reply{status: http.StatusRequestEntityTooLarge, close: true, body: apiError{Message: msg}}}
}

// countJSONValues counts the values in a JSON text without decoding it,
// stopping once the count passes limit: one, plus one per "[", "{", ","
// and ":" outside strings. For well-formed JSON that is the number of
// scalars, arrays, objects and keys; for anything else it is an upper
// bound of what a decoder would build before failing.
func countJSONValues(b []byte, limit int) int {
	n := 1
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{' || c == ',' || c == ':':
			n++
			if n > limit {
				return n
			}
		}
	}
	return n
}
