package http_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// fakeTraces answers one trace.
type fakeTraces map[string][]wims.Span

func (f fakeTraces) Trace(id string) []wims.Span { return f[id] }

func TestGetTrace(t *testing.T) {
	const id = "4bf92f3577b34da6a3ce929d0e0e4736"
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	traces := fakeTraces{id: {
		{TraceID: id, SpanID: "00f067aa0ba902b7", Name: "POST /orders", Kind: "server", Start: t0, End: t0.Add(2500 * time.Microsecond),
			Status: wims.SpanUnset, Attributes: map[string]string{"http.route": "POST /orders", "http.response.status_code": "202"}},
		{TraceID: id, SpanID: "b7ad6b7169203331", ParentID: "00f067aa0ba902b7", Name: "process order-workflow", Kind: "consumer",
			Start: t0.Add(5 * time.Millisecond), End: t0.Add(9 * time.Millisecond), Status: wims.SpanError, StatusMessage: "boom"},
	}}
	e := newEnv(t, withKeys, func(o *wimshttp.Options) { o.Traces = traces })

	for _, key := range []string{"admin-secret", "read-secret"} {
		got := e.do("GET", "/traces/"+id, "", bearer(key)...).wantJSON(t, http.StatusOK)
		wantKeys(t, got, "traceId", "spans")
		spans := got["spans"].([]any)
		if got["traceId"] != id || len(spans) != 2 {
			t.Fatalf("as %s: %v", key, got)
		}
		first, second := spans[0].(map[string]any), spans[1].(map[string]any)
		if first["name"] != "POST /orders" || first["durationMs"] != 2.5 || first["start"] != "2026-12-02T10:00:00Z" ||
			first["attributes"].(map[string]any)["http.response.status_code"] != "202" {
			t.Errorf("first span %v", first)
		}
		if _, ok := first["parentSpanId"]; ok {
			t.Errorf("a root span has a parentSpanId: %v", first)
		}
		if second["parentSpanId"] != "00f067aa0ba902b7" || second["status"] != "error" || second["statusMessage"] != "boom" {
			t.Errorf("second span %v", second)
		}
	}
	// An id in upper case is the same trace.
	e.do("GET", "/traces/"+strings.ToUpper(id), "", bearer("read-secret")...).wantJSON(t, http.StatusOK)

	// orders, the shop front end's key, may not read traces (they show the
	// pipeline's inside, like the event log).
	e.do("GET", "/traces/"+id, "", bearer("orders-secret")...).wantProblem(t, http.StatusForbidden, "forbidden", "")

	p := e.do("GET", "/traces/0af7651916cd43dd8448eb211c80319c", "", bearer("read-secret")...).wantProblem(t, http.StatusNotFound, "not-found", "")
	if !strings.Contains(p.Detail, "0af7651916cd43dd8448eb211c80319c") {
		t.Errorf("404 detail %q does not name the trace", p.Detail)
	}
	for _, bad := range []string{"nope", strings.Repeat("0", 32), id + "0", id[:31] + "g", id[:31]} {
		e.do("GET", "/traces/"+bad, "", bearer("read-secret")...).wantProblem(t, http.StatusBadRequest, "validation-error", "traceId")
	}
	e.do("GET", "/traces/"+id+"?limit=1", "", bearer("read-secret")...).wantProblem(t, http.StatusBadRequest, "validation-error", "limit")
}
