package http

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// Check is one dependency GET /healthz looks at.
type Check struct {
	Name string
	// Run returns nil when the dependency works. It gets a context that
	// ends after checkTimeout.
	Run func(ctx context.Context) error
}

// checkTimeout bounds each check, so a hung dependency is reported as
// failing instead of hanging the health check.
const checkTimeout = 3 * time.Second

// Check results as GET /healthz reports them.
const (
	checkOK      = "ok"
	checkFailing = "failing"
)

// health is the body of GET /healthz.
type health struct {
	Status  string            `json:"status"`
	Version string            `json:"version,omitempty"`
	Checks  map[string]string `json:"checks,omitempty"`
}

// handleHealth runs every check at once and answers 200 {"status":"ok"}
// when all pass, else 503 {"status":"unavailable"} with Retry-After; either
// way "checks" says which part is failing. Errors are logged, not returned:
// they may name hosts or files, and load balancers only need the status.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	out := health{Status: "ok", Version: s.version, Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			defer cancel()
			err := c.Run(ctx)
			mu.Lock()
			defer mu.Unlock()
			out.Checks[c.Name] = checkOK
			if err != nil {
				out.Checks[c.Name], out.Status = checkFailing, "unavailable"
				s.logger.LogAttrs(r.Context(), slog.LevelWarn, "health check failed", slog.String("check", c.Name),
					slog.String("request_id", requestIDFrom(r.Context())), slog.Any("error", err))
			}
		}()
	}
	wg.Wait()
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if out.Status != "ok" {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	return s.writeJSON(w, r, status, out)
}
