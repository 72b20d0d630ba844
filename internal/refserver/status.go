package refserver

import "net/http"

// status is GET /api/status: the server's start time, last activity (the
// latest of API, kernel and terminal activity, as Jupyter's) and counts.
func (s *Server) status(_ *http.Request, _ string) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	last := s.lastAct
	if s.kernelAct.After(last) {
		last = s.kernelAct
	}
	if s.termAct.After(last) {
		last = s.termAct
	}
	return reply{status: http.StatusOK, body: map[string]any{"connections": s.totalConnections(), "kernels": len(s.kernels),
		"last_activity": isoformat(last), "started": isoformat(s.started)}}
}

// apiVersion is GET /api: the server's version, which needs no token.
func (s *Server) apiVersion(_ *http.Request, _ string) reply {
	return reply{status: http.StatusOK, body: map[string]string{"version": s.version}}
}
