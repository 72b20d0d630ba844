package nbserv

import "net/http"

// QuickAckHTTPClient lets the benchmarks' hand-written floor dial as a Conn
// does (TCP_QUICKACK on Linux), so that the paired ratio measures the
// SDK's own cost, not the TCP stall it avoids.
func QuickAckHTTPClient(hc *http.Client) *http.Client { return wsHTTPClient(hc) }
