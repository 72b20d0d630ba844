//go:build linux

package transport

import (
	"net"
	"syscall"
)

// quickAck makes a TCP connection acknowledge what it receives at once.
//
// Jupyter Server 1.23 leaves Nagle's algorithm on for the kernel
// WebSocket, so each of the several small messages an execution answers
// with waits for the client to acknowledge the one before; Linux delays
// acknowledgements up to 40 ms, which made every execute round trip take
// about 50 ms (docs/wire/kernel-channels.md KC7). TCP_QUICKACK is not sticky,
// so it is set again after every read.
func quickAck(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	q := &quickAckConn{TCPConn: tc, raw: raw}
	q.set()
	return q
}

type quickAckConn struct {
	*net.TCPConn
	raw syscall.RawConn
}

func (c *quickAckConn) set() {
	_ = c.raw.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}

func (c *quickAckConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	c.set()
	return n, err
}
