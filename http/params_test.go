package http_test

import (
	"net/http"
	"testing"
)

// TestQueryParameters: every route refuses a query it cannot take, naming
// the parameter, and changes nothing.
func TestQueryParameters(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ method, path, field string }{
		{"GET", "/inventory?since=1", "since"},
		{"GET", "/inventory/MACGUFFIN-LX?x=1", "x"},
		{"GET", "/orders?since=2026-01-01", "since"},
		{"GET", "/orders?limit=1&limit=2", "limit"},
		{"GET", "/orders?status=", "status"},
		{"GET", "/orders?%zz", "query"},
		{"GET", "/orders?limit=%zz", "query"},
		{"GET", "/dead-letters?limit=1&limit=1", "limit"},
		{"POST", "/inventory/MACGUFFIN-LX/adjustments?force=1", "force"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			e.do(c.method, c.path, `{"delta":-1,"reason":"x"}`).wantProblem(t, http.StatusBadRequest, "validation-error", c.field)
		})
	}
	// Nothing changed: the adjustment with a bad query was not applied.
	m := e.do("GET", "/inventory/MACGUFFIN-LX", "").wantJSON(t, http.StatusOK)
	if m["quantity"].(float64) != 1_000_000 {
		t.Fatalf("quantity = %v after refused requests", m["quantity"])
	}
	e.do("GET", "/orders?limit=5&status=PENDING", "").wantJSON(t, http.StatusOK)
}
