package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// TestCancelRacesKeepStockAndMoney cancels orders over HTTP at every point
// of their way through the pipeline, against a payments API slow enough
// that charges are in flight when cancels arrive: as soon as they are
// placed (racing the workflow), once RESERVED (racing the dispatcher's
// charge), once PAID (a refund), and some not at all. When everything has
// settled, every order's stock and money must be right: a PAID order was
// charged once and holds its stock; a REFUNDED one was charged and refunded
// once; a CANCELLED one was never charged; and the stock on hand is the
// initial stock less the PAID orders' quantities. It runs on both engines.
func TestCancelRacesKeepStockAndMoney(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) { testCancelRaces(t, "") })
	t.Run("PostgreSQL", func(t *testing.T) { testCancelRaces(t, pgtest.URL(t)) })
}

// testCancelRaces is TestCancelRacesKeepStockAndMoney on the store at
// storeURL ("": SQLite in the data dir).
func testCancelRaces(t *testing.T, storeURL string) {
	mock, payURL := fastPayments(t, paymentsmock.Options{Latency: 50 * time.Millisecond})
	a := startTestApp(t, func(c *Config) { c.PaymentsURL, c.Store = payURL, storeURL })
	const sku, initial = "RACE-1", 1000
	a.putItem(sku, initial, 0)

	cancel := func(id string) wims.Order {
		t.Helper()
		code, body := a.do("POST", "/orders/"+id+"/cancel", nil)
		if code != http.StatusOK {
			t.Fatalf("cancel %s: %d %s", id, code, body)
		}
		var o wims.Order
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatal(err)
		}
		return o
	}
	var ids []string
	for i := range 32 {
		o := a.placeOrder(fmt.Sprintf("c-%d", i), int64(1+i%3), sku)
		ids = append(ids, o.ID)
		switch i % 4 {
		case 0: // racing the workflow's reservation
			if got := cancel(o.ID); got.Status != wims.OrderCancelled {
				t.Fatalf("cancel of a new order: %s", got.Status)
			}
		case 1: // racing the charge, which takes 50 ms at the API
			waitStatus(t, a, o.ID, wims.OrderReserved, wims.OrderPaid)
			cancel(o.ID)
		case 2: // a refund
			waitStatus(t, a, o.ID, wims.OrderPaid)
			if got := cancel(o.ID); got.Status != wims.OrderRefundPending {
				t.Fatalf("cancel of a paid order: %s", got.Status)
			}
		}
	}

	settled := func() error {
		var held int64
		for _, id := range ids {
			o := a.order(id)
			charges, refunds := mock.Charges(id), mock.Refunds(id)
			switch o.Status {
			case wims.OrderPaid:
				held += o.Quantity
				if charges != 1 || refunds != 0 {
					return fmt.Errorf("PAID order %s: %d charges, %d refunds", id, charges, refunds)
				}
			case wims.OrderRefunded:
				if charges != 1 || refunds != 1 {
					return fmt.Errorf("REFUNDED order %s: %d charges, %d refunds", id, charges, refunds)
				}
			case wims.OrderCancelled:
				if charges != 0 || refunds != 0 {
					return fmt.Errorf("CANCELLED order %s: %d charges, %d refunds", id, charges, refunds)
				}
			default:
				return fmt.Errorf("order %s is %s", id, o.Status)
			}
		}
		if q := a.item(sku).Quantity; q != initial-held {
			return fmt.Errorf("stock %d, want %d - %d held by PAID orders", q, initial, held)
		}
		if n := mock.Stats().InFlight; n != 0 {
			return fmt.Errorf("%d calls still at the payments API", n)
		}
		return nil
	}
	eventually(t, 60*time.Second, settled)
	if err := settled(); err != nil { // and it stays so
		t.Fatal(err)
	}
	st := mock.Stats()
	t.Logf("charged %d, refunded %d", st.Charged, st.Refunded)
	for id, n := range st.Charges {
		if n > 1 {
			t.Errorf("order %s charged %d times", id, n)
		}
	}
}
