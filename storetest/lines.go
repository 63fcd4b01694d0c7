package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/wims/wims"
)

// testLines covers orders with several lines: what is stored and returned,
// the field errors, a reservation of all lines or none, releases that put
// every line back, a short line rejecting unless its item allows
// backorders (testLinesBackorders covers those), and two kinds of multi-line
// orders over the same SKUs in opposite line order racing each other
// without a deadlock and with stock conserved.
func testLines(t *testing.T, open func(t *testing.T) wims.Store) {
	// linesOrder is a new multi-line order; lines alternate SKU, quantity.
	linesOrder := func(id string, lines ...any) wims.Order {
		o := wims.Order{ID: id, CustomerID: "customer-1"}
		for i := 0; i < len(lines); i += 2 {
			o.Lines = append(o.Lines, wims.OrderLine{SKU: lines[i].(string), Quantity: int64(lines[i+1].(int))})
		}
		return o
	}
	// stocked is a store with items A, B and C of the given quantities.
	stocked := func(t *testing.T, a, b, c int64) wims.Store {
		t.Helper()
		s := open(t)
		mustPutItem(t, s, "A", a)
		mustPutItem(t, s, "B", b)
		mustPutItem(t, s, "C", c)
		return s
	}
	create := func(t *testing.T, s wims.Store, o wims.Order) wims.Order {
		t.Helper()
		got, created, err := s.CreateOrder(t.Context(), o)
		if err != nil || !created {
			t.Fatalf("CreateOrder(%s) = %+v, %v, %v", o.ID, got, created, err)
		}
		return got
	}
	reserve := func(t *testing.T, s wims.Store, id string) wims.Order {
		t.Helper()
		o, err := s.ReserveStock(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	quantities := func(t *testing.T, s wims.Store, a, b, c int64) {
		t.Helper()
		mustQuantity(t, s, "A", a)
		mustQuantity(t, s, "B", b)
		mustQuantity(t, s, "C", c)
	}

	t.Run("Create", func(t *testing.T) {
		t.Parallel()
		s := stocked(t, 10, 10, 10)
		o := create(t, s, linesOrder("o-1", "B", 2, "A", 3))
		want := []wims.OrderLine{{SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 3}}
		if !slices.Equal(o.Lines, want) || o.SKU != "B" || o.Quantity != 5 || o.Status != wims.OrderPending {
			t.Fatalf("created %+v, want lines %v in their order, sku B, quantity 5", o, want)
		}
		if got, err := s.GetOrder(t.Context(), "o-1"); err != nil || !got.Equal(o) {
			t.Fatalf("GetOrder = %+v, %v, want %+v", got, err, o)
		}
		if page, err := s.ListOrders(t.Context(), wims.OrderFilter{}); err != nil || len(page.Orders) != 1 || !page.Orders[0].Equal(o) {
			t.Fatalf("ListOrders = %+v, %v", page, err)
		}
		// A one-line order has its line too.
		one := mustCreateOrder(t, s, "o-2", "C", 4)
		if !slices.Equal(one.Lines, []wims.OrderLine{{SKU: "C", Quantity: 4}}) {
			t.Fatalf("one-line order %+v", one)
		}
		// The same id again returns the stored order, whatever it asks for.
		if again, created, err := s.CreateOrder(t.Context(), linesOrder("o-1", "C", 1, "A", 1)); err != nil || created || !again.Equal(o) {
			t.Fatalf("CreateOrder again = %+v, %v, %v", again, created, err)
		}
		// The change image carries the lines.
		var logged wims.Order
		for _, c := range allChanges(t, s) {
			if c.Table == wims.TableOrders {
				if o := decode[wims.Order](t, c.NewImage); o.ID == "o-1" {
					logged = o
				}
			}
		}
		if !slices.Equal(logged.Lines, want) {
			t.Fatalf("logged image %+v, want lines %v", logged, want)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		s := stocked(t, 10, 10, 10)
		for _, c := range []struct {
			o     wims.Order
			field string
		}{
			{linesOrder("e-1", "A", 1, "NOPE", 1), "lines[1].sku"},
			{linesOrder("e-2", "NOPE", 1, "A", 1), "lines[0].sku"},
			{linesOrder("e-3", "A", 1, "B", 1, "A", 2), "lines[2].sku"},
			{linesOrder("e-4", "A", 1, "B", 0), "lines[1].quantity"},
			{linesOrder("e-5", "A", 1, "bad sku", 1), "lines[1].sku"},
		} {
			_, _, err := s.CreateOrder(t.Context(), c.o)
			mustField(t, err, c.field)
			if _, err := s.GetOrder(t.Context(), c.o.ID); wims.ErrorCode(err) != wims.ENOTFOUND {
				t.Fatalf("%s stored after %v", c.o.ID, err)
			}
		}
		many := wims.Order{ID: "e-6", CustomerID: "c"}
		for i := range wims.MaxOrderLines + 1 {
			many.Lines = append(many.Lines, wims.OrderLine{SKU: fmt.Sprintf("S-%d", i), Quantity: 1})
		}
		_, _, err := s.CreateOrder(t.Context(), many)
		mustField(t, err, "lines")
	})

	t.Run("AllOrNothing", func(t *testing.T) {
		t.Parallel()
		s := stocked(t, 5, 1, 9)
		create(t, s, linesOrder("o-1", "A", 3, "B", 2, "C", 1))
		seq := lastSeq(t, s)
		o := reserve(t, s, "o-1")
		if o.Status != wims.OrderRejected || o.Reason != "insufficient stock of B: requested 2, available 1" {
			t.Fatalf("reserve %+v, want REJECTED naming B", o)
		}
		quantities(t, s, 5, 1, 9)
		for _, c := range changesAfter(t, s, seq) {
			if c.Table == wims.TableInventory {
				t.Fatalf("a rejected order logged a stock change: %+v", c)
			}
		}
		create(t, s, linesOrder("o-2", "C", 4, "B", 1, "A", 5))
		if o := reserve(t, s, "o-2"); o.Status != wims.OrderReserved || !o.HoldsStock() {
			t.Fatalf("reserve %+v, want RESERVED", o)
		}
		quantities(t, s, 0, 0, 5)
		// A redelivered request changes nothing.
		if o := reserve(t, s, "o-2"); o.Status != wims.OrderReserved {
			t.Fatalf("reserve again %+v", o)
		}
		quantities(t, s, 0, 0, 5)
	})

	t.Run("Releases", func(t *testing.T) {
		t.Parallel()
		s := stocked(t, 10, 10, 10)
		lines := []any{"A", 1, "C", 3, "B", 2}
		for _, id := range []string{"cancel", "declined", "refund"} {
			create(t, s, linesOrder(id, lines...))
			reserve(t, s, id)
		}
		quantities(t, s, 7, 4, 1)
		if o, err := s.CancelOrder(t.Context(), "cancel"); err != nil || o.Status != wims.OrderCancelled {
			t.Fatalf("cancel %+v, %v", o, err)
		}
		quantities(t, s, 8, 6, 4)
		if o, err := s.CompletePayment(t.Context(), "declined", false, "card declined"); err != nil || o.Status != wims.OrderPaymentFailed {
			t.Fatalf("decline %+v, %v", o, err)
		}
		quantities(t, s, 9, 8, 7)
		if _, err := s.CompletePayment(t.Context(), "refund", true, ""); err != nil {
			t.Fatal(err)
		}
		if o, err := s.CancelOrder(t.Context(), "refund"); err != nil || o.Status != wims.OrderRefundPending {
			t.Fatalf("cancel PAID %+v, %v", o, err)
		}
		quantities(t, s, 9, 8, 7) // held until the refund succeeds
		if o, err := s.CompleteRefund(t.Context(), "refund"); err != nil || o.Status != wims.OrderRefunded {
			t.Fatalf("refund %+v, %v", o, err)
		}
		quantities(t, s, 10, 10, 10)
	})

	t.Run("ShortLineRejected", func(t *testing.T) {
		t.Parallel()
		s := stocked(t, 5, 5, 5)
		it := newItem("A", 1)
		it.AllowBackorder = true
		if _, err := s.PutItem(t.Context(), it); err != nil {
			t.Fatal(err)
		}
		// B is short and does not allow backorders: REJECTED, although A,
		// short too, would let the order wait.
		create(t, s, linesOrder("o-1", "B", 6, "A", 2))
		if o := reserve(t, s, "o-1"); o.Status != wims.OrderRejected || o.Reason != "insufficient stock of B: requested 6, available 5" {
			t.Fatalf("reserve %+v, want REJECTED naming B", o)
		}
		// Only A is short, and it allows backorders: the order waits
		// (testLinesBackorders has the rest).
		create(t, s, linesOrder("o-2", "B", 1, "A", 2))
		if o := reserve(t, s, "o-2"); o.Status != wims.OrderBackordered || o.Reason != "waiting for stock of A: requested 2, available 1" {
			t.Fatalf("reserve %+v, want BACKORDERED on A", o)
		}
		quantities(t, s, 1, 5, 5)
	})

	t.Run("OppositeOrder", func(t *testing.T) {
		t.Parallel()
		const (
			initial    = 200
			goroutines = 6
			each       = 30
		)
		s := stocked(t, initial, initial, initial)
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for g := range goroutines {
			wg.Go(func() {
				lines := []any{"A", 1, "B", 2, "C", 3}
				if g%2 == 1 {
					lines = []any{"C", 3, "B", 2, "A", 1}
				}
				for i := range each {
					id := fmt.Sprintf("o-%d-%d", g, i)
					if _, _, err := s.CreateOrder(t.Context(), linesOrder(id, lines...)); err != nil {
						errs <- err
						return
					}
					o, err := s.ReserveStock(t.Context(), id)
					if err == nil && o.Status == wims.OrderReserved && i%3 == 0 {
						_, err = s.CancelOrder(t.Context(), id)
					} else if err == nil && o.Status == wims.OrderReserved && i%3 == 1 {
						_, err = s.CompletePayment(t.Context(), id, false, "declined")
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %w", id, err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		held := map[string]int64{}
		for g := range goroutines {
			for i := range each {
				o, err := s.GetOrder(t.Context(), fmt.Sprintf("o-%d-%d", g, i))
				if err != nil {
					t.Fatal(err)
				}
				if o.HoldsStock() {
					for _, l := range o.Lines {
						held[l.SKU] += l.Quantity
					}
				}
			}
		}
		if held["A"] == 0 {
			t.Fatal("no order holds stock")
		}
		quantities(t, s, initial-held["A"], initial-held["B"], initial-held["C"])
	})
}
