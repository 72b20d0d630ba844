package refserver

import "net/http"

// status is GET /api/status: the server's start time, last activity and
// counts. GET /api (the version) is answered in ServeHTTP: it needs no token.
func (s *Server) status(_ *http.Request, _ string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return reply{status: http.StatusOK, body: map[string]any{"connections": s.totalConnections(), "kernels": len(s.kernels),
		"last_activity": isoformat(s.lastAct), "started": isoformat(s.started)}}
}
