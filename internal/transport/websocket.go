package transport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/coder/websocket"
)

// DialWebSocket opens the WebSocket at path (below the base URL, already
// escaped) with query, as the transport sends its calls: with every
// request's headers (the token in the Authorization header, never in the
// URL), only to the base URL's origin (the redirect policy), and over
// connections that acknowledge at once (QuickAckHTTPClient). An HTTP
// answer other than 101 is a *Error; other failures name the request and
// never quote the token. The caller bounds the handshake with ctx.
func (c *Client) DialWebSocket(ctx context.Context, path string, query url.Values, subprotocols []string) (*websocket.Conn, error) {
	h := c.Header()
	h.Del("Accept")
	target := c.baseURL + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	ws, resp, err := websocket.Dial(ctx, target, &websocket.DialOptions{
		HTTPClient: c.wsClient(), HTTPHeader: h, Subprotocols: subprotocols,
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			var body []byte
			if resp.Body != nil {
				body, _ = io.ReadAll(io.LimitReader(resp.Body, 1<<10))
			}
			return nil, c.NewError("GET", c.basePath+path, resp.StatusCode, resp.Header, body)
		}
		return nil, fmt.Errorf("%s: GET %s: %w", c.name, c.basePath+path, c.RedactErr(err))
	}
	return ws, nil
}

// QuickAckHTTPClient returns a copy of hc for WebSocket handshakes whose
// transport, when it is an *http.Transport, is a clone dialling through
// quickAck (TLS, when used, runs over it): Jupyter's several small
// messages per execution would otherwise each wait for a delayed
// acknowledgement. The copy keeps hc's redirect policy, TLS and proxy
// settings; a caller's own RoundTripper is used as it is.
func QuickAckHTTPClient(hc *http.Client) *http.Client {
	cp := *hc
	tr, ok := hc.Transport.(*http.Transport)
	if hc.Transport == nil {
		tr, ok = http.DefaultTransport.(*http.Transport)
	}
	if !ok {
		return &cp
	}
	tr = tr.Clone()
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return quickAck(c), nil
	}
	cp.Transport = tr
	return &cp
}
