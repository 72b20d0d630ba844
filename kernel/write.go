package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/coder/websocket"

	"github.com/nbserv/go-nbserv/internal/transport"
)

// Writing: every message goes out on the socket whose gate is open, with
// a header of the Conn's session.

// write sends one message on the socket of generation gen (0: the current
// one, once its gate is open), registering req, if any, under its msg_id
// first so that no answer can outrun it. It returns the msg_id.
func (c *Conn) write(ctx context.Context, gen uint64, ch Channel, msgType string, content any, parent json.RawMessage, req *request, mark ...string) (string, error) {
	body, err := json.Marshal(content)
	if err != nil {
		return "", fmt.Errorf("nbserv: encoding %s: %w", msgType, err)
	}
	ws, fr, err := c.socket(ctx, gen)
	if err != nil {
		return "", err
	}
	id := c.session + "_" + strconv.FormatUint(c.seq.Add(1), 10)
	if len(mark) > 0 {
		id = c.session + mark[0] + strconv.FormatUint(c.seq.Add(1), 10)
	}
	if parent == nil {
		parent = json.RawMessage("{}")
	}
	p := outParts{header: c.header(id, msgType), parent: parent, metadata: []byte("{}"), content: body}
	typ, frame := fr.encode(ch, &p)
	if req != nil {
		c.mu.Lock()
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return "", err
		}
		c.pending[id] = req
		c.mu.Unlock()
	}
	// Writing is not bounded by ctx: a write cut off midway would break
	// the socket for every request on it. The socket's own failure, or
	// Close, ends a stuck write.
	if err := ws.Write(context.Background(), typ, frame); err != nil {
		c.unregister(id)
		if e := c.Err(); e != nil {
			return "", e
		}
		// The frame may have reached the server before the socket failed.
		return "", transport.OutcomeUnknown(fmt.Errorf("nbserv: sending %s: %w", msgType, err))
	}
	return id, nil
}

// header makes the header of an outgoing message.
func (c *Conn) header(id, msgType string) []byte {
	b := make([]byte, 0, len(c.headerStart)+len(id)+len(msgType)+64)
	b = append(b, c.headerStart...)
	b = appendQuotedJSON(b, id)
	b = append(b, `,"msg_type":`...)
	b = appendQuotedJSON(b, msgType)
	b = append(b, `,"date":"`...)
	b = time.Now().UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	return append(b, `"}`...)
}

// appendJSONString appends s as a JSON string.
func appendQuotedJSON(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// socket returns the socket to write on: that of generation gen, or, for
// gen 0, the current one once its gate is open (redialling first when
// another client restarted the kernel).
func (c *Conn) socket(ctx context.Context, gen uint64) (*websocket.Conn, framing, error) {
	for {
		c.mu.Lock()
		ws, fr, open, cur, changed, err := c.ws, c.frame, c.open, c.gen, c.changed, c.err
		stale := c.staleGen == cur
		c.mu.Unlock()
		switch {
		case err != nil:
			return nil, nil, err
		case gen != 0 && gen != cur:
			return nil, nil, errReplace
		case gen != 0:
			return ws, fr, nil
		case stale && open:
			// Jupyter may not relay the restarted kernel's IOPub on this
			// socket: take a new one, as JupyterLab does.
			c.kick()
			continue
		case open:
			return ws, fr, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("nbserv: waiting for the kernel connection: %w", ctx.Err())
		}
	}
}

// unregister forgets requests: later messages for them go to the handler.
func (c *Conn) unregister(ids ...string) {
	c.mu.Lock()
	for _, id := range ids {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}
