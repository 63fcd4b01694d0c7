package main

import (
	"encoding/json"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// TestCourseDemoOnPostgres runs the order flow on the PostgreSQL store: the
// same binary, one flag.
func TestCourseDemoOnPostgres(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.Store = pgtest.URL(t)
		c.PaymentsURL = payURL
	})
	if seed := a.item(wims.DefaultSKU); seed.Quantity != 1_000_000 {
		t.Fatalf("seed = %+v", seed)
	}
	a.putItem("PG", 20, 5)
	ids := make([]string, 30)
	for i := range ids {
		ids[i] = a.placeOrder("pg", 1, "PG").ID
	}
	paid := 0
	for _, id := range ids {
		o := waitStatus(t, a, id, wims.OrderPaid, wims.OrderRejected)
		if o.Status == wims.OrderPaid {
			paid++
			if mock.Charges(id) != 1 {
				t.Fatalf("order %s charged %d times", id, mock.Charges(id))
			}
		}
	}
	if paid != 20 || a.item("PG").Quantity != 0 {
		t.Fatalf("%d paid, stock %d; want 20 paid and stock 0", paid, a.item("PG").Quantity)
	}
}

// TestSameTextRulesOnBothStores: a NUL character or invalid UTF-8 in a
// body member, a path segment, a cursor or a query parameter is a 400
// naming where it is, on SQLite as on PostgreSQL (which cannot store such
// text), and changes nothing.
func TestSameTextRulesOnBothStores(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			a := startTestApp(t, func(c *Config) {
				if store == "postgres" {
					c.Store = pgtest.URL(t)
				}
			})
			cases := []struct {
				method, path, body, field string
			}{
				{"POST", "/orders", `{"customerId":"c\u0000","quantity":1}`, "customerId"},
				{"POST", "/orders", `{"customerId":"c","quantity":1,"sku":"MACGUFFIN-LX\u0000"}`, "sku"},
				{"PUT", "/inventory/NEW-SKU", `{"productName":"a\u0000b","model":"m","quantity":1,"lowStockThreshold":0}`, "productName"},
				{"GET", "/orders/%00", "", "path"},
				{"GET", "/orders/%FF%FE", "", "path"},
				{"GET", "/inventory/A%00B", "", "path"},
				{"GET", "/orders?cursor=%00", "", "cursor"},
				{"GET", "/orders?customerId=%FF", "", "customerId"},
				{"POST", "/buses", `{"name":"b1","description":"\u0000"}`, "description"},
				{"PUT", "/buses/default/rules/r1", `{"eventPattern":{"source":["a\u0000"]}}`, "eventPattern.source[0]"},
			}
			for _, c := range cases {
				var body any
				if c.body != "" {
					body = json.RawMessage(c.body)
				}
				code, out := a.do(c.method, c.path, body)
				var p struct{ Field string }
				_ = json.Unmarshal(out, &p)
				if code != 400 || p.Field != c.field {
					t.Errorf("%s %s %s = %d %s, want 400 naming %s", c.method, c.path, c.body, code, out, c.field)
				}
			}
			if code, _ := a.do("GET", "/inventory/NEW-SKU", nil); code != 404 {
				t.Fatalf("a refused PUT created the item: %d", code)
			}
			if code, _ := a.do("GET", "/buses/b1", nil); code != 404 {
				t.Fatalf("a refused POST created the bus: %d", code)
			}
		})
	}
}
