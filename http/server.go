// Package http is the HTTP API of wims (DESIGN §4, §8): inventory, orders,
// the event log, traces, the event platform's resources (buses, rules,
// targets, connections, API destinations, PutEvents), health and metrics, as
// JSON over net/http with no framework.
//
// Importers alias it wimshttp, because it shadows net/http:
//
//	import wimshttp "github.com/wims/wims/http"
//
//	srv := wimshttp.NewServer(wimshttp.Options{Store: db, Events: eventLog, Registry: reg, Logger: log})
//	addr, done, err := wimshttp.ListenAndServe(ctx, "127.0.0.1:8080", srv, log)
//
// # Errors
//
// Every 4xx and 5xx response is an RFC 9457 problem (application/problem+json)
// with a stable type under https://wims.dev/problems/. wims error codes map to
// statuses and problem types in one table (errors.go) and nowhere else. A 5xx
// never carries internal details: the client gets a generic detail and the
// request id, and the error is logged once with that id.
//
// # Input
//
// Bad input changes nothing: a body is read whole (at most [MaxBodyBytes]),
// must be one JSON object with known fields of the right types, and is
// validated by the domain's Validate methods before the store is called.
//
// # Cross-cutting concerns
//
// Every request gets an X-Request-Id, a server span (W3C traceparent is
// honoured, and the span's traceparent is put in the context with
// [wims.WithTraceParent] so the store records it in the change log), a Debug
// access log line, Prometheus metrics labelled by route pattern (never the raw
// path, to keep cardinality bounded) and panic recovery.
package http

import (
	"cmp"
	"context"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wims/wims"
)

// Store is what the API needs from a wims.Store. It is declared here, on the
// consumer side, so tests and alternative engines need not implement the
// change log, notification log or Close that the API never calls.
type Store interface {
	wims.InventoryStore
	wims.OrderStore
	wims.PaymentLog
	wims.ExecutionLog
}

// EventLog is the bus-backed event log that GET /events reads.
type EventLog interface {
	// Query returns a page of the log (see wims.EventQuery). Errors with a
	// wims code are reported with that code; any other error is an
	// internal error.
	Query(ctx context.Context, q wims.EventQuery) (wims.EventPage, error)
}

// EventPayloads reads claim-checked event details (wims.EventPayloadStore).
type EventPayloads interface {
	// GetEventPayload returns ENOTFOUND for an event with no payload.
	GetEventPayload(ctx context.Context, id string) (wims.EventPayload, error)
}

// Options configures a Server. Only Store is required.
type Options struct {
	// Store is the system of record. Required.
	Store Store
	// Events serves GET /events. If nil, GET /events answers 503, so the API
	// can run (e.g. in tests or v1 mode) without a bus.
	Events EventLog
	// Payloads serves GET /events/{id}/payload, the details of claim-checked
	// events. If nil, it answers 503.
	Payloads EventPayloads
	// DeadLetters serves GET /dead-letters and their redrive. If nil, those
	// answer 503.
	DeadLetters DeadLetterQueue
	// Platform serves the event platform's routes (buses, rules, targets,
	// connections, API destinations, POST /events, POST /rules/test). If nil,
	// those answer 503.
	Platform wims.EventPlatform
	// Schemas serves the schema registry's routes (registries, schemas,
	// discoverers). If nil, those answer 503.
	Schemas wims.SchemaRegistry
	// Traces serves GET /traces/{traceId}: the spans of the recent traces
	// (tracing.SpanStore). If nil, it answers 503.
	Traces wims.TraceReader
	// Now is the clock for timestamps the API proposes (an order's createdAt;
	// the store may keep its own). Defaults to time.Now.
	Now wims.Clock
	// Logger receives internal errors (Error), panics (Error) and the access
	// log (Debug). Defaults to a logger that discards everything.
	Logger *slog.Logger
	// Registry receives the HTTP metrics and, unless Gatherer is set, is what
	// GET /metrics exposes. If nil, the server uses a private registry.
	Registry *prometheus.Registry
	// Gatherer is what GET /metrics exposes; defaults to Registry. Set it to
	// expose more than one registry (prometheus.Gatherers).
	Gatherer prometheus.Gatherer
	// NewOrderID returns the id of an order created without an
	// Idempotency-Key. Defaults to a UUID version 7 string, which sorts by
	// creation time and so keeps B-tree inserts at the right edge.
	NewOrderID func() string
	// Checks are what GET /healthz runs: each dependency by name ("store",
	// "bus"), its error logged and never shown (it may name hosts or
	// files); the response lists each check as ok or failing.
	Checks []Check
	// Version is reported by GET /healthz.
	Version string
	// APIKeys, when not empty, make every request but GET /healthz need
	// "Authorization: Bearer <key>" with a role that allows the route.
	// Empty means no authentication (the caller decides whether that is
	// acceptable, e.g. only on loopback).
	APIKeys []APIKey
	// RateLimit is the requests/s each API key may make (a token bucket
	// with a burst of max(1, RateLimit)), or, without keys, each client
	// address. 0 means unlimited.
	RateLimit float64
	// TracerProvider creates the server spans. Defaults to the global
	// provider (otel.GetTracerProvider()), read per request so a provider
	// installed after NewServer is still used.
	TracerProvider trace.TracerProvider
}

// Server is the wims HTTP API. It implements http.Handler; serve it with
// [ListenAndServe] or any http.Server. It is safe for concurrent use.
type Server struct {
	store      Store
	events     EventLog
	payloads   EventPayloads
	dlq        DeadLetterQueue
	platform   wims.EventPlatform
	schemas    wims.SchemaRegistry
	traces     wims.TraceReader
	now        wims.Clock
	logger     *slog.Logger
	newOrderID func() string
	checks     []Check
	version    string
	tp         trace.TracerProvider
	propagator propagation.TextMapPropagator
	metrics    *metrics
	metricsH   http.Handler
	auth       *auth
	// inFlight holds the idempotency keys (scope + key) of POST /orders
	// requests being served, to answer a concurrent duplicate with 409.
	inFlightMu sync.Mutex
	inFlight   map[string]bool
	mux        *http.ServeMux
	// routes holds the registered patterns, so a metric's route label is
	// always one of them (or "unmatched") whatever path a client sends.
	routes map[string]bool
	// closing is closed by CloseStreams, ending GET /events/stream.
	closing   chan struct{}
	closeOnce sync.Once
}

// CloseStreams ends every open GET /events/stream response. Call it when
// the server shuts down (http.Server.RegisterOnShutdown): a stream never
// ends by itself, so Shutdown would otherwise wait out its whole grace
// period for one connected client. A client reconnects with Last-Event-ID
// and misses nothing.
func (s *Server) CloseStreams() { s.closeOnce.Do(func() { close(s.closing) }) }

var _ http.Handler = (*Server)(nil)

// NewServer returns a Server for opt. It panics if opt.Store is nil, since
// that is a wiring bug, not a runtime condition.
func NewServer(opt Options) *Server {
	if opt.Store == nil {
		panic("wimshttp: Options.Store is nil")
	}
	for _, k := range opt.APIKeys {
		if _, err := ParseAPIKey(k.Key + ":" + string(cmp.Or(k.Role, RoleAdmin))); err != nil {
			panic("wimshttp: Options.APIKeys: " + err.Error())
		}
	}
	s := &Server{
		store:      opt.Store,
		events:     opt.Events,
		payloads:   opt.Payloads,
		dlq:        opt.DeadLetters,
		platform:   opt.Platform,
		schemas:    opt.Schemas,
		traces:     opt.Traces,
		now:        opt.Now,
		logger:     opt.Logger,
		newOrderID: opt.NewOrderID,
		checks:     opt.Checks,
		version:    opt.Version,
		tp:         opt.TracerProvider,
		// W3C Trace Context only: the global propagator is a no-op unless
		// someone sets it, and traceparent is what the change log records.
		propagator: propagation.TraceContext{},
		mux:        http.NewServeMux(),
		routes:     map[string]bool{},
		closing:    make(chan struct{}),
		auth:       newAuth(opt.APIKeys, opt.RateLimit),
		inFlight:   map[string]bool{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.newOrderID == nil {
		s.newOrderID = newOrderIDV7
	}
	reg := opt.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	gatherer := opt.Gatherer
	if gatherer == nil {
		gatherer = reg
	}
	s.metrics = newMetrics(reg)
	s.metricsH = promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelError),
	})
	s.registerRoutes()
	return s
}

// tracer returns the tracer for server spans.
func (s *Server) tracer() trace.Tracer {
	tp := s.tp
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer("wims/http")
}

// Routes returns the patterns the server serves ("METHOD /path"), sorted.
func (s *Server) Routes() []string {
	out := make([]string, 0, len(s.routes))
	for p := range s.routes {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
