package storetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wims/wims"
)

// testConcurrency checks the stock guarantees under concurrent writers: no
// overselling, and conservation of stock across a random mix of operations.
func testConcurrency(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("NoOversell", func(t *testing.T) {
		t.Parallel()
		testNoOversell(t, open(t))
	})
	t.Run("Conservation", func(t *testing.T) {
		t.Parallel()
		testConservation(t, open(t))
	})
}

// testNoOversell races 1,000 one-unit orders for 100 units from 50
// goroutines: exactly 100 must be reserved, 900 rejected, and stock must end
// at 0 without ever going negative.
func testNoOversell(t *testing.T, s wims.Store) {
	const (
		stock      = 100
		orders     = 1000
		goroutines = 50
	)
	mustPutItem(t, s, sku, stock)

	var (
		wg                 sync.WaitGroup
		reserved, rejected atomic.Int64
		errs               = make(chan error, goroutines)
	)
	for g := range goroutines {
		wg.Go(func() {
			for i := range orders / goroutines {
				id := fmt.Sprintf("o-%d-%d", g, i)
				if _, _, err := s.CreateOrder(t.Context(), newOrder(id, sku, 1)); err != nil {
					errs <- err
					return
				}
				o, err := s.ReserveStock(t.Context(), id)
				if err != nil {
					errs <- err
					return
				}
				switch o.Status {
				case wims.OrderReserved:
					reserved.Add(1)
				case wims.OrderRejected:
					rejected.Add(1)
				default:
					errs <- fmt.Errorf("order %s is %s after ReserveStock", id, o.Status)
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
	if reserved.Load() != stock || rejected.Load() != orders-stock {
		t.Fatalf("reserved %d rejected %d, want %d and %d", reserved.Load(), rejected.Load(), stock, orders-stock)
	}
	mustQuantity(t, s, sku, 0)

	// The change log shows every intermediate quantity: none is negative, and
	// each reservation took exactly one unit.
	cs := allChanges(t, s)
	checkLog(t, cs)
	var stockUpdates, orderUpdates int
	for _, c := range cs {
		switch {
		case c.Table == wims.TableInventory && c.EventType == wims.ChangeUpdate:
			stockUpdates++
			old, new := decode[wims.Item](t, c.OldImage), decode[wims.Item](t, c.NewImage)
			if new.Quantity < 0 || old.Quantity-new.Quantity != 1 {
				t.Fatalf("seq %d: quantity %d → %d", c.Seq, old.Quantity, new.Quantity)
			}
		case c.Table == wims.TableOrders && c.EventType == wims.ChangeUpdate:
			orderUpdates++
		}
	}
	if stockUpdates != stock || orderUpdates != orders {
		t.Fatalf("%d inventory and %d order updates logged, want %d and %d", stockUpdates, orderUpdates, stock, orders)
	}
}

// testConservation runs a random concurrent mix of creates, reservations,
// payments (paid and failed), cancels, refunds (also late charges after a
// cancel) and adjustments, then checks for every SKU that initial +
// adjustments − Σ(quantity of the lines of the orders holding stock:
// RESERVED, PAID and REFUND_PENDING unless released at its cancel; a third
// of the orders have a line of every SKU) equals the quantity on hand, that no logged quantity was ever negative, and that the
// change log's last images agree with the rows.
func testConservation(t *testing.T, s wims.Store) {
	const (
		initial    = 300
		goroutines = 8
		opsEach    = 120
	)
	skus := []string{"SKU-A", "SKU-B"}
	for _, k := range skus {
		mustPutItem(t, s, k, initial)
	}

	var (
		mu     sync.Mutex
		adjust = map[string]int64{} // successful adjustment deltas per SKU
		ids    []string             // orders created so far
	)
	pick := func(r *rand.Rand) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 {
			return "", false
		}
		return ids[r.IntN(len(ids))], true
	}
	seed := rand.Uint64()
	t.Logf("seed %d", seed)

	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := range opsEach {
				if err := randomOp(t, s, r, g, i, skus, pick, func(id string) {
					mu.Lock()
					ids = append(ids, id)
					mu.Unlock()
				}, func(sku string, delta int64) {
					mu.Lock()
					adjust[sku] += delta
					mu.Unlock()
				}); err != nil {
					errs <- err
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
	statuses := map[wims.OrderStatus]int{}
	for _, id := range ids {
		o, err := s.GetOrder(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		statuses[o.Status]++
		if o.HoldsStock() {
			for _, l := range o.Lines {
				held[l.SKU] += l.Quantity
			}
		}
	}
	t.Logf("%d orders: %v; adjustments %v", len(ids), statuses, adjust)
	for _, k := range skus {
		it, err := s.GetItem(t.Context(), k)
		if err != nil {
			t.Fatal(err)
		}
		if want := initial + adjust[k] - held[k]; it.Quantity != want || it.Quantity < 0 {
			t.Fatalf("%s: quantity %d, want initial %d + adjustments %d - held %d = %d",
				k, it.Quantity, initial, adjust[k], held[k], want)
		}
	}

	// Replaying the log's images reproduces the final rows.
	cs := allChanges(t, s)
	checkLog(t, cs)
	lastItem := map[string]wims.Item{}
	lastOrder := map[string]wims.Order{}
	for _, c := range cs {
		switch c.Table {
		case wims.TableInventory:
			it := decode[wims.Item](t, c.NewImage)
			if it.Quantity < 0 {
				t.Fatalf("seq %d: logged quantity %d", c.Seq, it.Quantity)
			}
			lastItem[it.SKU] = it
		case wims.TableOrders:
			o := decode[wims.Order](t, c.NewImage)
			lastOrder[o.ID] = o
		}
	}
	for _, k := range skus {
		it, _ := s.GetItem(t.Context(), k)
		if lastItem[k] != it {
			t.Fatalf("%s: last logged image %+v, row %+v", k, lastItem[k], it)
		}
	}
	for _, id := range ids {
		o, _ := s.GetOrder(t.Context(), id)
		if !lastOrder[id].Equal(o) {
			t.Fatalf("order %s: last logged image %+v, row %+v", id, lastOrder[id], o)
		}
	}
}

// randomOp performs one random operation and reports only unexpected errors.
func randomOp(t *testing.T, s wims.Store, r *rand.Rand, g, i int, skus []string,
	pick func(*rand.Rand) (string, bool), created func(string), adjusted func(string, int64)) error {
	ctx := t.Context()
	switch n := r.IntN(13); {
	case n < 4: // create, and usually reserve at once like the workflow would
		id := fmt.Sprintf("o-%d-%d", g, i)
		k := skus[r.IntN(len(skus))]
		o := newOrder(id, k, 1+r.Int64N(20))
		if r.IntN(3) == 0 { // a multi-line order over every SKU, in a random line order
			o.SKU, o.Quantity = "", 0
			for _, j := range r.Perm(len(skus)) {
				o.Lines = append(o.Lines, wims.OrderLine{SKU: skus[j], Quantity: 1 + r.Int64N(10)})
			}
		}
		if _, _, err := s.CreateOrder(ctx, o); err != nil {
			return fmt.Errorf("create %s: %w", id, err)
		}
		created(id)
		if r.IntN(2) == 0 {
			if _, err := s.ReserveStock(ctx, id); err != nil {
				return fmt.Errorf("reserve %s: %w", id, err)
			}
		}
	case n < 6:
		if id, ok := pick(r); ok {
			if _, err := s.ReserveStock(ctx, id); err != nil {
				return fmt.Errorf("reserve %s: %w", id, err)
			}
		}
	case n < 8:
		if id, ok := pick(r); ok {
			if _, err := s.CompletePayment(ctx, id, r.IntN(3) > 0, "declined"); err != nil {
				return fmt.Errorf("complete %s: %w", id, err)
			}
		}
	case n < 9: // a cancel: of a PENDING, RESERVED or PAID order, or refused
		if id, ok := pick(r); ok {
			if _, err := s.CancelOrder(ctx, id); err != nil && wims.ErrorCode(err) != wims.ECONFLICT {
				return fmt.Errorf("cancel %s: %w", id, err)
			}
		}
	case n < 10: // the refund's answer; also late for orders cancelled while RESERVED
		if id, ok := pick(r); ok {
			if _, err := s.CompleteRefund(ctx, id); err != nil {
				return fmt.Errorf("refund %s: %w", id, err)
			}
		}
	case n < 11: // a shipment: of a PAID order, or refused
		if id, ok := pick(r); ok {
			_, err := s.ShipOrder(ctx, id, wims.Shipment{Carrier: "UPS", TrackingID: "1Z-" + id})
			if err != nil && wims.ErrorCode(err) != wims.ECONFLICT {
				return fmt.Errorf("ship %s: %w", id, err)
			}
		}
	default:
		k := skus[r.IntN(len(skus))]
		delta := r.Int64N(61) - 40 // mostly write-offs, so stock runs low
		if delta == 0 {
			delta = 1
		}
		_, err := s.AdjustStock(ctx, k, wims.Adjustment{Delta: delta, Reason: "random"})
		switch wims.ErrorCode(err) {
		case "":
			adjusted(k, delta)
		case wims.EINSUFFICIENT:
		default:
			return fmt.Errorf("adjust %s by %d: %w", k, delta, err)
		}
	}
	return nil
}
