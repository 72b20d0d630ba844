//go:build !linux

package nbserv

import "net"

// quickAck leaves c as it is: acknowledging at once (TCP_QUICKACK) is
// Linux's; see channels_quickack_linux.go.
func quickAck(c net.Conn) net.Conn { return c }
