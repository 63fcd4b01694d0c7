package console

// actionRoutes registers the pages that act on the event platform: dead
// letters (inspect, bulk redrive and purge), rules and their targets,
// connections and API destinations, archives and replays, and schemas.
// Every POST goes through viewer (session and CSRF token); each handler
// refuses a role that may not act.
func (h *Handler) actionRoutes() {
	h.mux.HandleFunc("GET /ui/dead-letters/{seq}", h.viewer(h.handleDeadLetter))
	h.mux.HandleFunc("POST /ui/dead-letters/bulk", h.viewer(h.handleBulk))
	h.mux.HandleFunc("POST /ui/orders/{id}/cancel", h.viewer(h.handleOrderCancel))
	h.busRoutes()
	h.ruleRoutes()
	h.connectionRoutes()
	h.archiveRoutes()
	h.schemaRoutes()
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

// archiveRoutes registers the archives and replays pages.
func (h *Handler) archiveRoutes() {
	h.mux.HandleFunc("GET /ui/archives", h.viewer(h.handleArchives))
	h.mux.HandleFunc("POST /ui/archives", h.viewer(h.handleArchiveCreate))
	h.mux.HandleFunc("POST /ui/archives/delete", h.viewer(h.handleArchiveDelete))
	h.mux.HandleFunc("POST /ui/replays", h.viewer(h.handleReplayStart))
	h.mux.HandleFunc("GET /ui/replays/{name}", h.viewer(h.handleReplay))
	h.mux.HandleFunc("GET /ui/replays/{name}/stream", h.viewer(h.handleReplayStream))
	h.mux.HandleFunc("POST /ui/replays/{name}/cancel", h.viewer(h.handleReplayCancel))
}

// schemaRoutes registers the schema registry pages.
func (h *Handler) schemaRoutes() {
	h.mux.HandleFunc("GET /ui/schemas", h.viewer(h.handleSchemas))
	h.mux.HandleFunc("GET /ui/schemas/version", h.viewer(h.handleSchemaVersion))
}
