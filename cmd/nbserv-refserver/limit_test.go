package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// pipeListener accepts the server ends of net.Pipes handed to it.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *pipeListener) Close() error   { close(l.closed); return nil }
func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{} }

// A keep-alive connection whose client has begun sending its next request
// is not idle, though net/http calls it StateIdle until the whole header
// has arrived: at the limit, the connection truly waiting is closed to
// make room, even when the one mid-request went idle first (the one that
// used to be closed, losing its request). The listener is driven as
// net/http drives it (ConnState, then Read), so that which one is closed
// is decided by what was read, not by timing.
func TestPartiallySentRequestIsNotIdle(t *testing.T) {
	pl := &pipeListener{conns: make(chan net.Conn, 3), closed: make(chan struct{})}
	l := newLimitListener(pl, 2)
	defer l.Close()
	accept := func() (net.Conn, net.Conn) {
		server, client := net.Pipe()
		pl.conns <- server
		c, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		l.connState(c, http.StateNew)
		l.connState(c, http.StateActive)
		return c, client
	}
	mid, midClient := accept()   // went idle first, then sent part of a request
	idle, idleClient := accept() // went idle second, and sends nothing
	l.connState(mid, http.StateIdle)
	l.connState(idle, http.StateIdle)
	go func() { _, _ = midClient.Write([]byte("POST /api/sessions HTTP/1.1\r\nHost: x\r\n")) }()
	buf := make([]byte, 64)
	if n, err := mid.Read(buf); n == 0 || err != nil { // net/http's Peek for the next request
		t.Fatal(n, err)
	}

	server, client := net.Pipe()
	defer client.Close()
	pl.conns <- server
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			defer c.Close()
		}
		accepted <- err
	}()
	// The idle one is closed: its client reads the end.
	_ = idleClient.SetReadDeadline(time.Now().Add(slotBound))
	if _, err := idleClient.Read(buf); err != io.EOF {
		t.Errorf("the idle connection: %v, want closed", err)
	}
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	// The one mid-request is still served: the rest of its request is read.
	go func() { _, _ = midClient.Write([]byte("Content-Length: 0\r\n\r\n")) }()
	_ = mid.SetReadDeadline(time.Now().Add(slotBound))
	if n, err := mid.Read(buf); n == 0 || err != nil {
		t.Errorf("the connection mid-request: %d %v, want the rest of its request", n, err)
	}
	// Once answered and idle again, it may be closed like any other.
	l.connState(mid, http.StateActive)
	l.connState(mid, http.StateIdle)
	l.evictIdle()
	_ = midClient.SetReadDeadline(time.Now().Add(slotBound))
	if _, err := midClient.Read(buf); !errors.Is(err, io.EOF) {
		t.Errorf("idle again: %v, want closed", err)
	}
}
