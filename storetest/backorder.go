package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/wims/wims"
)

// testBackorders covers items that allow backorders: an order beyond the
// stock waits as BACKORDERED (and so does any order behind one), restocks
// and released stock fill the waiting orders strictly first-come
// first-served in their own transaction, cancelling a waiting order moves
// the queue, and conservation holds with restocks racing new orders.
func testBackorders(t *testing.T, open func(t *testing.T) wims.Store) {
	// backorderable stores sku with quantity q, allowing backorders.
	backorderable := func(t *testing.T, q int64) wims.Store {
		t.Helper()
		s := open(t)
		it := newItem(sku, q)
		it.AllowBackorder = true
		if got, err := s.PutItem(t.Context(), it); err != nil || !got.AllowBackorder {
			t.Fatalf("PutItem = %+v, %v", got, err)
		}
		if got, _ := s.GetItem(t.Context(), sku); !got.AllowBackorder {
			t.Fatalf("GetItem lost allowBackorder: %+v", got)
		}
		return s
	}
	// place creates and reserves an order, as the workflow does.
	place := func(t *testing.T, s wims.Store, id string, q int64) wims.Order {
		t.Helper()
		mustCreateOrder(t, s, id, sku, q)
		o, err := s.ReserveStock(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	mustStatuses := func(t *testing.T, s wims.Store, want map[string]wims.OrderStatus) {
		t.Helper()
		for id, st := range want {
			o, err := s.GetOrder(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != st {
				t.Fatalf("%s is %s (%q), want %s", id, o.Status, o.Reason, st)
			}
		}
	}
	adjust := func(t *testing.T, s wims.Store, delta int64) wims.Item {
		t.Helper()
		it, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: delta, Reason: "restock"})
		if err != nil {
			t.Fatal(err)
		}
		return it
	}

	t.Run("StrictFIFO", func(t *testing.T) {
		t.Parallel()
		s := backorderable(t, 5)
		if o := place(t, s, "o-1", 3); o.Status != wims.OrderReserved {
			t.Fatalf("o-1 %+v", o)
		}
		o := place(t, s, "o-2", 4)
		if o.Status != wims.OrderBackordered || o.Reason != "waiting for stock: requested 4, available 2" || o.HoldsStock() {
			t.Fatalf("o-2 %+v, want BACKORDERED holding nothing", o)
		}
		// o-3 would fit the 2 on hand, but o-2 came first.
		if o := place(t, s, "o-3", 2); o.Status != wims.OrderBackordered || !strings.Contains(o.Reason, "behind earlier backorders") {
			t.Fatalf("o-3 %+v, want it queued behind o-2", o)
		}
		place(t, s, "o-4", 1)
		mustQuantity(t, s, sku, 2)

		// +3 = 5: o-2 (4) fits; o-3 (2) does not fit the 1 left, and o-4
		// (1), which would, waits behind it.
		seq := lastSeq(t, s)
		if it := adjust(t, s, 3); it.Quantity != 1 {
			t.Fatalf("after the restock: %+v, want 1 left", it)
		}
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-2": wims.OrderReserved, "o-3": wims.OrderBackordered,
			"o-4": wims.OrderBackordered})
		var tables []string
		for _, c := range changesAfter(t, s, seq) {
			checkChange(t, c)
			tables = append(tables, c.Table)
			if c.Table == wims.TableInventory {
				if o, n := decode[wims.Item](t, c.OldImage), decode[wims.Item](t, c.NewImage); o.Quantity != 2 || n.Quantity != 1 {
					t.Fatalf("inventory change %d → %d, want one change 2 → 1", o.Quantity, n.Quantity)
				}
			}
		}
		if fmt.Sprint(tables) != "[orders inventory]" {
			t.Fatalf("changes %v, want the fill and one inventory change", tables)
		}
		if r, _ := s.GetOrder(t.Context(), "o-2"); r.Reason != "" || !r.HoldsStock() {
			t.Fatalf("filled order %+v", r)
		}
		// A PUT raising the quantity is a restock too: 1 → 4 fills o-3 and o-4.
		it := newItem(sku, 4)
		it.AllowBackorder = true
		got, err := s.PutItem(t.Context(), it)
		if err != nil || got.Quantity != 1 {
			t.Fatalf("PutItem = %+v, %v; want 1 left", got, err)
		}
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-3": wims.OrderReserved, "o-4": wims.OrderReserved})
		mustQuantity(t, s, sku, 1)
		// The queue is empty: a new order that fits is reserved at once.
		if o := place(t, s, "o-5", 1); o.Status != wims.OrderReserved {
			t.Fatalf("o-5 %+v", o)
		}
		if got := listAll(t, s, wims.OrderFilter{Status: wims.OrderBackordered}); len(got) != 0 {
			t.Fatalf("backorders left: %v", ids(got))
		}
	})
	t.Run("CancelMovesTheQueue", func(t *testing.T) {
		t.Parallel()
		s := backorderable(t, 0)
		place(t, s, "o-1", 5)
		place(t, s, "o-2", 1)
		adjust(t, s, 3) // o-1 (5) does not fit: nothing filled
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-1": wims.OrderBackordered, "o-2": wims.OrderBackordered})
		mustQuantity(t, s, sku, 3)
		o, err := s.CancelOrder(t.Context(), "o-1")
		if err != nil || o.Status != wims.OrderCancelled {
			t.Fatalf("cancel = %+v, %v", o, err)
		}
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-2": wims.OrderReserved})
		mustQuantity(t, s, sku, 2)
		// Cancelling again changes nothing; the cancelled order is never filled.
		seq := lastSeq(t, s)
		if _, err := s.CancelOrder(t.Context(), "o-1"); err != nil {
			t.Fatal(err)
		}
		mustNoChangesAfter(t, s, seq)
		adjust(t, s, 10)
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-1": wims.OrderCancelled})
		mustQuantity(t, s, sku, 12)
	})
	t.Run("ReleasedStockFills", func(t *testing.T) {
		t.Parallel()
		s := backorderable(t, 3)
		place(t, s, "o-1", 3)
		place(t, s, "o-2", 2)
		// o-1's payment is declined: its 3 go back, and o-2 takes 2 of them.
		if o, err := s.CompletePayment(t.Context(), "o-1", false, "declined"); err != nil || o.Status != wims.OrderPaymentFailed {
			t.Fatalf("decline = %+v, %v", o, err)
		}
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-2": wims.OrderReserved})
		mustQuantity(t, s, sku, 1)
	})
	t.Run("NotAllowed", func(t *testing.T) {
		// Without allowBackorder an order beyond the stock is REJECTED, as
		// always, and turning it off keeps the waiting orders waiting for
		// the next restock.
		t.Parallel()
		s := backorderable(t, 1)
		place(t, s, "o-1", 2)
		mustPutItem(t, s, sku, 1) // allowBackorder off, quantity unchanged
		if o := place(t, s, "o-2", 5); o.Status != wims.OrderRejected {
			t.Fatalf("o-2 %+v, want REJECTED", o)
		}
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-1": wims.OrderBackordered})
		adjust(t, s, 1)
		mustStatuses(t, s, map[string]wims.OrderStatus{"o-1": wims.OrderReserved})
		mustQuantity(t, s, sku, 0)
	})
	t.Run("RestocksRacingOrders", func(t *testing.T) {
		// Orders, restocks and cancels of backorders at once: stock is
		// conserved, and nothing that fits waits at the head of the queue.
		t.Parallel()
		s := backorderable(t, 0)
		const workers, each = 8, 12
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			restocks int64
			ids      []string
		)
		errs := make(chan error, workers*each)
		for g := range workers {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(g), 13))
				for i := range each {
					id := fmt.Sprintf("o-%d-%d", g, i)
					switch n := r.IntN(4); {
					case n < 2:
						if _, _, err := s.CreateOrder(t.Context(), newOrder(id, sku, 1+r.Int64N(4))); err != nil {
							errs <- err
							continue
						}
						mu.Lock()
						ids = append(ids, id)
						mu.Unlock()
						if _, err := s.ReserveStock(t.Context(), id); err != nil {
							errs <- err
						}
					case n < 3:
						d := 1 + r.Int64N(5)
						if _, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: d}); err != nil {
							errs <- err
							continue
						}
						mu.Lock()
						restocks += d
						mu.Unlock()
					default:
						mu.Lock()
						var victim string
						if len(ids) > 0 {
							victim = ids[r.IntN(len(ids))]
						}
						mu.Unlock()
						if victim != "" {
							if _, err := s.CancelOrder(t.Context(), victim); err != nil && wims.ErrorCode(err) != wims.ECONFLICT {
								errs <- err
							}
						}
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		var held int64
		for _, id := range ids {
			o, err := s.GetOrder(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if o.HoldsStock() {
				held += o.Quantity
			}
		}
		it, _ := s.GetItem(t.Context(), sku)
		if it.Quantity != restocks-held || it.Quantity < 0 {
			t.Fatalf("quantity %d, want restocks %d - held %d", it.Quantity, restocks, held)
		}
		waiting := listAll(t, s, wims.OrderFilter{Status: wims.OrderBackordered})
		if len(waiting) > 0 {
			head := waiting[len(waiting)-1] // listAll is newest first
			if head.Quantity <= it.Quantity {
				t.Fatalf("head backorder %s wants %d while %d are on hand", head.ID, head.Quantity, it.Quantity)
			}
		}
		t.Logf("%d orders, %d restocked, %d held, %d waiting", len(ids), restocks, held, len(waiting))
		checkLog(t, allChanges(t, s))
	})
}
