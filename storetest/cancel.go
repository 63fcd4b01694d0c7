package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/wims/wims"
)

// testCancel covers CancelOrder and CompleteRefund: what each status becomes,
// where the stock goes, that repeating either changes nothing, and the races
// of a cancel with the workflow (ReserveStock) and with a charge in flight
// (CompletePayment after the cancel).
func testCancel(t *testing.T, open func(t *testing.T) wims.Store) {
	// setup stores 10 of sku and an order for 3 of it, moved on by steps.
	setup := func(t *testing.T, steps ...func(s wims.Store, id string) (wims.Order, error)) wims.Store {
		t.Helper()
		s := open(t)
		mustPutItem(t, s, sku, 10)
		mustCreateOrder(t, s, "o-1", sku, 3)
		for _, step := range steps {
			if _, err := step(s, "o-1"); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	reserve := func(s wims.Store, id string) (wims.Order, error) { return s.ReserveStock(t.Context(), id) }
	pay := func(s wims.Store, id string) (wims.Order, error) { return s.CompletePayment(t.Context(), id, true, "") }
	decline := func(s wims.Store, id string) (wims.Order, error) {
		return s.CompletePayment(t.Context(), id, false, "declined: 402")
	}
	cancel := func(s wims.Store, id string) (wims.Order, error) { return s.CancelOrder(t.Context(), id) }
	refund := func(s wims.Store, id string) (wims.Order, error) { return s.CompleteRefund(t.Context(), id) }
	mustStatus := func(t *testing.T, o wims.Order, want wims.OrderStatus) {
		t.Helper()
		if o.Status != want {
			t.Fatalf("status %s (reason %q), want %s", o.Status, o.Reason, want)
		}
	}
	// mustLogged fails unless the changes after seq are exactly tables, in order.
	mustLogged := func(t *testing.T, s wims.Store, seq int64, tables ...string) {
		t.Helper()
		var got []string
		for _, c := range changesAfter(t, s, seq) {
			checkChange(t, c)
			got = append(got, c.Table)
		}
		if fmt.Sprint(got) != fmt.Sprint(tables) {
			t.Fatalf("changes %v, want %v", got, tables)
		}
	}

	t.Run("Pending", func(t *testing.T) {
		t.Parallel()
		s := setup(t)
		seq := lastSeq(t, s)
		o, err := s.CancelOrder(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderCancelled)
		mustLogged(t, s, seq, wims.TableOrders)
		// The workflow arriving late reserves nothing.
		seq = lastSeq(t, s)
		if o, err = s.ReserveStock(t.Context(), "o-1"); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderCancelled)
		mustQuantity(t, s, sku, 10)
		mustNoChangesAfter(t, s, seq)
	})
	t.Run("Reserved", func(t *testing.T) {
		t.Parallel()
		s := setup(t, reserve)
		mustQuantity(t, s, sku, 7)
		seq := lastSeq(t, s)
		o, err := s.CancelOrder(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderCancelled)
		if o.StockReleased || o.HoldsStock() {
			t.Fatalf("cancelled order %+v holds stock", o)
		}
		mustQuantity(t, s, sku, 10)
		mustLogged(t, s, seq, wims.TableInventory, wims.TableOrders)
		read, err := s.GetOrder(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if !read.Equal(o) {
			t.Fatalf("GetOrder = %+v, want %+v", read, o)
		}
		h, err := s.OrderHistory(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if got := h[len(h)-1].Status; len(h) != 3 || got != wims.OrderCancelled {
			t.Fatalf("history %+v, want PENDING, RESERVED, CANCELLED", h)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		t.Parallel()
		s := setup(t, reserve, cancel)
		first, _ := s.GetOrder(t.Context(), "o-1")
		seq := lastSeq(t, s)
		again, err := s.CancelOrder(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if !again.Equal(first) {
			t.Fatalf("second cancel = %+v, want %+v", again, first)
		}
		mustQuantity(t, s, sku, 10) // released once
		mustNoChangesAfter(t, s, seq)
	})
	t.Run("PaidThenRefunded", func(t *testing.T) {
		t.Parallel()
		s := setup(t, reserve, pay)
		seq := lastSeq(t, s)
		o, err := s.CancelOrder(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderRefundPending)
		if o.Reason != wims.ReasonCancelledAfterPayment || o.StockReleased || !o.HoldsStock() {
			t.Fatalf("refund-pending order %+v: want it to hold its stock until the refund", o)
		}
		mustQuantity(t, s, sku, 7)
		mustLogged(t, s, seq, wims.TableOrders)

		seq = lastSeq(t, s)
		if o, err = s.CompleteRefund(t.Context(), "o-1"); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderRefunded)
		mustQuantity(t, s, sku, 10)
		mustLogged(t, s, seq, wims.TableInventory, wims.TableOrders)

		seq = lastSeq(t, s)
		for _, step := range []func(wims.Store, string) (wims.Order, error){refund, pay, reserve} {
			if o, err = step(s, "o-1"); err != nil {
				t.Fatal(err)
			}
			mustStatus(t, o, wims.OrderRefunded)
		}
		mustQuantity(t, s, sku, 10)
		mustNoChangesAfter(t, s, seq)
	})
	t.Run("ChargeSucceedsAfterCancel", func(t *testing.T) {
		t.Parallel()
		s := setup(t, reserve, cancel)
		mustQuantity(t, s, sku, 10)
		// A declined or failed charge answering late changes nothing.
		seq := lastSeq(t, s)
		o, err := decline(s, "o-1")
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderCancelled)
		mustNoChangesAfter(t, s, seq)
		// A charge that went through owes the money back, not the stock.
		if o, err = pay(s, "o-1"); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderRefundPending)
		if !o.StockReleased || o.HoldsStock() || o.Reason != wims.ReasonChargedAfterCancel {
			t.Fatalf("late-charged order %+v: want stockReleased and reason %q", o, wims.ReasonChargedAfterCancel)
		}
		mustQuantity(t, s, sku, 10)
		mustLogged(t, s, seq, wims.TableOrders)
		// The answer redelivered: nothing more.
		seq = lastSeq(t, s)
		if o, err = pay(s, "o-1"); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderRefundPending)
		mustNoChangesAfter(t, s, seq)
		// The refund releases nothing: the stock went back at the cancel.
		if o, err = refund(s, "o-1"); err != nil {
			t.Fatal(err)
		}
		mustStatus(t, o, wims.OrderRefunded)
		mustQuantity(t, s, sku, 10)
		mustLogged(t, s, seq, wims.TableOrders)
	})
	t.Run("ErrConflict", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			steps []func(wims.Store, string) (wims.Order, error)
			want  wims.OrderStatus
		}{
			{"Rejected", nil, wims.OrderRejected},
			{"PaymentFailed", []func(wims.Store, string) (wims.Order, error){reserve, decline}, wims.OrderPaymentFailed},
			{"RefundPending", []func(wims.Store, string) (wims.Order, error){reserve, pay, cancel}, wims.OrderRefundPending},
			{"Refunded", []func(wims.Store, string) (wims.Order, error){reserve, pay, cancel, refund}, wims.OrderRefunded},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := setup(t, tc.steps...)
				id := "o-1"
				if tc.want == wims.OrderRejected { // more than the 10 on hand
					id = "o-big"
					mustCreateOrder(t, s, id, sku, 50)
					if _, err := s.ReserveStock(t.Context(), id); err != nil {
						t.Fatal(err)
					}
				}
				before, _ := s.GetOrder(t.Context(), id)
				mustStatus(t, before, tc.want)
				q, _ := s.GetItem(t.Context(), sku)
				seq := lastSeq(t, s)
				_, err := s.CancelOrder(t.Context(), id)
				mustCode(t, err, wims.ECONFLICT)
				after, _ := s.GetOrder(t.Context(), id)
				if !after.Equal(before) {
					t.Fatalf("a refused cancel changed %+v to %+v", before, after)
				}
				mustQuantity(t, s, sku, q.Quantity)
				mustNoChangesAfter(t, s, seq)
			})
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.CancelOrder(t.Context(), "nope")
		mustCode(t, err, wims.ENOTFOUND)
		_, err = s.CompleteRefund(t.Context(), "nope")
		mustCode(t, err, wims.ENOTFOUND)
	})
	t.Run("ListCancelled", func(t *testing.T) {
		t.Parallel()
		s := setup(t, reserve, cancel)
		for _, st := range []wims.OrderStatus{wims.OrderCancelled, wims.OrderRefundPending, wims.OrderRefunded} {
			got := listAll(t, s, wims.OrderFilter{Status: st})
			if want := st == wims.OrderCancelled; (len(got) == 1) != want {
				t.Fatalf("status %s lists %v", st, ids(got))
			}
		}
		counts, err := s.CountOrders(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if counts[wims.OrderCancelled] != 1 {
			t.Fatalf("counts %v, want 1 CANCELLED", counts)
		}
	})
	t.Run("RaceWithReserve", func(t *testing.T) {
		// Every order is cancelled while the workflow reserves it: whichever
		// comes first, the order ends CANCELLED and all stock is back.
		t.Parallel()
		s := open(t)
		const orders = 40
		mustPutItem(t, s, sku, 100)
		for i := range orders {
			mustCreateOrder(t, s, fmt.Sprintf("o-%d", i), sku, 2)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*orders)
		for i := range orders {
			id := fmt.Sprintf("o-%d", i)
			wg.Go(func() {
				if _, err := s.ReserveStock(t.Context(), id); err != nil {
					errs <- err
				}
			})
			wg.Go(func() {
				if o, err := s.CancelOrder(t.Context(), id); err != nil {
					errs <- err
				} else if o.Status != wims.OrderCancelled {
					errs <- fmt.Errorf("cancel %s: %s", id, o.Status)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for i := range orders {
			o, err := s.GetOrder(t.Context(), fmt.Sprintf("o-%d", i))
			if err != nil {
				t.Fatal(err)
			}
			mustStatus(t, o, wims.OrderCancelled)
		}
		mustQuantity(t, s, sku, 100)
		checkLog(t, allChanges(t, s))
	})
	t.Run("RaceWithItself", func(t *testing.T) {
		// Twenty cancels of one RESERVED order: all answer CANCELLED, the
		// stock goes back once.
		t.Parallel()
		s := setup(t, reserve)
		seq := lastSeq(t, s)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for range 20 {
			wg.Go(func() {
				if o, err := s.CancelOrder(t.Context(), "o-1"); err != nil {
					errs <- err
				} else if o.Status != wims.OrderCancelled {
					errs <- fmt.Errorf("cancel: %s", o.Status)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		mustQuantity(t, s, sku, 10)
		mustLogged(t, s, seq, wims.TableInventory, wims.TableOrders)
	})
}
