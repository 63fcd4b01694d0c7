package http_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestListOrdersBySKU: GET /orders?sku= lists only that SKU's orders,
// newest first, combines with status, keeps to the SKU across pages, and
// refuses a malformed SKU at its field.
func TestListOrdersBySKU(t *testing.T) {
	e := newEnv(t)
	e.do("PUT", "/inventory/OTHER-1", `{"productName":"Other","model":"O","quantity":100,"lowStockThreshold":1}`).wantJSON(t, http.StatusOK)
	var other []string
	for i := range 5 {
		sku := "MACGUFFIN-LX"
		if i%2 == 1 {
			sku = "OTHER-1"
		}
		m := e.do("POST", "/orders", fmt.Sprintf(`{"customerId":"c%d","quantity":1,"sku":%q}`, i, sku)).wantJSON(t, http.StatusAccepted)
		if sku == "OTHER-1" {
			other = append([]string{m["orderId"].(string)}, other...) // newest first
		}
	}
	ids := func(m map[string]any) []string {
		var out []string
		for _, o := range m["orders"].([]any) {
			o := o.(map[string]any)
			if o["sku"] != "OTHER-1" {
				t.Fatalf("?sku=OTHER-1 listed %v", o)
			}
			out = append(out, o["orderId"].(string))
		}
		return out
	}
	if got := ids(e.do("GET", "/orders?sku=OTHER-1", "").wantJSON(t, http.StatusOK)); fmt.Sprint(got) != fmt.Sprint(other) {
		t.Fatalf("?sku=OTHER-1: %v, want %v", got, other)
	}
	if got := ids(e.do("GET", "/orders?sku=OTHER-1&status=PENDING", "").wantJSON(t, http.StatusOK)); len(got) != 2 {
		t.Fatalf("?sku=OTHER-1&status=PENDING: %v", got)
	}
	if got := ids(e.do("GET", "/orders?sku=OTHER-1&status=PAID", "").wantJSON(t, http.StatusOK)); len(got) != 0 {
		t.Fatalf("?sku=OTHER-1&status=PAID: %v", got)
	}
	first := e.do("GET", "/orders?sku=OTHER-1&limit=1", "").wantJSON(t, http.StatusOK)
	cursor, _ := first["nextCursor"].(string)
	if got := ids(first); len(got) != 1 || got[0] != other[0] || cursor == "" {
		t.Fatalf("first page of 1: %v, cursor %q", got, cursor)
	}
	if got := ids(e.do("GET", "/orders?sku=OTHER-1&limit=1&cursor="+cursor, "").wantJSON(t, http.StatusOK)); len(got) != 1 || got[0] != other[1] {
		t.Fatalf("second page of 1: %v, want %s", got, other[1])
	}
	e.do("GET", "/orders?sku=no%20spaces", "").wantProblem(t, http.StatusBadRequest, "validation-error", "sku")
}
