package http_test

import (
	"context"
	"net/http"
	"testing"
)

// TestBackorders covers allowBackorder over HTTP: PUT /inventory sets and
// shows it (absent: false, a wrong type a 400 naming it), an order beyond
// the stock of such an item waits as BACKORDERED and is listed so, and a
// restock through POST /inventory/{sku}/adjustments fills it, answering
// what is left; a backorder can be cancelled.
func TestBackorders(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := e.do("PUT", "/inventory/BO-1", `{"productName":"Widget","quantity":2,"allowBackorder":true}`).wantJSON(t, http.StatusOK)
	if m["allowBackorder"] != true {
		t.Fatalf("PUT = %v", m)
	}
	if got := e.do("GET", "/inventory/BO-1", "").wantJSON(t, http.StatusOK); got["allowBackorder"] != true {
		t.Fatalf("GET = %v", got)
	}
	before := e.snapshot()
	e.do("PUT", "/inventory/BO-1", `{"productName":"Widget","quantity":2,"allowBackorder":"yes"}`).
		wantProblem(t, http.StatusBadRequest, "validation-error", "allowBackorder")
	e.wantUnchanged(before)

	place := func(q string) string {
		t.Helper()
		id := e.do("POST", "/orders", `{"customerId":"c-1","sku":"BO-1","quantity":`+q+`}`).wantJSON(t, http.StatusAccepted)["orderId"].(string)
		if _, err := e.store.ReserveStock(ctx, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	waiting, cancelled := place("5"), place("1")
	o := e.do("GET", "/orders/"+waiting, "").wantJSON(t, http.StatusOK)
	if o["status"] != "BACKORDERED" || o["reason"] != "waiting for stock: requested 5, available 2" {
		t.Fatalf("order = %v", o)
	}
	if list := e.do("GET", "/orders?status=BACKORDERED", "").wantJSON(t, http.StatusOK)["orders"].([]any); len(list) != 2 {
		t.Fatalf("BACKORDERED lists %v", list)
	}
	if c := e.do("POST", "/orders/"+cancelled+"/cancel", "").wantJSON(t, http.StatusOK); c["status"] != "CANCELLED" {
		t.Fatalf("cancel of a backorder = %v", c)
	}
	it := e.do("POST", "/inventory/BO-1/adjustments", `{"delta":4,"reason":"restock"}`).wantJSON(t, http.StatusOK)
	if it["quantity"] != float64(1) {
		t.Fatalf("after the restock: %v, want 6 - 5 = 1 left", it)
	}
	if got := e.do("GET", "/orders/"+waiting, "").wantJSON(t, http.StatusOK)["status"]; got != "RESERVED" {
		t.Fatalf("filled order is %v", got)
	}
	// Absent is false: the same PUT without the member turns it off.
	if m := e.do("PUT", "/inventory/BO-1", `{"productName":"Widget","quantity":1}`).wantJSON(t, http.StatusOK); m["allowBackorder"] != nil {
		t.Fatalf("PUT without allowBackorder = %v", m)
	}
}
