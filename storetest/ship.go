package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wims/wims"
)

// testShip covers ShipOrder: PAID → SHIPPED with the shipment recorded and
// logged, the stock staying taken, a repeat with the same shipment changing
// nothing, and every refusal (another shipment, any other status, a bad
// shipment, an unknown order) changing nothing.
func testShip(t *testing.T, open func(t *testing.T) wims.Store) {
	ups := wims.Shipment{Carrier: "UPS", TrackingID: "1Z999AA10123456784"}
	// paid stores 10 of sku and a PAID order o-1 for 3 of it.
	paid := func(t *testing.T) wims.Store {
		t.Helper()
		s := open(t)
		mustPutItem(t, s, sku, 10)
		mustCreateOrder(t, s, "o-1", sku, 3)
		if _, err := s.ReserveStock(t.Context(), "o-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CompletePayment(t.Context(), "o-1", true, ""); err != nil {
			t.Fatal(err)
		}
		return s
	}
	// mustRefuse fails unless ship of id is refused with code and changes nothing.
	mustRefuse := func(t *testing.T, s wims.Store, id string, sh wims.Shipment, code string) {
		t.Helper()
		before, _ := s.GetOrder(t.Context(), id)
		q, _ := s.GetItem(t.Context(), sku)
		seq := lastSeq(t, s)
		_, err := s.ShipOrder(t.Context(), id, sh)
		mustCode(t, err, code)
		after, _ := s.GetOrder(t.Context(), id)
		if !after.Equal(before) {
			t.Fatalf("a refused shipment changed %+v to %+v", before, after)
		}
		mustQuantity(t, s, sku, q.Quantity)
		mustNoChangesAfter(t, s, seq)
	}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		s := paid(t)
		seq := lastSeq(t, s)
		o, err := s.ShipOrder(t.Context(), "o-1", ups)
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != wims.OrderShipped || o.Carrier != ups.Carrier || o.TrackingID != ups.TrackingID || o.Reason != "" {
			t.Fatalf("shipped order %+v", o)
		}
		if !o.HoldsStock() {
			t.Fatal("a shipped order's stock came back")
		}
		mustQuantity(t, s, sku, 7)
		cs := changesAfter(t, s, seq)
		if len(cs) != 1 || cs[0].Table != wims.TableOrders {
			t.Fatalf("changes %+v, want one orders UPDATE", cs)
		}
		checkChange(t, cs[0])
		if img := decode[wims.Order](t, cs[0].NewImage); !img.Equal(o) {
			t.Fatalf("logged image %+v, want %+v", img, o)
		}
		for _, col := range []string{"status", "carrier", "trackingId"} {
			if !strings.Contains(fmt.Sprint(cs[0].ChangedColumns), col) {
				t.Errorf("changedColumns %v lacks %s", cs[0].ChangedColumns, col)
			}
		}
		read, err := s.GetOrder(t.Context(), "o-1")
		if err != nil || !read.Equal(o) {
			t.Fatalf("GetOrder = %+v, %v; want %+v", read, err, o)
		}
		if got := listAll(t, s, wims.OrderFilter{Status: wims.OrderShipped}); len(got) != 1 || !got[0].Equal(o) {
			t.Fatalf("SHIPPED lists %+v", got)
		}
		h, err := s.OrderHistory(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if len(h) != 4 || h[3].Status != wims.OrderShipped {
			t.Fatalf("history %+v, want PENDING, RESERVED, PAID, SHIPPED", h)
		}
		counts, err := s.CountOrders(t.Context())
		if err != nil || counts[wims.OrderShipped] != 1 {
			t.Fatalf("counts %v (%v), want 1 SHIPPED", counts, err)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		s := paid(t)
		first, err := s.ShipOrder(t.Context(), "o-1", ups)
		if err != nil {
			t.Fatal(err)
		}
		seq := lastSeq(t, s)
		again, err := s.ShipOrder(t.Context(), "o-1", ups)
		if err != nil || !again.Equal(first) {
			t.Fatalf("second shipment = %+v, %v; want %+v", again, err, first)
		}
		mustNoChangesAfter(t, s, seq)
		// A shipped order stays shipped: no cancel, no late answers.
		mustRefuse(t, s, "o-1", wims.Shipment{Carrier: "UPS", TrackingID: "other"}, wims.ECONFLICT)
		_, err = s.CancelOrder(t.Context(), "o-1")
		mustCode(t, err, wims.ECONFLICT)
		for _, step := range []func() (wims.Order, error){
			func() (wims.Order, error) { return s.ReserveStock(t.Context(), "o-1") },
			func() (wims.Order, error) { return s.CompletePayment(t.Context(), "o-1", false, "late") },
			func() (wims.Order, error) { return s.CompleteRefund(t.Context(), "o-1") },
		} {
			if o, err := step(); err != nil || !o.Equal(first) {
				t.Fatalf("a late transition made %+v (%v) of %+v", o, err, first)
			}
		}
		mustQuantity(t, s, sku, 7)
		mustNoChangesAfter(t, s, seq)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 10)
		steps := map[string]func(id string) error{
			"PENDING": func(string) error { return nil },
			"RESERVED": func(id string) error {
				_, err := s.ReserveStock(t.Context(), id)
				return err
			},
			"REJECTED": func(id string) error { return nil }, // created too big below
			"PAYMENT_FAILED": func(id string) error {
				if _, err := s.ReserveStock(t.Context(), id); err != nil {
					return err
				}
				_, err := s.CompletePayment(t.Context(), id, false, "declined")
				return err
			},
			"CANCELLED": func(id string) error {
				_, err := s.CancelOrder(t.Context(), id)
				return err
			},
			"REFUND_PENDING": func(id string) error {
				if _, err := s.ReserveStock(t.Context(), id); err != nil {
					return err
				}
				if _, err := s.CompletePayment(t.Context(), id, true, ""); err != nil {
					return err
				}
				_, err := s.CancelOrder(t.Context(), id)
				return err
			},
		}
		for st, step := range steps {
			id := "o-" + st
			q := int64(1)
			if st == "REJECTED" {
				q = 50
			}
			mustCreateOrder(t, s, id, sku, q)
			if st == "REJECTED" {
				if _, err := s.ReserveStock(t.Context(), id); err != nil {
					t.Fatal(err)
				}
			}
			if err := step(id); err != nil {
				t.Fatal(err)
			}
			if o, _ := s.GetOrder(t.Context(), id); string(o.Status) != st {
				t.Fatalf("%s is %s, want %s", id, o.Status, st)
			}
			mustRefuse(t, s, id, ups, wims.ECONFLICT)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		s := paid(t)
		mustRefuse(t, s, "o-1", wims.Shipment{TrackingID: "x"}, wims.EINVALID)
		mustRefuse(t, s, "o-1", wims.Shipment{Carrier: "UPS"}, wims.EINVALID)
		mustRefuse(t, s, "o-1", wims.Shipment{Carrier: "UPS", TrackingID: strings.Repeat("x", wims.MaxTrackingIDLength+1)},
			wims.EINVALID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.ShipOrder(t.Context(), "nope", ups)
		mustCode(t, err, wims.ENOTFOUND)
	})
	t.Run("RaceWithCancel", func(t *testing.T) {
		// A shipment and a cancel of the same PAID order at once: exactly
		// one wins; the stock is held either way (SHIPPED or REFUND_PENDING).
		t.Parallel()
		s := paid(t)
		var wg sync.WaitGroup
		var shipErr, cancelErr error
		wg.Go(func() { _, shipErr = s.ShipOrder(t.Context(), "o-1", ups) })
		wg.Go(func() { _, cancelErr = s.CancelOrder(t.Context(), "o-1") })
		wg.Wait()
		o, _ := s.GetOrder(t.Context(), "o-1")
		switch o.Status {
		case wims.OrderShipped:
			if shipErr != nil || wims.ErrorCode(cancelErr) != wims.ECONFLICT {
				t.Fatalf("shipped: ship %v, cancel %v", shipErr, cancelErr)
			}
		case wims.OrderRefundPending:
			if cancelErr != nil || wims.ErrorCode(shipErr) != wims.ECONFLICT {
				t.Fatalf("refund pending: ship %v, cancel %v", shipErr, cancelErr)
			}
		default:
			t.Fatalf("status %s", o.Status)
		}
		mustQuantity(t, s, sku, 7)
		checkLog(t, allChanges(t, s))
	})
}
