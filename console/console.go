// Package console is the web console of wims: server-rendered HTML pages
// (html/template) of the orders and the inventory, kept live by server-sent
// events, behind the same API keys and roles as the HTTP API.
//
// Everything it serves is embedded in the binary: the templates, one CSS
// file and one small hand-written script, so there is no build step and no
// inline script. Every response carries a strict Content-Security-Policy;
// every POST form carries a per-session CSRF token.
//
//	h := console.New(console.Options{Store: db, APIKeys: keys, Logger: log})
//	mux.Handle("/ui/", h)
//
// With API keys, a visitor logs in with a key at /ui/login; the session
// cookie holds an opaque id, never the key. Without keys (loopback
// development) everyone is admin. read (and orders) may look; only admin
// acts (adjusts stock, cancels orders, redrives and purges dead letters,
// creates and deletes event buses, changes rules and their targets,
// connections, API destinations and archives, starts and cancels replays).
// read never sees customer identifiers, in orders, events or dead letters.
//
// Besides the orders and the inventory, the console shows the event log
// (Options.Events, with a live tail and "Test a pattern"), the dead-letter
// queue (Options.DeadLetters) and the event platform (Options.Platform,
// Options.Schemas); each of those pages answers 503 without its option.
// An order's page shows its journey: the request, statuses, workflow
// steps, payment attempts and the events it caused, in time order, and
// its trace as a waterfall (Options.Traces).
package console

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures a Handler. Only Store is required.
type Options struct {
	// Store is what the pages show and the adjust form changes. Required.
	Store wimshttp.Store
	// APIKeys, when not empty, make every page need a login with one of
	// them. Empty means no login: everyone is admin (the caller decides
	// whether that is acceptable, e.g. only on loopback).
	APIKeys []wimshttp.APIKey
	// Logger receives logins (Info), failed logins (Warn) and internal
	// errors (Error). Defaults to a logger that discards everything.
	Logger *slog.Logger
	// SessionTTL is how long a session lasts after login. Defaults to
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// StreamInterval is how often /ui/stream sends a snapshot (and the
	// events stream looks for new events). Defaults to one second.
	StreamInterval time.Duration
	// Events is the event log the events pages read (the one GET /events
	// reads). If nil, those pages answer 503.
	Events wimshttp.EventLog
	// DeadLetters is the dead-letter queue the dead-letters page lists and
	// redrives. If nil, that page answers 503.
	DeadLetters wimshttp.DeadLetterQueue
	// Platform is the event platform the buses page shows (buses, rules,
	// targets, archives, replays). If nil, that page answers 503.
	Platform wims.EventPlatform
	// Schemas is the schema registry whose discovered schemas the buses
	// page lists. If nil, the list is left out.
	Schemas wims.SchemaRegistry
	// Traces holds the spans of the recent traces (tracing.SpanStore): the
	// order page draws the order's trace from it, found through the trace
	// id its events carry. If nil, the page says traces are unavailable.
	Traces wims.TraceReader
	// Stats reads the counters behind the overview's live figures (orders/s,
	// latencies, backlogs, dead letters, payments rate, relay lag). If nil,
	// the overview shows only the counts.
	Stats StatsFunc
	// Patterns, if set, rewrites the pattern of "Test a pattern" as rules'
	// patterns are (eventcrypt.Keyring.RewritePattern), so it matches the
	// logged events' encrypted fields as a rule would.
	Patterns func(p []byte) ([]byte, error)
}

// DefaultSessionTTL is how long a login lasts: a working day.
const DefaultSessionTTL = 12 * time.Hour

// Handler serves the console: GET / and everything under /ui/. It is safe
// for concurrent use.
type Handler struct {
	store    wimshttp.Store
	events   wimshttp.EventLog
	dlq      wimshttp.DeadLetterQueue
	platform wims.EventPlatform
	schemas  wims.SchemaRegistry
	traces   wims.TraceReader
	patterns func([]byte) ([]byte, error)
	keys     *keyring
	sessions *sessions
	throttle *loginThrottle
	log      *slog.Logger
	pages    pages
	counts   *countCache
	ring     *ring
	interval time.Duration
	mux      *http.ServeMux

	closeOnce sync.Once
	closing   chan struct{} // closed by CloseStreams
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler for opt. It panics if opt.Store is nil or an API
// key is invalid, since those are wiring bugs, not runtime conditions.
func New(opt Options) *Handler {
	if opt.Store == nil {
		panic("console: Options.Store is nil")
	}
	h := &Handler{
		store:    opt.Store,
		events:   opt.Events,
		dlq:      opt.DeadLetters,
		platform: opt.Platform,
		schemas:  opt.Schemas,
		traces:   opt.Traces,
		patterns: opt.Patterns,
		keys:     newKeyring(opt.APIKeys),
		sessions: newSessions(cmpDuration(opt.SessionTTL, DefaultSessionTTL)),
		throttle: newLoginThrottle(),
		log:      opt.Logger,
		pages:    parsePages(),
		interval: cmpDuration(opt.StreamInterval, time.Second),
		mux:      http.NewServeMux(),
		closing:  make(chan struct{}),
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.counts = newCountCache(h.store, h.interval)
	h.ring = newRing(h.store, opt.Stats, h.interval)
	h.routes()
	return h
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// routes registers the console's pages, actions and assets.
func (h *Handler) routes() {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	h.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticHandler(static)))
	h.mux.HandleFunc("GET /ui/login", h.handleLoginForm)
	h.mux.HandleFunc("POST /ui/login", h.handleLogin)
	h.mux.HandleFunc("POST /ui/logout", h.viewer(h.handleLogout))
	h.mux.HandleFunc("GET /{$}", h.viewer(h.handleOverview))
	h.mux.HandleFunc("GET /ui/{$}", h.viewer(h.handleOverview))
	h.mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	h.mux.HandleFunc("GET /ui/orders", h.viewer(h.handleOrders))
	h.mux.HandleFunc("GET /ui/orders/{id}", h.viewer(h.handleOrder))
	h.mux.HandleFunc("GET /ui/inventory", h.viewer(h.handleInventory))
	h.mux.HandleFunc("POST /ui/inventory/{sku}/adjust", h.viewer(h.handleAdjust))
	h.mux.HandleFunc("GET /ui/stream", h.viewer(h.handleStream))
	h.mux.HandleFunc("GET /ui/events", h.viewer(h.handleEvents))
	h.mux.HandleFunc("GET /ui/events/stream", h.viewer(h.handleEventStream))
	h.mux.HandleFunc("GET /ui/events/test", h.viewer(h.handlePatternTest))
	h.mux.HandleFunc("GET /ui/events/{id}", h.viewer(h.handleEvent))
	h.mux.HandleFunc("GET /ui/dead-letters", h.viewer(h.handleDeadLetters))
	h.mux.HandleFunc("POST /ui/dead-letters/{seq}/redrive", h.viewer(h.handleRedrive))
	h.mux.HandleFunc("GET /ui/buses", h.viewer(h.handleBuses))
	h.mux.HandleFunc("POST /ui/rules/state", h.viewer(h.handleRuleState))
	h.mux.HandleFunc("GET /ui/schema", h.viewer(h.handleSchema))
	h.actionRoutes()
	h.mux.HandleFunc("POST /ui/inventory", h.viewer(h.handleCreateItem))
	h.mux.HandleFunc("POST /ui/inventory/{sku}/thresholds", h.viewer(h.handleThresholds))
	h.mux.HandleFunc("/", h.handleNotFound)
}

// ServeHTTP sets the security headers and serves r.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

// CloseStreams ends every open /ui/stream response and refuses new ones.
// Call it when the server shuts down (http.Server.RegisterOnShutdown): a
// stream never ends by itself, so Shutdown would otherwise wait out its
// whole grace period for an open browser tab.
func (h *Handler) CloseStreams() {
	h.closeOnce.Do(func() { close(h.closing) })
}

// IsConsoleRequest reports whether r is for the console: GET or HEAD of /,
// or anything under /ui. A server that also serves the API routes these to
// the console first.
func IsConsoleRequest(r *http.Request) bool {
	p := r.URL.Path
	if p == "/" {
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	}
	return p == "/ui" || strings.HasPrefix(p, "/ui/")
}
