package http

import (
	"cmp"
	"context"
	"net/http"
	"strings"

	"github.com/wims/wims"
)

// registerRoutes lists the API surface (DESIGN §4) in one place. Every
// route must also be in routeACL and in openapi.json (tests check both).
func (s *Server) registerRoutes() {
	s.handle("PUT /inventory/{sku}", s.handlePutItem)
	s.handle("GET /inventory", s.handleListItems)
	s.handle("GET /inventory/{sku}", s.handleGetItem)
	s.handle("POST /inventory/{sku}/adjustments", s.handleAdjustStock)
	s.handle("POST /orders", s.handleCreateOrder)
	s.handle("GET /orders", s.handleListOrders)
	s.handle("GET /orders/{id}", s.handleGetOrder)
	s.handle("POST /orders/{id}/cancel", s.handleCancelOrder)
	s.handle("POST /orders/{id}/shipment", s.handleShipOrder)
	s.handle("GET /events", s.handleEvents)
	s.handle("GET /events/stream", s.handleEventStream)
	s.handle("GET /traces/{traceId}", s.handleTrace)
	s.handle("GET /events/{id}/payload", s.handleEventPayload)
	s.handle("GET /dead-letters", s.handleDeadLetters)
	s.handle("POST /dead-letters/{seq}/redrive", s.handleRedrive)
	s.handle("DELETE /dead-letters/{seq}", s.handlePurgeOne)
	s.handle("POST /dead-letters/redrive", s.bulkHandler("redriven", "would-redrive", func(ctx context.Context, seq uint64) error { return s.dlq.Redrive(ctx, seq) }))
	s.handle("POST /dead-letters/purge", s.bulkHandler("purged", "would-purge", func(ctx context.Context, seq uint64) error { return s.dlq.PurgeDeadLetter(ctx, seq) }))
	s.registerPlatformRoutes()
	s.registerSchemaRoutes()
	s.handle("GET /healthz", s.handleHealth)
	s.handle("GET /openapi.json", s.handleOpenAPI)
	s.mux.Handle("GET /metrics", s.metricsH)
	s.routes["GET /metrics"] = true
	for pattern := range s.routes {
		if _, ok := routeACL[pattern]; !ok {
			panic("wimshttp: route " + pattern + " has no entry in routeACL")
		}
	}
}

// registerPlatformRoutes adds the event platform's routes (platform.go).
func (s *Server) registerPlatformRoutes() {
	s.handlePlatform("GET /buses", s.handleListBuses)
	s.handlePlatform("POST /buses", s.handleCreateBus)
	s.handlePlatform("GET /buses/{name}", s.handleGetBus)
	s.handlePlatform("PUT /buses/{name}", s.handleUpdateBus)
	s.handlePlatform("DELETE /buses/{name}", s.handleDeleteBus)
	s.handlePlatform("GET /buses/{bus}/rules", s.handleListRules)
	s.handlePlatform("PUT /buses/{bus}/rules/{name}", s.handlePutRule)
	s.handlePlatform("GET /buses/{bus}/rules/{name}", s.handleGetRule)
	s.handlePlatform("DELETE /buses/{bus}/rules/{name}", s.handleDeleteRule)
	s.handlePlatform("POST /buses/{bus}/rules/{name}/enable", s.ruleStateHandler(wims.RuleEnabled))
	s.handlePlatform("POST /buses/{bus}/rules/{name}/disable", s.ruleStateHandler(wims.RuleDisabled))
	s.handlePlatform("GET /buses/{bus}/rules/{name}/targets", s.handleListTargets)
	s.handlePlatform("PUT /buses/{bus}/rules/{name}/targets", s.handlePutTargets)
	s.handlePlatform("DELETE /buses/{bus}/rules/{name}/targets/{id}", s.handleRemoveTarget)
	s.handlePlatform("GET /connections", s.handleListConnections)
	s.handlePlatform("POST /connections", s.handleCreateConnection)
	s.handlePlatform("GET /connections/{name}", s.handleGetConnection)
	s.handlePlatform("PUT /connections/{name}", s.handleUpdateConnection)
	s.handlePlatform("DELETE /connections/{name}", s.handleDeleteConnection)
	s.handlePlatform("GET /api-destinations", s.handleListDestinations)
	s.handlePlatform("POST /api-destinations", s.handleCreateDestination)
	s.handlePlatform("GET /api-destinations/{name}", s.handleGetDestination)
	s.handlePlatform("PUT /api-destinations/{name}", s.handleUpdateDestination)
	s.handlePlatform("DELETE /api-destinations/{name}", s.handleDeleteDestination)
	s.handlePlatform("POST /events", s.handlePutEvents)
	s.handlePlatform("POST /rules/test", s.handleTestPattern)
	s.handlePlatform("GET /archives", s.handleListArchives)
	s.handlePlatform("POST /archives", s.handleCreateArchive)
	s.handlePlatform("GET /archives/{name}", s.handleGetArchive)
	s.handlePlatform("PUT /archives/{name}", s.handleUpdateArchive)
	s.handlePlatform("DELETE /archives/{name}", s.handleDeleteArchive)
	s.handlePlatform("GET /replays", s.handleListReplays)
	s.handlePlatform("POST /replays", s.handleStartReplay)
	s.handlePlatform("GET /replays/{name}", s.handleGetReplay)
	s.handlePlatform("POST /replays/{name}/cancel", s.handleCancelReplay)
}

// routeACL says which roles may use each route when API keys are configured.
// admin may use every route and read every GET route (see acl.allows), so
// only the other grants are listed. /healthz stays public for load balancers.
var routeACL = map[string]acl{
	"PUT /inventory/{sku}":              {},
	"GET /inventory":                    {roles: []Role{RoleOrders}},
	"GET /inventory/{sku}":              {roles: []Role{RoleOrders}},
	"POST /inventory/{sku}/adjustments": {},
	"POST /orders":                      {roles: []Role{RoleOrders}},
	"GET /orders":                       {roles: []Role{RoleOrders}},
	"GET /orders/{id}":                  {roles: []Role{RoleOrders}},
	"POST /orders/{id}/cancel":          {roles: []Role{RoleOrders}},
	"POST /orders/{id}/shipment":        {},
	"GET /events":                       {},
	"GET /events/stream":                {},
	"GET /traces/{traceId}":             {},
	"GET /events/{id}/payload":          {},
	"GET /dead-letters":                 {},
	"POST /dead-letters/{seq}/redrive":  {},
	"DELETE /dead-letters/{seq}":        {},
	"POST /dead-letters/redrive":        {},
	"POST /dead-letters/purge":          {},
	"GET /healthz":                      {public: true},

	// The event platform: read and orders may look; orders may also put
	// events and test patterns (a shop publishing its own events); only
	// admin changes resources.
	"GET /buses":                                         {roles: []Role{RoleOrders}},
	"POST /buses":                                        {},
	"GET /buses/{name}":                                  {roles: []Role{RoleOrders}},
	"PUT /buses/{name}":                                  {},
	"DELETE /buses/{name}":                               {},
	"GET /buses/{bus}/rules":                             {roles: []Role{RoleOrders}},
	"PUT /buses/{bus}/rules/{name}":                      {},
	"GET /buses/{bus}/rules/{name}":                      {roles: []Role{RoleOrders}},
	"DELETE /buses/{bus}/rules/{name}":                   {},
	"POST /buses/{bus}/rules/{name}/enable":              {},
	"POST /buses/{bus}/rules/{name}/disable":             {},
	"GET /buses/{bus}/rules/{name}/targets":              {roles: []Role{RoleOrders}},
	"PUT /buses/{bus}/rules/{name}/targets":              {},
	"DELETE /buses/{bus}/rules/{name}/targets/{id}":      {},
	"GET /connections":                                   {roles: []Role{RoleOrders}},
	"POST /connections":                                  {},
	"GET /connections/{name}":                            {roles: []Role{RoleOrders}},
	"PUT /connections/{name}":                            {},
	"DELETE /connections/{name}":                         {},
	"GET /api-destinations":                              {roles: []Role{RoleOrders}},
	"POST /api-destinations":                             {},
	"GET /api-destinations/{name}":                       {roles: []Role{RoleOrders}},
	"PUT /api-destinations/{name}":                       {},
	"DELETE /api-destinations/{name}":                    {},
	"POST /events":                                       {roles: []Role{RoleOrders}},
	"POST /rules/test":                                   {roles: []Role{RoleOrders}},
	"GET /archives":                                      {roles: []Role{RoleOrders}},
	"POST /archives":                                     {},
	"GET /archives/{name}":                               {roles: []Role{RoleOrders}},
	"PUT /archives/{name}":                               {},
	"DELETE /archives/{name}":                            {},
	"GET /replays":                                       {roles: []Role{RoleOrders}},
	"POST /replays":                                      {},
	"GET /replays/{name}":                                {roles: []Role{RoleOrders}},
	"POST /replays/{name}/cancel":                        {},
	"GET /registries":                                    {roles: []Role{RoleOrders}},
	"POST /registries":                                   {},
	"GET /registries/{registry}":                         {roles: []Role{RoleOrders}},
	"PUT /registries/{registry}":                         {},
	"DELETE /registries/{registry}":                      {},
	"GET /registries/{registry}/schemas":                 {roles: []Role{RoleOrders}},
	"POST /registries/{registry}/schemas":                {},
	"GET /registries/{registry}/schemas/{name}":          {roles: []Role{RoleOrders}},
	"PUT /registries/{registry}/schemas/{name}":          {},
	"DELETE /registries/{registry}/schemas/{name}":       {},
	"GET /registries/{registry}/schemas/{name}/versions": {roles: []Role{RoleOrders}},
	"DELETE /registries/{registry}/schemas/{name}/versions/{version}": {},
	"GET /registries/{registry}/schemas/{name}/export":                {roles: []Role{RoleOrders}},
	"GET /discoverers":             {roles: []Role{RoleOrders}},
	"POST /discoverers":            {},
	"GET /discoverers/{id}":        {roles: []Role{RoleOrders}},
	"DELETE /discoverers/{id}":     {},
	"POST /discoverers/{id}/start": {},
	"POST /discoverers/{id}/stop":  {},
	"GET /openapi.json":            {roles: []Role{RoleOrders}},
	"GET /metrics":                 {},
}

// apiHandler is a handler that reports failure by returning an error, so
// that every error goes through writeError and its single code table.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) handle(pattern string, h apiHandler) {
	s.routes[pattern] = true
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := cmp.Or(checkPath(r), checkParams(pattern, r)); err != nil {
			s.writeError(w, r, err)
			return
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// routeOf returns the pattern that will serve r, or "unmatched". It is the
// metrics and span label; the raw path would let clients create unbounded
// label values.
func (s *Server) routeOf(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if s.routes[pattern] {
		return pattern
	}
	return "unmatched"
}

// dispatch serves r with the mux. When no pattern matched, the mux's own
// plain-text 404 and 405 answers are replaced by problems (keeping the 405's
// Allow header); its redirects (e.g. for unclean paths) pass through.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, route string) {
	if route != "unmatched" {
		s.mux.ServeHTTP(w, r)
		return
	}
	if r.RequestURI == "*" || !strings.HasPrefix(r.URL.Path, "/") {
		// The mux answers an empty 400 to "GET *" and other non-path
		// targets; a client gets a problem naming the target instead.
		s.writeError(w, r, wims.FieldError("path", "the request target must be a path starting with /, not %q", r.RequestURI))
		return
	}
	iw := &interceptWriter{ResponseWriter: w}
	s.mux.ServeHTTP(iw, r)
	switch iw.status {
	case http.StatusNotFound:
		s.writeError(w, r, errNoRoute)
	case http.StatusMethodNotAllowed:
		s.writeError(w, r, errMethodNotAllowed(r.Method))
	}
}

// interceptWriter swallows a 404 or 405 written by the mux so that dispatch
// can answer with a problem instead; any other response passes through.
type interceptWriter struct {
	http.ResponseWriter
	status    int  // the intercepted status, or 0
	wroteHead bool // a non-intercepted header was written
}

func (w *interceptWriter) WriteHeader(code int) {
	if !w.wroteHead && w.status == 0 && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.status = code
		// http.Error set this for its text body; the problem sets its own.
		w.Header().Del("Content-Type")
		return
	}
	w.wroteHead = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *interceptWriter) Write(p []byte) (int, error) {
	if w.status != 0 {
		return len(p), nil // the mux's text body, dropped
	}
	w.wroteHead = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer (to
// flush a stream).
func (w *interceptWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
