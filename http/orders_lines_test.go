package http_test

import (
	"net/http"
	"reflect"
	"testing"
)

// TestCreateOrderLines: POST /orders takes lines as well as the single-SKU
// body, answers lines for both, keeps sku (the first line's) and quantity
// (the total) for a multi-line order, and refuses both forms at once, an
// empty or too long list, repeated and unknown SKUs at the line's field.
func TestCreateOrderLines(t *testing.T) {
	e := newEnv(t)
	e.do("PUT", "/inventory/OTHER-1", `{"productName":"Other","model":"O","quantity":100,"lowStockThreshold":1}`).wantJSON(t, http.StatusOK)

	m := e.do("POST", "/orders", `{"customerId":"c","lines":[{"sku":"OTHER-1","quantity":2},{"sku":"MACGUFFIN-LX","quantity":3}]}`).
		wantJSON(t, http.StatusAccepted)
	wantKeys(t, m, orderKeys...)
	want := []any{map[string]any{"sku": "OTHER-1", "quantity": 2.0}, map[string]any{"sku": "MACGUFFIN-LX", "quantity": 3.0}}
	if !reflect.DeepEqual(m["lines"], want) || m["sku"] != "OTHER-1" || m["quantity"] != 5.0 {
		t.Fatalf("order = %v, want lines %v, sku OTHER-1, quantity 5", m, want)
	}
	got := e.do("GET", "/orders/"+m["orderId"].(string), "").wantJSON(t, http.StatusOK)
	if !reflect.DeepEqual(got["lines"], want) {
		t.Fatalf("GET lines = %v", got["lines"])
	}

	one := e.do("POST", "/orders", `{"customerId":"c","sku":"OTHER-1","quantity":4}`).wantJSON(t, http.StatusAccepted)
	if !reflect.DeepEqual(one["lines"], []any{map[string]any{"sku": "OTHER-1", "quantity": 4.0}}) {
		t.Fatalf("one-line order lines = %v", one["lines"])
	}

	long := `{"customerId":"c","lines":[`
	for i := range 101 {
		if i > 0 {
			long += ","
		}
		long += `{"sku":"OTHER-1","quantity":1}`
	}
	long += `]}`
	for _, tt := range []struct{ name, body, field string }{
		{"Both", `{"customerId":"c","sku":"OTHER-1","lines":[{"sku":"OTHER-1","quantity":1}]}`, "lines"},
		{"BothQuantity", `{"customerId":"c","quantity":1,"lines":[{"sku":"OTHER-1","quantity":1}]}`, "lines"},
		{"Empty", `{"customerId":"c","lines":[]}`, "lines"},
		{"TooMany", long, "lines"},
		{"Repeated", `{"customerId":"c","lines":[{"sku":"OTHER-1","quantity":1},{"sku":"OTHER-1","quantity":2}]}`, "lines[1].sku"},
		{"Unknown", `{"customerId":"c","lines":[{"sku":"OTHER-1","quantity":1},{"sku":"NOPE","quantity":2}]}`, "lines[1].sku"},
		{"Quantity", `{"customerId":"c","lines":[{"sku":"OTHER-1","quantity":0}]}`, "lines[0].quantity"},
		{"NoSKU", `{"customerId":"c","lines":[{"quantity":1}]}`, "lines[0].sku"},
		{"Customer", `{"lines":[{"sku":"OTHER-1","quantity":1}]}`, "customerId"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "/orders", tt.body).wantProblem(t, http.StatusBadRequest, "validation-error", tt.field)
		})
	}
	// An unknown member of a line is refused as any unknown member is.
	e.do("POST", "/orders", `{"customerId":"c","lines":[{"sku":"OTHER-1","quantity":1,"price":3}]}`).
		wantProblem(t, http.StatusBadRequest, "validation-error", "price")
}

// TestCreateOrderLinesIdempotency: a retry with the same lines replays, with
// other lines is 422, and a one-line order sent as lines equals the same
// order sent as sku and quantity.
func TestCreateOrderLinesIdempotency(t *testing.T) {
	e := newEnv(t)
	body := `{"customerId":"c","lines":[{"sku":"MACGUFFIN-LX","quantity":2}]}`
	m1 := e.do("POST", "/orders", body, "Idempotency-Key", "k").wantJSON(t, http.StatusAccepted)
	r := e.do("POST", "/orders", `{"customerId":"c","sku":"MACGUFFIN-LX","quantity":2}`, "Idempotency-Key", "k")
	if m := r.wantJSON(t, http.StatusAccepted); m["orderId"] != m1["orderId"] || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %v", m)
	}
	e.do("POST", "/orders", `{"customerId":"c","sku":"MACGUFFIN-LX","quantity":3}`, "Idempotency-Key", "k").
		wantProblem(t, http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency-Key")
}
