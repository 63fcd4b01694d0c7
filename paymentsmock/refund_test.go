package paymentsmock_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/wims/wims/paymentsmock"
)

// TestRefund: a charged order is refunded once, however often the refund
// is sent with its key; an order never charged is declined (404) for good;
// refunds share the charges' token bucket.
func TestRefund(t *testing.T) {
	s := paymentsmock.New(paymentsmock.Options{Rate: 1000, Burst: 1000})
	url := mustServe(t, s)
	if a := post(t, url+"/payments", "order-1", payment("order-1")); a.status != http.StatusOK {
		t.Fatalf("charge: %d %s", a.status, a.body)
	}
	first := post(t, url+"/payments/refunds", "refund:order-1", payment("order-1"))
	if first.status != http.StatusOK {
		t.Fatalf("refund: %d %s", first.status, first.body)
	}
	var r map[string]any
	if err := json.Unmarshal(first.body, &r); err != nil {
		t.Fatal(err)
	}
	if r["status"] != "REFUNDED" || r["orderId"] != "order-1" || r["refundId"] == "" {
		t.Fatalf("refund receipt %v", r)
	}
	for range 2 {
		if a := post(t, url+"/payments/refunds", "refund:order-1", payment("order-1")); a.status != http.StatusOK ||
			a.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replayed refund: %d %v", a.status, a.header)
		}
	}
	if s.Refunds("order-1") != 1 || s.Charges("order-1") != 1 {
		t.Fatalf("refunds %d charges %d, want 1 and 1", s.Refunds("order-1"), s.Charges("order-1"))
	}

	a := post(t, url+"/payments/refunds", "refund:order-2", payment("order-2"))
	if a.status != http.StatusNotFound {
		t.Fatalf("refund of an uncharged order: %d, want 404", a.status)
	}
	problemOf(t, a)
	if st := s.Stats(); st.Refunded != 1 || st.Refunds["order-1"] != 1 || st.Declined != 1 {
		t.Fatalf("stats %+v", st)
	}

	t.Run("Throttled", func(t *testing.T) {
		c := newClock()
		s := paymentsmock.New(paymentsmock.Options{Rate: 1, Burst: 1, Now: c.Now})
		url := mustServe(t, s)
		post(t, url, "order-1", payment("order-1"))
		if a := post(t, url+"/refunds", "refund:order-1", payment("order-1")); a.status != http.StatusTooManyRequests {
			t.Fatalf("refund right after a charge, bucket of 1: %d, want 429", a.status)
		}
	})
}
