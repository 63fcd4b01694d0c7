package console

// actionRoutes registers the pages that act on the event platform: dead
// letters (inspect, bulk redrive and purge), rules and their targets,
// connections and API destinations, archives and replays, and schemas.
// Every POST goes through viewer (session and CSRF token); each handler
// refuses a role that may not act.
func (h *Handler) actionRoutes() {
	h.mux.HandleFunc("GET /ui/dead-letters/{seq}", h.viewer(h.handleDeadLetter))
	h.mux.HandleFunc("POST /ui/dead-letters/bulk", h.viewer(h.handleBulk))
	h.ruleRoutes()
	h.connectionRoutes()
}

// ruleRoutes registers the rule and target pages.
func (h *Handler) ruleRoutes() {
	h.mux.HandleFunc("GET /ui/rules/new", h.viewer(h.handleRuleForm))
	h.mux.HandleFunc("GET /ui/rules/edit", h.viewer(h.handleRuleForm))
	h.mux.HandleFunc("POST /ui/rules/save", h.viewer(h.handleRuleSave))
	h.mux.HandleFunc("POST /ui/rules/delete", h.viewer(h.handleRuleDelete))
	h.mux.HandleFunc("POST /ui/rules/targets", h.viewer(h.handleTargetSave))
	h.mux.HandleFunc("POST /ui/rules/targets/remove", h.viewer(h.handleTargetRemove))
}

// connectionRoutes registers the connections and API destinations page.
func (h *Handler) connectionRoutes() {
	h.mux.HandleFunc("GET /ui/connections", h.viewer(h.handleConnections))
	h.mux.HandleFunc("POST /ui/connections/save", h.viewer(h.handleConnectionSave))
	h.mux.HandleFunc("POST /ui/api-destinations/save", h.viewer(h.handleDestinationSave))
	h.mux.HandleFunc("POST /ui/connections/delete", h.viewer(h.handleConnectionDelete))
}
