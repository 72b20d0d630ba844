package kernel

import (
	"context"
	"encoding/json"
	"errors"
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
// first so that no answer can outrun it. It returns the msg_id. It
// returns when ctx ends, whatever the socket does (see send).
func (c *Conn) write(ctx context.Context, gen uint64, ch Channel, msgType string, content any, parent json.RawMessage, req *request, mark ...string) (string, error) {
	body, err := json.Marshal(content)
	if err != nil {
		return "", fmt.Errorf("nbserv: encoding %s: %w", msgType, err)
	}
	id := c.session + "_" + strconv.FormatUint(c.seq.Add(1), 10)
	if len(mark) > 0 {
		id = c.session + mark[0] + strconv.FormatUint(c.seq.Add(1), 10)
	}
	if parent == nil {
		parent = json.RawMessage("{}")
	}
	for {
		s, err := c.socket(ctx, gen)
		if err != nil {
			return "", err
		}
		p := outParts{header: c.header(id, msgType), parent: parent, metadata: []byte("{}"), content: body}
		typ, frame := s.fr.encode(ch, &p)
		if req != nil {
			c.mu.Lock()
			if c.err != nil {
				err := c.err
				c.mu.Unlock()
				return "", err
			}
			req.gen, req.ch, req.msgType = s.gen, ch, msgType
			c.pending[id] = req
			c.mu.Unlock()
		}
		err = c.send(ctx, s, msgType, typ, frame)
		if err == nil {
			if req != nil {
				c.markSent(id, req)
			}
			return id, nil
		}
		c.unregister(id)
		if e := c.Err(); e != nil {
			return "", e
		}
		if errors.Is(err, errSocketGone) {
			if gen != 0 {
				return "", errReplace
			}
			continue // nothing was sent: the next socket takes it
		}
		return "", err
	}
}

// errSocketGone ends a send that found its socket dropped before it
// wrote anything.
var errSocketGone = errors.New("nbserv: kernel socket gone before the message was sent")

// Writes go out in chunks of writeChunk bytes, each one progress that
// holds off the write-inactivity bound; a message no larger goes in one
// frame.
const writeChunk = 32 << 10

// send writes one message on s when its turn comes, and returns when the
// message is out or ctx ends. A message not yet started when ctx ends is
// not sent; one being written goes on (cutting it off would break the
// socket for every request on it), bounded by write inactivity, and the
// caller gets an error matching ErrOutcomeUnknown. A write that fails
// drops its socket: the Conn restores the connection.
func (c *Conn) send(ctx context.Context, s *sock, msgType string, typ websocket.MessageType, frame []byte) error {
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("nbserv: waiting to send %s (not sent): %w", msgType, ctx.Err())
	}
	if s.gone.Load() {
		<-s.turn
		return errSocketGone
	}
	if err := ctx.Err(); err != nil {
		<-s.turn
		return fmt.Errorf("nbserv: waiting to send %s (not sent): %w", msgType, err)
	}
	done := make(chan error, 1)
	go func() {
		err := c.writeOut(s, typ, frame)
		if err != nil {
			// The socket cannot be written any more (the library keeps a
			// failed write's error, and may go on reading): drop it before
			// the next writer's turn, so that later requests wait for the
			// restored socket instead of failing on this one. The write
			// runs under its own context, so its error is the socket's,
			// never the caller's context ending.
			c.drop(s.gen)
		}
		<-s.turn
		done <- err
	}()
	select {
	case err := <-done:
		return sendErr(msgType, err)
	case <-ctx.Done():
		select {
		case err := <-done:
			return sendErr(msgType, err)
		default:
		}
		return transport.OutcomeUnknown(fmt.Errorf("nbserv: stopped sending %s midway: %w; the rest of it is still being written", msgType, ctx.Err()))
	}
}

// sendErr explains the failure of a write that started.
func sendErr(msgType string, err error) error {
	if err == nil {
		return nil
	}
	// The frame may have reached the server before the socket failed.
	return transport.OutcomeUnknown(fmt.Errorf("nbserv: sending %s: %w", msgType, err))
}

// writeOut writes frame on s, in chunks, and drops s when a chunk makes
// no progress for the write-inactivity bound: the library closes the
// socket when the write's context ends.
func (c *Conn) writeOut(s *sock, typ websocket.MessageType, frame []byte) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	idle := time.AfterFunc(c.o.writeIdle, func() {
		c.down(s.gen)
		cancel()
	})
	defer idle.Stop()
	if len(frame) <= writeChunk {
		return s.ws.Write(ctx, typ, frame)
	}
	w, err := s.ws.Writer(ctx, typ)
	if err != nil {
		return err
	}
	for len(frame) > 0 {
		n := min(len(frame), writeChunk)
		if _, err := w.Write(frame[:n]); err != nil {
			return err
		}
		frame = frame[n:]
		idle.Reset(c.o.writeIdle)
	}
	return w.Close()
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
func (c *Conn) socket(ctx context.Context, gen uint64) (*sock, error) {
	for {
		c.mu.Lock()
		s, open, cur, changed, err := c.sock, c.open, c.gen, c.changed, c.err
		stale := c.staleGen == cur
		c.mu.Unlock()
		switch {
		case err != nil:
			return nil, err
		case gen != 0 && gen != cur:
			return nil, errReplace
		case gen != 0:
			return s, nil
		case stale && open:
			// Jupyter may not relay the restarted kernel's IOPub on this
			// socket: take a new one, as JupyterLab does.
			c.kick()
			continue
		case open:
			return s, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("nbserv: waiting for the kernel connection: %w", ctx.Err())
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
