package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hashicorp/go-cleanhttp"
	nbserv "github.com/nbserv/go-nbserv"
)

// newHTTPClient copies the caller's client (never modifying it) or makes a
// pooled one, and follows no redirect: the hub's API answers in place, and
// a redirect would lead to its HTML pages. A 3xx becomes an *nbserv.Error
// matching nbserv.ErrRedirect.
func newHTTPClient(hc *http.Client) *http.Client {
	var c *http.Client
	if hc != nil {
		cp := *hc
		c = &cp
	} else {
		c = cleanhttp.DefaultPooledClient()
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// request is one call to the hub.
type request struct {
	method string
	path   string // below the hub's URL, escaped, no leading slash
	query  url.Values
	accept string // "" for application/json
	// decode, when non-nil, decodes a 2xx body.
	decode func([]byte) error
}

// do sends r once, bounded by the call timeout, and returns the status of
// a 2xx answer after decoding it. Every other answer is an *nbserv.Error,
// so errors.Is(err, nbserv.ErrNotFound) and the other sentinels work.
func (c *Client) do(ctx context.Context, r request) (int, error) {
	if c.timeout != nbserv.NoTimeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	target := c.base.String() + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	fail := func(err error) error { return fmt.Errorf("hub: %s %s: %w", r.method, c.base.EscapedPath()+r.path, err) }
	req, err := http.NewRequestWithContext(ctx, r.method, target, nil)
	if err != nil {
		return 0, fail(err)
	}
	req.Header = c.header.Clone()
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fail(err)
	}
	defer resp.Body.Close()
	body, err := readBounded(resp.Body, c.maxBody)
	if err != nil {
		return resp.StatusCode, fail(fmt.Errorf("reading %d response: %w", resp.StatusCode, err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, c.newError(r.method, c.base.EscapedPath()+r.path, resp, body)
	}
	if r.decode != nil {
		if cost := jsonCost(body); cost > c.budget {
			return resp.StatusCode, fail(fmt.Errorf("%w: %d bytes of JSON whose values could take %d bytes decoded, over %d",
				nbserv.ErrResponseTooLarge, len(body), cost, c.budget))
		}
		if err := r.decode(body); err != nil {
			return resp.StatusCode, fail(fmt.Errorf("decoding %d response: %w", resp.StatusCode, err))
		}
	}
	return resp.StatusCode, nil
}

// readBounded reads r, failing with nbserv.ErrResponseTooLarge past limit.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", nbserv.ErrResponseTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// hubErrorBody is the JSON of the hub's API errors: {"status": 403,
// "message": "..."} (no "reason", unlike Jupyter's).
type hubErrorBody struct {
	Message any `json:"message"`
}

// newError makes an *nbserv.Error of a non-2xx answer, with the token
// removed from the body and the message (the hub does not echo tokens; a
// proxy in front of it might).
func (c *Client) newError(method, path string, resp *http.Response, body []byte) *nbserv.Error {
	forms := []string{c.token, url.QueryEscape(c.token), url.PathEscape(c.token)}
	redact := func(s string) string {
		for _, f := range forms {
			s = strings.ReplaceAll(s, f, "[REDACTED]")
		}
		return s
	}
	e := &nbserv.Error{Method: method, Path: path, StatusCode: resp.StatusCode, Header: resp.Header,
		Body: []byte(redact(string(body)))}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		e.Location = redact(resp.Header.Get("Location"))
	}
	var eb hubErrorBody
	if json.Unmarshal(body, &eb) == nil {
		if s, ok := eb.Message.(string); ok {
			e.Message = redact(s)
		}
	}
	return e
}

// The decoding bound, as nbserv's: a JSON body can make a decoder allocate
// far more than its size ("[{},{},…]" is 3 bytes a User), so before a body
// is decoded its objects, arrays and scalars are counted and priced above
// what this package's models make of them, and a body whose estimate
// passes decodeFactor × MaxResponseBytes is refused unread.
const (
	decodeFactor = 8
	costObject   = 1024 // a User or Server with its map entry and slack
	costArray    = 64
	costScalar   = 48
)

// jsonCost estimates what the values of a JSON text take decoded; it only
// counts, and leaves a malformed text to the decoder.
func jsonCost(b []byte) int64 {
	var cost int64
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{':
			cost += costObject
		case '[':
			cost += costArray
		case '"':
			cost += costScalar
			for i++; i < len(b) && b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
			cost += costScalar
			for i+1 < len(b) && strings.IndexByte("abcdefghijklmnopqrstuvwxyz0123456789.-+E", b[i+1]) >= 0 {
				i++
			}
		}
	}
	return cost
}
