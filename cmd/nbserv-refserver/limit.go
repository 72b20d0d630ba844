package main

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// limitListener serves at most a fixed number of connections at once. A
// connection the server has accepted waits for a slot; while it waits, an
// idle keep-alive connection is closed to make room, as Jupyter's Tornado would never need to (it has no
// cap), so idle clients cannot lock out busy ones. Connections serving a
// request or a WebSocket keep their slot until they end: a WebSocket ends
// when its client stops answering pings (-ws-ping). Further clients wait in
// the kernel's listen backlog (and are refused once it is full) instead of
// each costing a goroutine and a file.
//
// Idle means waiting for a request with nothing of one received:
// http.StateIdle, until the connection's first byte. net/http reports a
// keep-alive connection StateIdle from the end of a response until the
// whole header of the next request has been read (only then StateActive),
// so a client in the middle of sending its headers would be closed
// mid-request; the first byte read makes it busy instead, until it is
// StateIdle again. A StateNew connection (accepted, no request yet) is not
// idle: a client that just connected is about to send, and closing it
// would fail that request where a reused keep-alive connection's client
// retries.
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{} // closed by Close, so that a waiting Accept returns
	closeOnce sync.Once

	mu     sync.Mutex
	idle   map[*limitConn]uint64 // idle connections, with the order they went idle in
	seq    uint64
	wentIn chan struct{} // signalled when a connection goes idle
}

func newLimitListener(l net.Listener, n int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), done: make(chan struct{}),
		idle: map[*limitConn]uint64{}, wentIn: make(chan struct{}, 1)}
}

// Accept accepts a connection, then waits for a slot for it, evicting
// the longest-idle keep-alive connection whenever none is free. The wait
// ends with Close.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		default:
		}
		l.evictIdle()
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, l: l}, nil
		case <-l.wentIn: // a connection went idle: evict it
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// evictIdle closes the connection idle the longest, if any; its slot
// comes back when net/http's serving goroutine sees it closed.
func (l *limitListener) evictIdle() {
	l.mu.Lock()
	var oldest *limitConn
	for c, n := range l.idle {
		if oldest == nil || n < l.idle[oldest] {
			oldest = c
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest != nil {
		oldest.Close()
	}
}

// connState is the http.Server's ConnState hook: it tracks which
// connections are idle keep-alive ones, the only ones Accept may close.
// A request arriving on one just as it is closed is lost as with any idle
// timeout; HTTP clients retry idempotent requests on such a connection.
func (l *limitListener) connState(nc net.Conn, st http.ConnState) {
	c, ok := nc.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	c.idle.Store(st == http.StateIdle)
	if st == http.StateIdle {
		l.seq++
		l.idle[c] = l.seq
	} else {
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if st == http.StateIdle {
		select {
		case l.wentIn <- struct{}{}:
		default:
		}
	}
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back when it is closed, once.
type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
	// idle mirrors membership of l.idle (both change under l.mu), so that
	// Read, on every call, learns without the lock whether it must take
	// the connection out.
	idle atomic.Bool
}

// Read takes an idle connection out of l.idle at the first byte of a
// request: net/http still calls it StateIdle, but it is no longer waiting.
func (c *limitConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.idle.Load() {
		c.l.mu.Lock()
		c.idle.Store(false)
		delete(c.l.idle, c)
		c.l.mu.Unlock()
	}
	return n, err
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
		<-c.l.slots
	})
	return err
}
