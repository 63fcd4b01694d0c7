package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/paymentsmock"
)

func startV1App(t *testing.T, payURL string) *testApp {
	t.Helper()
	return startTestApp(t, func(c *Config) { c.Architecture, c.PaymentsURL = "v1", payURL })
}

// TestV1OrderChargedOnce: in V1 the answer to POST /orders comes after the
// insert, the decrement and the payment: the order is PAID, the stock is
// down and the payments API charged it once. There is no bus.
func TestV1OrderChargedOnce(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{})
	a := startV1App(t, payURL)

	code, body := a.do("POST", "/orders", map[string]any{"customerId": "123", "quantity": 3})
	if code != http.StatusCreated {
		t.Fatalf("POST /orders = %d %s, want 201", code, body)
	}
	var o wims.Order
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatal(err)
	}
	if o.Status != wims.OrderPaid || o.Quantity != 3 || o.SKU != wims.DefaultSKU {
		t.Fatalf("answered order = %+v, want PAID", o)
	}
	// No waiting: everything was done when the answer came.
	if q := a.item(wims.DefaultSKU).Quantity; q != 1_000_000-3 {
		t.Fatalf("stock = %d, want %d", q, 1_000_000-3)
	}
	if n := mock.Charges(o.ID); n != 1 {
		t.Fatalf("order charged %d times, want 1", n)
	}
	got := a.order(o.ID)
	if got.Status != wims.OrderPaid || len(got.Payments) != 1 || got.Payments[0].Outcome != wims.PaymentPaid {
		t.Fatalf("GET /orders/%s = %+v", o.ID, got)
	}
	if len(got.Executions) != 0 {
		t.Fatalf("V1 has no workflow, but the order has executions %+v", got.Executions)
	}
	// Bad input is refused as in V2 and changes nothing.
	if code, body := a.do("POST", "/orders", map[string]any{"customerId": "", "quantity": 3}); code != http.StatusBadRequest {
		t.Fatalf("invalid order = %d %s, want 400", code, body)
	}
	if code, _ := a.do("GET", "/events", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("GET /events = %d, want 503: V1 has no event log", code)
	}
	// Not enough stock: 409, nothing charged.
	a.putItem("FEW", 2, 1)
	code, body = a.do("POST", "/orders", map[string]any{"customerId": "9", "quantity": 5, "sku": "FEW"})
	if code != http.StatusConflict {
		t.Fatalf("order over stock = %d %s, want 409", code, body)
	}
	if st := mock.Stats(); st.Charged != 1 {
		t.Fatalf("payments charged %d, want 1", st.Charged)
	}
}

// TestV1ThrottledPaymentsSurface: with the payments API throttled, V1 answers
// some orders with an error (the course's weakness), leaves them RESERVED
// with their stock held (conservation holds), and a retry with the same
// Idempotency-Key completes the order with a single charge.
func TestV1ThrottledPaymentsSurface(t *testing.T) {
	mock, payURL := fastPayments(t, paymentsmock.Options{Rate: 1, Burst: 1})
	a := startV1App(t, payURL)

	const n = 3
	codes := make([]int, n)
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			codes[i], bodies[i] = a.do("POST", "/orders", map[string]any{"customerId": fmt.Sprint(i), "quantity": 2},
				"Idempotency-Key", fmt.Sprintf("v1-throttle-%d", i))
		})
	}
	wg.Wait()
	var failed []int
	for i, c := range codes {
		switch c {
		case http.StatusCreated:
		case http.StatusTooManyRequests:
			var p wimshttp.Problem
			if err := json.Unmarshal(bodies[i], &p); err != nil || p.Type != wimshttp.ProblemTypeBase+"payments-throttled" {
				t.Fatalf("throttled answer = %s (%v)", bodies[i], err)
			}
			failed = append(failed, i)
		default:
			t.Fatalf("order %d answered %d %s", i, c, bodies[i])
		}
	}
	if len(failed) == 0 {
		t.Fatalf("3 quick orders against a 1/s payments API all succeeded; V1 should surface the throttling")
	}
	// Conservation: every order holds its stock, paid or not.
	if q := a.item(wims.DefaultSKU).Quantity; q != 1_000_000-2*n {
		t.Fatalf("stock = %d, want %d", q, 1_000_000-2*n)
	}
	// Retrying with the same key resumes the payment; each order is charged once.
	for _, i := range failed {
		eventually(t, 10*time.Second, func() error {
			code, body := a.do("POST", "/orders", map[string]any{"customerId": fmt.Sprint(i), "quantity": 2},
				"Idempotency-Key", fmt.Sprintf("v1-throttle-%d", i))
			if code != http.StatusCreated {
				return fmt.Errorf("retry = %d %s", code, body)
			}
			return nil
		})
	}
	st := mock.Stats()
	if st.Charged != n {
		t.Fatalf("charged %d, want %d", st.Charged, n)
	}
	for id, c := range st.Charges {
		if c != 1 {
			t.Fatalf("order %s charged %d times", id, c)
		}
	}
	if q := a.item(wims.DefaultSKU).Quantity; q != 1_000_000-2*n {
		t.Fatalf("stock after retries = %d, want %d", q, 1_000_000-2*n)
	}
}

// TestV1EnforcesAPIKeys: the V1 architecture serves the same API, so its
// authentication must hold there too.
func TestV1EnforcesAPIKeys(t *testing.T) {
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.Architecture = "v1"
		c.PaymentsURL = payURL
		c.APIKeys = []string{"secret-admin"}
	})
	if code, _ := a.do("POST", "/orders", map[string]any{"customerId": "x", "quantity": 1}); code != http.StatusUnauthorized {
		t.Fatalf("POST /orders without a key = %d, want 401", code)
	}
	if code, _ := a.do("GET", "/inventory", nil); code != http.StatusUnauthorized {
		t.Fatalf("GET /inventory without a key = %d, want 401", code)
	}
	code, body := a.do("POST", "/orders", map[string]any{"customerId": "x", "quantity": 1}, "Authorization", "Bearer secret-admin")
	if code/100 != 2 {
		t.Fatalf("POST /orders with the key = %d %s", code, body)
	}
}
