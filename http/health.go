package http

import (
	"log/slog"
	"net/http"

	"github.com/wims/wims"
)

// handleHealth answers 200 {"status":"ok"} when Options.Ready reports no
// error, else 503. Ready's error is logged, not returned: it may name hosts
// or files, and load balancers only need the status.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	if s.ready != nil {
		if err := s.ready(); err != nil {
			s.logger.LogAttrs(r.Context(), slog.LevelWarn, "health check failed",
				slog.String("request_id", requestIDFrom(r.Context())), slog.Any("error", err))
			return wims.Errorf(wims.EUNAVAILABLE, "The service is not ready.")
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.writeJSON(w, r, http.StatusOK, struct {
		Status  string `json:"status"`
		Version string `json:"version,omitempty"`
	}{"ok", s.version})
}
