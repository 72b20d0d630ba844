package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// ErrStreamStalled matches a streamed body that received nothing for
// Config.StreamIdleTimeout while the caller waited in a read. The error
// matches context.DeadlineExceeded too.
var ErrStreamStalled = errors.New("nbserv: stream stalled")

// StalledError is the read error of a streamed body whose server went
// silent. It matches ErrStreamStalled and context.DeadlineExceeded.
type StalledError struct {
	// Method and Path identify the request, as in Error.
	Method, Path string
	// Idle is the silence that ended the read (Config.StreamIdleTimeout).
	Idle time.Duration
	// Read is how many bytes of the body had arrived.
	Read int64
}

// Error names the request, the silence and the bytes received.
func (e *StalledError) Error() string {
	return fmt.Sprintf("nbserv: %s %s: no data for %v after %d bytes of the body (Config.StreamIdleTimeout)", e.Method, e.Path, e.Idle, e.Read)
}

// Is makes a *StalledError match ErrStreamStalled and
// context.DeadlineExceeded.
func (e *StalledError) Is(target error) bool {
	return target == ErrStreamStalled || target == context.DeadlineExceeded
}

// Timeout reports true, as net.Error's Timeout does for a timed-out read.
func (e *StalledError) Timeout() bool { return true }

// LengthError is the read error of a body that ended at a length other
// than the one announced: by its Content-Length, or, for a file read with
// Contents.Open, by the file's size when the server sent no length and the
// file's size, asked again, still differs. A short body matches
// io.ErrUnexpectedEOF.
type LengthError struct {
	// Method and Path identify the request, as in Error.
	Method, Path string
	// Got is how many bytes arrived, Want how many were announced.
	Got, Want int64
}

// Error names the request and both lengths.
func (e *LengthError) Error() string {
	if e.Got < e.Want {
		return fmt.Sprintf("nbserv: %s %s: the body ended after %d of %d bytes", e.Method, e.Path, e.Got, e.Want)
	}
	return fmt.Sprintf("nbserv: %s %s: the body has %d bytes where %d were announced", e.Method, e.Path, e.Got, e.Want)
}

// Is makes a short body match io.ErrUnexpectedEOF.
func (e *LengthError) Is(target error) bool { return target == io.ErrUnexpectedEOF && e.Got < e.Want }

// streamBody is a body returned unread by Stream. It bounds each read's
// silence with an idle timer, which ends the request's context (net/http
// then closes the connection and the read returns), checks the body
// against its Content-Length, and releases the context on Close.
type streamBody struct {
	body         io.ReadCloser
	cancel       context.CancelFunc
	method, path string
	length       int64         // Content-Length, -1 when unknown
	idle         time.Duration // NoTimeout for none

	mu      sync.Mutex // guards timer and stalled against the timer's goroutine
	timer   *time.Timer
	stalled bool
	read    int64 // only the reading goroutine touches it
}

func (b *streamBody) Read(p []byte) (int, error) {
	if b.idle != NoTimeout && len(p) > 0 {
		b.mu.Lock()
		if b.timer == nil {
			b.timer = time.AfterFunc(b.idle, b.stall)
		} else {
			b.timer.Reset(b.idle)
		}
		b.mu.Unlock()
	}
	n, err := b.body.Read(p)
	b.read += int64(n)
	if b.idle != NoTimeout && len(p) > 0 {
		b.mu.Lock()
		b.timer.Stop()
		stalled := b.stalled
		b.mu.Unlock()
		if stalled && err != nil && err != io.EOF {
			return n, &StalledError{Method: b.method, Path: b.path, Idle: b.idle, Read: b.read}
		}
	}
	switch {
	case err == io.EOF && b.length >= 0 && b.read != b.length,
		errors.Is(err, io.ErrUnexpectedEOF) && b.length > b.read: // net/http's own check, made typed
		return n, &LengthError{Method: b.method, Path: b.path, Got: b.read, Want: b.length}
	}
	return n, err
}

// stall runs on the idle timer's goroutine.
func (b *streamBody) stall() {
	b.mu.Lock()
	b.stalled = true
	b.mu.Unlock()
	b.cancel()
}

func (b *streamBody) Close() error {
	err := b.body.Close()
	b.mu.Lock()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.mu.Unlock()
	b.cancel()
	return err
}

// StreamLength returns the Content-Length of a body Stream returned, or
// -1 when the server sent none (or body is not one of Stream's): the
// caller then has no length to check the body against but its own.
func StreamLength(body io.Reader) int64 {
	if b, ok := body.(*streamBody); ok {
		return b.length
	}
	return -1
}
