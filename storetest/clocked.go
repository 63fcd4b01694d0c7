package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
)

// Pruner is implemented by stores that drop old, published changes.
type Pruner interface {
	PruneChanges(ctx context.Context, upToSeq int64, olderThan time.Time) (int64, error)
}

// RunClocked runs the contract cases that need the store's clock injected:
// time stamps (UTC, microseconds, equal on write and read), trace parents
// recorded with changes, pruning (if the store is a Pruner), gap-free
// sequence numbers and the times resources are stamped with. open must
// return a fresh, empty store using now.
func RunClocked(t *testing.T, open func(t *testing.T, now wims.Clock) wims.Store) {
	t.Run("Clock", func(t *testing.T) { t.Parallel(); testClock(t, open) })
	t.Run("TraceParent", func(t *testing.T) { t.Parallel(); testTraceParent(t, open) })
	t.Run("PruneChanges", func(t *testing.T) { t.Parallel(); testPrune(t, open) })
	t.Run("SeqNoGaps", func(t *testing.T) { t.Parallel(); testSeqNoGaps(t, open) })
	t.Run("ResourceTimes", func(t *testing.T) { t.Parallel(); testResourceTimes(t, open) })
}

func testClock(t *testing.T, open func(*testing.T, wims.Clock) wims.Store) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3600))
	s := open(t, func() time.Time { return now })
	it, err := s.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := now.UTC().Truncate(time.Microsecond)
	if it.UpdatedAt != want {
		t.Fatalf("UpdatedAt %v, want %v (UTC, microseconds)", it.UpdatedAt, want)
	}
	read, err := s.GetItem(t.Context(), "A")
	if err != nil {
		t.Fatal(err)
	}
	if read != it {
		t.Fatalf("GetItem %+v, PutItem returned %+v", read, it)
	}
	cs, err := s.ReadChanges(t.Context(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if cs[0].Time != want {
		t.Fatalf("change time %v, want %v", cs[0].Time, want)
	}
}

func testTraceParent(t *testing.T, open func(*testing.T, wims.Clock) wims.Store) {
	s := open(t, nil)
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	if _, err := s.PutItem(wims.WithTraceParent(t.Context(), tp), wims.Item{SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.ReadChanges(t.Context(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].TraceParent != tp {
		t.Fatalf("changes %+v, want one with traceparent %s", cs, tp)
	}
}

func testPrune(t *testing.T, open func(*testing.T, wims.Clock) wims.Store) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	store := open(t, clock)
	s, ok := store.(Pruner)
	if !ok {
		t.Skip("the store does not prune")
	}
	if _, err := store.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 100}); err != nil { // seq 1 at T
		t.Fatal(err)
	}
	advance(time.Hour)
	for range 3 { // seq 2..4 at T+1h
		if _, err := store.AdjustStock(t.Context(), "A", wims.Adjustment{Delta: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Only rows both at or below the cursor and older than the cutoff go.
	n, err := s.PruneChanges(t.Context(), 3, clock().Add(-time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("PruneChanges = %d, %v; want 1 (seq 1 only)", n, err)
	}
	n, err = s.PruneChanges(t.Context(), 3, clock().Add(time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("PruneChanges = %d, %v; want 2 (seq 2, 3)", n, err)
	}
	cs, err := store.ReadChanges(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Seq != 4 {
		t.Fatalf("left %+v, want seq 4 only", cs)
	}
	// Seqs are not reused after pruning.
	if _, err := s.PruneChanges(t.Context(), 10, clock().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AdjustStock(t.Context(), "A", wims.Adjustment{Delta: 1}); err != nil {
		t.Fatal(err)
	}
	cs, err = store.ReadChanges(t.Context(), 0, 10)
	if err != nil || len(cs) != 1 || cs[0].Seq != 5 {
		t.Fatalf("after pruning everything the next change is %+v (%v), want seq 5", cs, err)
	}
}

// testSeqNoGaps checks that failed writes leave no gap in the seqs: the relay
// reads "after its cursor", and a store that left holes would make a reader
// unable to tell a hole from a change still being written.
func testSeqNoGaps(t *testing.T, open func(*testing.T, wims.Clock) wims.Store) {
	s := open(t, nil)
	if _, err := s.PutItem(t.Context(), wims.Item{SKU: "A", Quantity: 10}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			sku := "A"
			if i%3 == 0 {
				sku = "NOPE"
			}
			_, _, err := s.CreateOrder(t.Context(), wims.Order{ID: fmt.Sprintf("o-%d", i), CustomerID: "c", SKU: sku, Quantity: 1})
			if (err != nil) != (sku == "NOPE") {
				t.Errorf("CreateOrder(%s, o-%d): %v", sku, i, err)
			}
		})
	}
	wg.Wait()
	cs, err := s.ReadChanges(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cs {
		if c.Seq != int64(i+1) {
			t.Fatalf("change %d has seq %d, want %d: a failed write left a gap", i, c.Seq, i+1)
		}
	}
}
