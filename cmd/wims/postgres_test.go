package main

import (
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
