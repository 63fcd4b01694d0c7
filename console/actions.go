package console

// actionRoutes registers the pages that act on the event platform: dead
// letters (inspect, bulk redrive and purge), rules and their targets,
// connections and API destinations, archives and replays, and schemas.
// Every POST goes through viewer (session and CSRF token); each handler
// refuses a role that may not act.
func (h *Handler) actionRoutes() {
	h.mux.HandleFunc("GET /ui/dead-letters/{seq}", h.viewer(h.handleDeadLetter))
	h.mux.HandleFunc("POST /ui/dead-letters/bulk", h.viewer(h.handleBulk))
}
