package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wims/wims"
)

// ServeHTTP serves one API request. The cross-cutting steps run here in a
// fixed order, outermost first: request id, tracing span, panic recovery,
// routing; then metrics and the access log, which need the final status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now() // real time, not s.now: a duration needs the monotonic clock
	rec := &recorder{ResponseWriter: w}
	route := s.routeOf(r)

	rid := requestID(r)
	h := rec.Header()
	h.Set("X-Request-Id", rid)
	// Responses are JSON or text; never let a browser sniff them into HTML.
	h.Set("X-Content-Type-Options", "nosniff")
	ctx := context.WithValue(r.Context(), requestIDKey, rid)
	ctx = context.WithValue(ctx, routeKey, route)

	ctx, span := s.startSpan(ctx, r, route)
	r = r.WithContext(ctx)

	if r2, err := s.guard(rec, r, route); err != nil {
		s.writeError(rec, r, err)
	} else {
		r = r2
		s.serveRecovering(rec, r, route)
	}

	status := rec.statusCode()
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, http.StatusText(status))
	}
	span.End()

	elapsed := time.Since(start)
	s.metrics.observe(r.Method, route, status, elapsed)
	// No bodies, query strings or raw paths: they may hold customer data.
	s.logger.LogAttrs(ctx, slog.LevelDebug, "http request",
		slog.String("request_id", rid), slog.String("method", r.Method), slog.String("route", route),
		slog.Int("status", status), slog.Duration("duration", elapsed))
}

// serveRecovering dispatches r and turns a panic into a 500 problem, so one
// bad request cannot take the process down or leave the client hanging.
func (s *Server) serveRecovering(w *recorder, r *http.Request, route string) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v) // the handler asked net/http to abort the response
		}
		err := fmt.Errorf("panic: %v", v)
		trace.SpanFromContext(r.Context()).RecordError(err, trace.WithStackTrace(true))
		if w.wroteHeader {
			// Too late for a problem; log it and abort so the client sees a
			// broken response rather than a truncated one that looks whole.
			s.logger.LogAttrs(r.Context(), slog.LevelError, "panic after response started",
				slog.String("request_id", requestIDFrom(r.Context())), slog.String("route", route),
				slog.Any("error", err), slog.String("stack", string(debug.Stack())))
			panic(http.ErrAbortHandler)
		}
		s.logger.LogAttrs(r.Context(), slog.LevelError, "panic serving request",
			slog.String("request_id", requestIDFrom(r.Context())), slog.String("route", route),
			slog.Any("error", err), slog.String("stack", string(debug.Stack())))
		// Discard whatever headers the handler had set for its own answer.
		for k := range w.Header() {
			if k != "X-Request-Id" && k != "X-Content-Type-Options" {
				w.Header().Del(k)
			}
		}
		writeProblem(w, s.problem(r, err)) // logged above, with the stack
	}()
	s.dispatch(w, r, route)
}

// startSpan starts the server span, continuing an incoming W3C traceparent,
// and puts the span's own traceparent in the context with
// wims.WithTraceParent so a store records it with the changes it writes.
func (s *Server) startSpan(ctx context.Context, r *http.Request, route string) (context.Context, trace.Span) {
	ctx = s.propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
	name := route
	if route == "unmatched" {
		name = r.Method + " unmatched"
	}
	ctx, span := s.tracer().Start(ctx, name,
		trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", r.Method),
			attribute.String("http.route", route),
			attribute.String("url.path", r.URL.Path),
		))
	if tp := traceParent(ctx, s.propagator); tp != "" {
		ctx = wims.WithTraceParent(ctx, tp)
	}
	return ctx, span
}

// traceParent formats the span context in ctx as a traceparent header value,
// or "" if there is no valid span context (no incoming trace and a no-op
// tracer provider).
func traceParent(ctx context.Context, p propagation.TextMapPropagator) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	p.Inject(ctx, c)
	return c.Get("traceparent")
}

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeKey
)

// requestIDFrom returns the request id ServeHTTP put in ctx, or "".
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// routeFrom returns the route label ServeHTTP put in ctx, or "".
func routeFrom(ctx context.Context) string {
	route, _ := ctx.Value(routeKey).(string)
	return route
}

// requestID returns the client's X-Request-Id if it is sane (1–128 letters,
// digits, '-', '_', '.', ':'), so a caller's id can follow a request through
// our logs; otherwise a new UUID. Anything else could inject text into logs.
func requestID(r *http.Request) string {
	if id := r.Header.Get("X-Request-Id"); validRequestID(id) {
		return id
	}
	return uuid.NewString()
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// recorder remembers the status written through it, for metrics, the access
// log and panic recovery.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *recorder) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = http.StatusOK, true
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// statusCode is the status sent, or 200 if the handler wrote nothing (which
// net/http then sends).
func (w *recorder) statusCode() int {
	if !w.wroteHeader {
		return http.StatusOK
	}
	return w.status
}

// metrics are the HTTP metrics, labelled by route pattern.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers the HTTP metrics on reg. If another Server already
// registered them on reg (tests, or two listeners), it shares them.
func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wims_http_requests_total",
			Help: "HTTP requests served, by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wims_http_request_duration_seconds",
			Help: "Time to serve an HTTP request, by route pattern.",
			// The accept path's budget is p99 <= 25 ms: resolve that region finely.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
	}
	m.requests = register(reg, m.requests)
	m.duration = register(reg, m.duration)
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a different metric with our name: a wiring bug
	}
	return c
}

// knownMethods bounds the method label: a client may send any token.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}
