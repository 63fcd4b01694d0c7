package storetest

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wims/wims"
)

// testLinesBackorders covers multi-line orders found by any of their SKUs
// and multi-line orders that wait as BACKORDERED: held whole or not at all,
// filled only with all their lines, strictly first-come first-served in the
// queue of every one of their SKUs (against one-line backorders too),
// cancelled with the queues behind them filled, and stock conserved per
// SKU after every step and under concurrent restocks and cancels.
func testLinesBackorders(t *testing.T, open func(t *testing.T) wims.Store) {
	// lb is a store with its items' base stock (initial + restocks), for
	// the conservation check.
	type lb struct {
		s    wims.Store
		base map[string]int64
	}
	// stocked opens a store with items sku=quantity; a SKU ending in "*"
	// (stripped) allows backorders.
	stocked := func(t *testing.T, items ...any) *lb {
		t.Helper()
		st := &lb{s: open(t), base: map[string]int64{}}
		for i := 0; i < len(items); i += 2 {
			name, q := items[i].(string), int64(items[i+1].(int))
			it := newItem(strings.TrimSuffix(name, "*"), q)
			it.AllowBackorder = strings.HasSuffix(name, "*")
			if _, err := st.s.PutItem(t.Context(), it); err != nil {
				t.Fatal(err)
			}
			st.base[it.SKU] = q
		}
		return st
	}
	// order creates an order (lines alternate SKU, quantity) and reserves
	// it, as the workflow does.
	order := func(t *testing.T, st *lb, id string, lines ...any) wims.Order {
		t.Helper()
		o := wims.Order{ID: id, CustomerID: "customer-" + id}
		for i := 0; i < len(lines); i += 2 {
			o.Lines = append(o.Lines, wims.OrderLine{SKU: lines[i].(string), Quantity: int64(lines[i+1].(int))})
		}
		if _, created, err := st.s.CreateOrder(t.Context(), o); err != nil || !created {
			t.Fatalf("CreateOrder(%s): %v, created %v", id, err, created)
		}
		got, err := st.s.ReserveStock(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	restock := func(t *testing.T, st *lb, sku string, delta int64) wims.Item {
		t.Helper()
		it, err := st.s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: delta, Reason: "restock"})
		if err != nil {
			t.Fatal(err)
		}
		st.base[sku] += delta
		return it
	}
	// statuses checks orders' statuses, id=STATUS.
	statuses := func(t *testing.T, st *lb, want ...string) {
		t.Helper()
		for _, w := range want {
			id, status, _ := strings.Cut(w, "=")
			o, err := st.s.GetOrder(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if string(o.Status) != status {
				t.Fatalf("%s is %s (%q), want %s", id, o.Status, o.Reason, status)
			}
			if o.Status == wims.OrderBackordered && o.HoldsStock() {
				t.Fatalf("%s is BACKORDERED and holds stock", id)
			}
		}
	}
	// conserved checks DESIGN §5 per SKU: base − Σ held = quantity ≥ 0,
	// where held sums the lines of every order holding stock.
	conserved := func(t *testing.T, st *lb) {
		t.Helper()
		held := map[string]int64{}
		for _, o := range listAll(t, st.s, wims.OrderFilter{Limit: wims.MaxOrderLimit}) {
			if o.HoldsStock() {
				for _, l := range o.Lines {
					held[l.SKU] += l.Quantity
				}
			}
		}
		for sku, base := range st.base {
			it, err := st.s.GetItem(t.Context(), sku)
			if err != nil {
				t.Fatal(err)
			}
			if it.Quantity < 0 || it.Quantity != base-held[sku] {
				t.Fatalf("%s: quantity %d, want initial+restocks %d − held %d = %d", sku, it.Quantity, base, held[sku], base-held[sku])
			}
		}
	}
	quantities := func(t *testing.T, st *lb, want ...any) {
		t.Helper()
		for i := 0; i < len(want); i += 2 {
			mustQuantity(t, st.s, want[i].(string), int64(want[i+1].(int)))
		}
	}

	t.Run("FindByAnySKU", func(t *testing.T) {
		t.Parallel()
		st := stocked(t, "A", 100, "B", 100, "C", 100)
		order(t, st, "b-1", "B", 1)
		order(t, st, "m-1", "A", 1, "B", 2, "C", 3)
		order(t, st, "c-1", "C", 1)
		order(t, st, "m-2", "C", 1, "B", 1) // first line C
		order(t, st, "b-2", "B", 2)
		if _, err := st.s.CompletePayment(t.Context(), "m-1", true, ""); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f    wims.OrderFilter
			want string
		}{
			{wims.OrderFilter{SKU: "A"}, "[m-1]"},
			{wims.OrderFilter{SKU: "B"}, "[b-2 m-2 m-1 b-1]"},
			{wims.OrderFilter{SKU: "C"}, "[m-2 c-1 m-1]"},
			{wims.OrderFilter{SKU: "B", Status: wims.OrderPaid}, "[m-1]"},
			{wims.OrderFilter{SKU: "B", Status: wims.OrderReserved}, "[b-2 m-2 b-1]"},
			{wims.OrderFilter{SKU: "C", CustomerID: "customer-m-2"}, "[m-2]"},
			{wims.OrderFilter{SKU: "A", CustomerID: "customer-b-1"}, "[]"},
		} {
			// Every page size: the merge of the two ranges keeps the
			// listing's order and cursors.
			for _, limit := range []int{1, 2, 3, 50} {
				f := tc.f
				f.Limit = limit
				if got := fmt.Sprint(ids(listAll(t, st.s, f))); got != tc.want {
					t.Fatalf("ListOrders(%+v) = %s, want %s", f, got, tc.want)
				}
			}
		}
	})

	t.Run("WaitsWhole", func(t *testing.T) {
		t.Parallel()
		// A and B allow backorders; C does not, but has the stock.
		st := stocked(t, "A*", 1, "B*", 0, "C", 5)
		o := order(t, st, "m", "C", 1, "B", 1, "A", 2)
		if o.Status != wims.OrderBackordered || o.Reason != "waiting for stock of A: requested 2, available 1" {
			t.Fatalf("reserve %+v, want BACKORDERED on A", o)
		}
		quantities(t, st, "A", 1, "B", 0, "C", 5) // nothing taken
		conserved(t, st)

		// A restock of A alone is not enough: B is still short. Nothing
		// is taken and A keeps what it has.
		if it := restock(t, st, "A", 1); it.Quantity != 2 {
			t.Fatalf("restock A: %+v, want 2 on hand", it)
		}
		statuses(t, st, "m=BACKORDERED")
		conserved(t, st)

		// B arrives: the order is filled from A, B and C in the restock's
		// transaction, each item changed once.
		seq := lastSeq(t, st.s)
		if it := restock(t, st, "B", 3); it.Quantity != 2 {
			t.Fatalf("restock B: %+v, want 2 left", it)
		}
		statuses(t, st, "m=RESERVED")
		quantities(t, st, "A", 0, "B", 2, "C", 4)
		conserved(t, st)
		items := map[string]int{}
		for _, c := range changesAfter(t, st.s, seq) {
			checkChange(t, c)
			if c.Table == wims.TableInventory {
				items[decode[wims.Item](t, c.NewImage).SKU]++
			}
		}
		if fmt.Sprint(items) != "map[A:1 B:1 C:1]" {
			t.Fatalf("inventory changes per SKU %v, want one each", items)
		}
		if got, _ := st.s.GetOrder(t.Context(), "m"); got.Reason != "" {
			t.Fatalf("filled order %+v", got)
		}
		// On through payment like any reservation; a second restock
		// takes nothing more.
		if got, err := st.s.CompletePayment(t.Context(), "m", true, ""); err != nil || got.Status != wims.OrderPaid {
			t.Fatalf("pay %+v, %v", got, err)
		}
		restock(t, st, "A", 1)
		quantities(t, st, "A", 1, "B", 2, "C", 4)
		conserved(t, st)
	})

	t.Run("ShortLineOfNoBackorderItemWaits", func(t *testing.T) {
		t.Parallel()
		// C does not allow backorders but had the stock when the order
		// was placed; sold meanwhile, it must be restocked too.
		st := stocked(t, "A*", 0, "C", 1)
		order(t, st, "m", "A", 1, "C", 1)
		order(t, st, "c", "C", 1) // C takes no backorders: no queue to join
		statuses(t, st, "m=BACKORDERED", "c=RESERVED")
		restock(t, st, "A", 1)
		statuses(t, st, "m=BACKORDERED")
		restock(t, st, "C", 1)
		statuses(t, st, "m=RESERVED")
		quantities(t, st, "A", 0, "C", 0)
		conserved(t, st)
	})

	t.Run("FIFOWithOneLineOrders", func(t *testing.T) {
		t.Parallel()
		st := stocked(t, "A*", 0, "B", 10)
		order(t, st, "s-1", "A", 2)
		o := order(t, st, "m", "A", 1, "B", 1)
		if o.Status != wims.OrderBackordered || !strings.Contains(o.Reason, "of A: requested 1, behind earlier backorders") {
			t.Fatalf("m %+v, want it queued behind s-1", o)
		}
		order(t, st, "s-2", "A", 1)
		statuses(t, st, "s-1=BACKORDERED", "s-2=BACKORDERED")
		conserved(t, st)

		// 1 of A: m and s-2 would fit, but s-1 came first.
		restock(t, st, "A", 1)
		statuses(t, st, "s-1=BACKORDERED", "m=BACKORDERED", "s-2=BACKORDERED")
		conserved(t, st)
		// 3 of A: s-1 (2) and then m (1, and 1 of B); s-2 waits.
		if it := restock(t, st, "A", 2); it.Quantity != 0 {
			t.Fatalf("restock: %+v, want 0 left", it)
		}
		statuses(t, st, "s-1=RESERVED", "m=RESERVED", "s-2=BACKORDERED")
		quantities(t, st, "A", 0, "B", 9)
		conserved(t, st)
		restock(t, st, "A", 1)
		statuses(t, st, "s-2=RESERVED")
		conserved(t, st)
	})

	t.Run("FIFOOnEverySKU", func(t *testing.T) {
		t.Parallel()
		st := stocked(t, "A*", 0, "B*", 1)
		order(t, st, "s-b", "B", 5) // waits for B
		o := order(t, st, "m", "A", 1, "B", 1)
		if o.Status != wims.OrderBackordered || o.Reason != "waiting for stock of A: requested 1, available 0" {
			t.Fatalf("m %+v", o)
		}
		// A arrives, and B has the 1 m needs, but s-b waits for B first.
		restock(t, st, "A", 1)
		statuses(t, st, "m=BACKORDERED", "s-b=BACKORDERED")
		conserved(t, st)
		// 5 of B: s-b first; the 0 left does not fill m.
		restock(t, st, "B", 4)
		statuses(t, st, "s-b=RESERVED", "m=BACKORDERED")
		quantities(t, st, "A", 1, "B", 0)
		restock(t, st, "B", 1)
		statuses(t, st, "m=RESERVED")
		quantities(t, st, "A", 0, "B", 0)
		conserved(t, st)
	})

	t.Run("FillMovesOtherQueues", func(t *testing.T) {
		t.Parallel()
		// m waits for W and holds up Y's queue; filling m from a restock
		// of W lets the order behind it on Y through, in the same
		// transaction.
		st := stocked(t, "W*", 0, "Y*", 2)
		order(t, st, "m", "W", 1, "Y", 1)
		if o := order(t, st, "y", "Y", 1); o.Status != wims.OrderBackordered {
			t.Fatalf("y %+v, want it behind m", o)
		}
		restock(t, st, "W", 1)
		statuses(t, st, "m=RESERVED", "y=RESERVED")
		quantities(t, st, "W", 0, "Y", 0)
		conserved(t, st)
	})

	t.Run("Cancel", func(t *testing.T) {
		t.Parallel()
		st := stocked(t, "A*", 0, "B*", 1, "C", 5)
		order(t, st, "m", "A", 2, "B", 1, "C", 1)
		order(t, st, "a", "A", 1) // behind m on A
		order(t, st, "b", "B", 1) // behind m on B, though B has 1
		restock(t, st, "A", 1)    // m needs 2: nothing moves
		statuses(t, st, "m=BACKORDERED", "a=BACKORDERED", "b=BACKORDERED")
		conserved(t, st)

		seq := lastSeq(t, st.s)
		o, err := st.s.CancelOrder(t.Context(), "m")
		if err != nil || o.Status != wims.OrderCancelled {
			t.Fatalf("cancel %+v, %v", o, err)
		}
		// Nothing was released (m held nothing), and both queues behind it
		// were filled.
		statuses(t, st, "a=RESERVED", "b=RESERVED")
		quantities(t, st, "A", 0, "B", 0, "C", 5)
		conserved(t, st)
		for _, c := range changesAfter(t, st.s, seq) {
			if c.Table == wims.TableInventory && decode[wims.Item](t, c.NewImage).SKU == "C" {
				t.Fatalf("the cancel changed C: %s", c.NewImage)
			}
		}
		if got := listAll(t, st.s, wims.OrderFilter{Status: wims.OrderBackordered}); len(got) != 0 {
			t.Fatalf("backorders left: %v", ids(got))
		}
		// Cancelled again: unchanged.
		if again, err := st.s.CancelOrder(t.Context(), "m"); err != nil || !again.Equal(o) {
			t.Fatalf("cancel again %+v, %v", again, err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		const (
			workers  = 4
			each     = 25
			restocks = 40
		)
		skus := []string{"A", "B", "C"}
		st := stocked(t, "A*", 5, "B*", 5, "C*", 5)
		var restocked [3]atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, workers+2)
		for g := range workers {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				for i := range each {
					id := fmt.Sprintf("o-%d-%d", g, i)
					// Every other order is one line, the others two or
					// three lines of distinct SKUs.
					o := wims.Order{ID: id, CustomerID: "c"}
					n := 1
					if i%2 == 1 {
						n = 2 + rng.IntN(2)
					}
					for _, k := range rng.Perm(len(skus))[:n] {
						o.Lines = append(o.Lines, wims.OrderLine{SKU: skus[k], Quantity: 1 + rng.Int64N(3)})
					}
					if _, _, err := st.s.CreateOrder(t.Context(), o); err != nil {
						errs <- err
						return
					}
					got, err := st.s.ReserveStock(t.Context(), id)
					if err == nil && got.Status == wims.OrderBackordered && i%4 == 1 {
						_, err = st.s.CancelOrder(t.Context(), id)
					} else if err == nil && got.Status == wims.OrderReserved && i%4 == 2 {
						_, err = st.s.CompletePayment(t.Context(), id, false, "declined")
					}
					if err != nil {
						errs <- fmt.Errorf("%s: %w", id, err)
						return
					}
				}
			})
		}
		for r := range 2 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(r), 11))
				for range restocks {
					k := rng.IntN(len(skus))
					d := 1 + rng.Int64N(4)
					if _, err := st.s.AdjustStock(t.Context(), skus[k], wims.Adjustment{Delta: d, Reason: "restock"}); err != nil {
						errs <- fmt.Errorf("restock %s: %w", skus[k], err)
						return
					}
					restocked[k].Add(d)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for k, sku := range skus {
			st.base[sku] += restocked[k].Load()
		}
		conserved(t, st)
		// Nothing waits that could be had: the oldest BACKORDERED order is
		// first in every one of its queues, and every rise of one of its
		// items tried it, so one of its lines must be short.
		waiting := listAll(t, st.s, wims.OrderFilter{Status: wims.OrderBackordered, Limit: wims.MaxOrderLimit})
		if len(waiting) > 0 {
			oldest := waiting[len(waiting)-1]
			short := false
			for _, l := range oldest.Lines {
				it, err := st.s.GetItem(t.Context(), l.SKU)
				if err != nil {
					t.Fatal(err)
				}
				short = short || it.Quantity < l.Quantity
			}
			if !short {
				t.Fatalf("oldest backorder %+v could be filled", oldest)
			}
		}
	})
}
