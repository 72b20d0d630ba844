package nbservtest

import "testing"

// The test server does not hold a stalled or idle connection for the rest
// of the test (cmd/nbserv-refserver's tests show the same http.Server
// settings closing such connections).
func TestServerTimeouts(t *testing.T) {
	srv := NewServer(t)
	c := srv.http.Config
	if c.ReadHeaderTimeout <= 0 || c.IdleTimeout <= 0 || c.MaxHeaderBytes <= 0 {
		t.Errorf("ReadHeaderTimeout %v, IdleTimeout %v, MaxHeaderBytes %d: want all set", c.ReadHeaderTimeout, c.IdleTimeout, c.MaxHeaderBytes)
	}
	if c.ReadTimeout != 0 || c.WriteTimeout != 0 {
		t.Errorf("ReadTimeout %v, WriteTimeout %v: would cut answers held by SetLatency or SetKernelStartDelay", c.ReadTimeout, c.WriteTimeout)
	}
}
