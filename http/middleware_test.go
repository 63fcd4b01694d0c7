package http_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

func TestHealth(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		m := e.do("GET", "/healthz", "").wantJSON(t, http.StatusOK)
		if len(m) != 1 || m["status"] != "ok" {
			t.Fatalf("health = %v", m)
		}
	})
	t.Run("ErrNotReady", func(t *testing.T) {
		e := newEnv(t, func(o *wimshttp.Options) {
			o.Checks = []wimshttp.Check{
				{Name: "store", Run: func(context.Context) error { return nil }},
				{Name: "bus", Run: func(context.Context) error { return errors.New("nats://10.1.2.3:4222 unreachable") }},
			}
		})
		r := e.do("GET", "/healthz", "")
		m := r.wantJSON(t, http.StatusServiceUnavailable)
		checks, _ := m["checks"].(map[string]any)
		if m["status"] != "unavailable" || checks["bus"] != "failing" || checks["store"] != "ok" || r.header.Get("Retry-After") == "" {
			t.Fatalf("health = %v, Retry-After %q", m, r.header.Get("Retry-After"))
		}
		if strings.Contains(string(r.body), "10.1.2.3") {
			t.Fatalf("health leaks the cause: %s", r.body)
		}
		if !strings.Contains(e.logs.String(), "10.1.2.3") {
			t.Fatal("cause not logged")
		}
	})
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	e.do("GET", "/inventory/A/b/c", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	before := e.snapshot()
	for _, tt := range []struct{ method, path, allow string }{
		{"DELETE", "/orders", "POST"},
		{"PUT", "/orders", "POST"},
		{"DELETE", "/inventory/MACGUFFIN-LX", "PUT"},
		{"PATCH", "/inventory", "GET"},
		{"POST", "/healthz", "GET"},
	} {
		r := e.do(tt.method, tt.path, `{"customerId":"1","quantity":1}`)
		r.wantProblem(t, http.StatusMethodNotAllowed, "method-not-allowed", "")
		if allow := r.header.Get("Allow"); !strings.Contains(allow, tt.allow) {
			t.Fatalf("%s %s: Allow = %q, want it to list %s", tt.method, tt.path, allow, tt.allow)
		}
	}
	e.wantUnchanged(before)
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/healthz", "", "X-Request-Id", "abc-123")
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("X-Request-Id = %q, want the client's", got)
	}
	r = e.do("GET", "/healthz", "", "X-Request-Id", "bad id\"with<stuff>")
	if got := r.header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \"<") {
		t.Fatalf("X-Request-Id = %q, want a generated one", got)
	}
	r = e.do("GET", "/nope", "", "X-Request-Id", "trace-me")
	if p := r.wantProblem(t, 404, "not-found", ""); p.RequestID != "trace-me" || p.Instance != "/nope" {
		t.Fatalf("problem = %+v", p)
	}
}

// failingStore fails reads with errors whose text must never reach a client.
type failingStore struct {
	wimshttp.Store
}

func (failingStore) GetItem(ctx context.Context, sku string) (wims.Item, error) {
	return wims.Item{}, errors.New("sqlite: /var/secret/wims.db: disk I/O error")
}

func (failingStore) ListItems(ctx context.Context) ([]wims.Item, error) {
	panic("boom: secret panic text")
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	e := newEnv(t, func(o *wimshttp.Options) { o.Store = failingStore{o.Store} })
	t.Run("Error", func(t *testing.T) {
		r := e.do("GET", "/inventory/MACGUFFIN-LX", "", "X-Request-Id", "req-500")
		p := r.wantProblem(t, http.StatusInternalServerError, "internal", "")
		if strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), "sqlite") {
			t.Fatalf("500 leaks internals: %s", r.body)
		}
		if p.RequestID != "req-500" {
			t.Fatalf("requestId = %q", p.RequestID)
		}
		logs := e.logs.String()
		if !strings.Contains(logs, "/var/secret/wims.db") || !strings.Contains(logs, `"request_id":"req-500"`) {
			t.Fatalf("internal error not logged with the request id:\n%s", logs)
		}
	})
	t.Run("Panic", func(t *testing.T) {
		r := e.do("GET", "/inventory", "")
		r.wantProblem(t, http.StatusInternalServerError, "internal", "")
		if strings.Contains(string(r.body), "secret") {
			t.Fatalf("500 leaks the panic: %s", r.body)
		}
		if !strings.Contains(e.logs.String(), "boom: secret panic text") {
			t.Fatal("panic not logged")
		}
		// The server survives.
		e.do("GET", "/healthz", "").wantJSON(t, http.StatusOK)
	})
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "/orders", `{"customerId":"1","quantity":1}`).wantJSON(t, http.StatusAccepted)
	e.do("GET", "/inventory/MACGUFFIN-LX", "").wantJSON(t, http.StatusOK)
	e.do("GET", "/no/such/path/42", "")
	e.do("BREW", "/orders", "")
	r := e.do("GET", "/metrics", "")
	if r.status != http.StatusOK {
		t.Fatalf("status = %d", r.status)
	}
	body := string(r.body)
	for _, want := range []string{
		`wims_http_requests_total{method="POST",route="POST /orders",status="202"} 1`,
		`wims_http_requests_total{method="GET",route="GET /inventory/{sku}",status="200"} 1`,
		`wims_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`wims_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`wims_http_request_duration_seconds_bucket{route="POST /orders",le="0.025"}`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/no/such/path") {
		t.Error("raw path used as a label")
	}
}

// ctxStore captures the context CreateOrder and PutItem are called with.
type ctxStore struct {
	wimshttp.Store
	mu   sync.Mutex
	seen []string // wims.TraceParent of each call
}

func (s *ctxStore) CreateOrder(ctx context.Context, o wims.Order) (wims.Order, bool, error) {
	s.record(ctx)
	return s.Store.CreateOrder(ctx, o)
}

func (s *ctxStore) PutItem(ctx context.Context, it wims.Item) (wims.Item, error) {
	s.record(ctx)
	return s.Store.PutItem(ctx, it)
}

func (s *ctxStore) record(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, wims.TraceParent(ctx))
}

func (s *ctxStore) traceParents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// TestTraceParentReachesStore uses the global tracer provider, as the server
// does by default, so it must not run in parallel with other tracing tests.
func TestTraceParentReachesStore(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	t.Cleanup(func() { otel.SetTracerProvider(prev); tp.Shutdown(context.Background()) })

	var cs *ctxStore
	e := newEnv(t, func(o *wimshttp.Options) { cs = &ctxStore{Store: o.Store}; o.Store = cs })

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	const parentSpan = "00f067aa0ba902b7"
	r := e.do("POST", "/orders", `{"customerId":"1","quantity":1}`, "traceparent", "00-"+traceID+"-"+parentSpan+"-01")
	r.wantJSON(t, http.StatusAccepted)
	e.do("PUT", "/inventory/W-1", `{"productName":"W","quantity":1}`).wantJSON(t, http.StatusOK)

	seen := cs.traceParents()
	if len(seen) != 2 {
		t.Fatalf("store calls = %d", len(seen))
	}
	// The store sees the server span: same trace, new span id, sampled.
	parts := strings.Split(seen[0], "-")
	if len(parts) != 4 || parts[0] != "00" || parts[1] != traceID || parts[2] == parentSpan || len(parts[2]) != 16 || parts[3] != "01" {
		t.Fatalf("traceparent in store ctx = %q, want a child of trace %s", seen[0], traceID)
	}
	// Without an incoming one, the server starts a new trace.
	if p := strings.Split(seen[1], "-"); len(p) != 4 || p[1] == traceID {
		t.Fatalf("traceparent for a fresh request = %q", seen[1])
	}
}

// TestAsteriskTargetIsAProblem: "GET *" (a request target net/http hands
// to the handler) is a problem naming the path, not the mux's empty 400.
// The few answers net/http writes before any handler (431 for oversized
// headers, 400 for a malformed request line or Content-Length) stay plain
// text: the server never sees those requests.
func TestAsteriskTargetIsAProblem(t *testing.T) {
	e := newEnv(t)
	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), `"field":"path"`) {
		t.Fatalf("GET *: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}
