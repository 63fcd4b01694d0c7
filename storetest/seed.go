package storetest

import (
	"testing"
	"time"

	"github.com/wims/wims"
)

// SeedDB is one fresh database for RunSeeding: open opens a store on it
// (seeding if asked; the test closes it), removeItems deletes every item
// behind the store's back, as an operator could.
type SeedDB struct {
	Open        func(seed bool) wims.Store
	RemoveItems func()
}

// RunSeeding runs the contract cases of seeding: a fresh database gets the
// course's MacGuffin once, with its INSERT change; reopening keeps the data
// and does not seed again, not even after the item was deleted; and an
// inventory that already has items is never seeded. newDB must return a
// fresh, empty database each time.
func RunSeeding(t *testing.T, newDB func(t *testing.T) SeedDB) {
	t.Run("SeedsOnceAndKeeps", func(t *testing.T) {
		db := newDB(t)
		s := db.Open(true)
		it, err := s.GetItem(t.Context(), wims.DefaultSKU)
		if err != nil {
			t.Fatal(err)
		}
		want := wims.SeedItem()
		want.UpdatedAt = it.UpdatedAt
		if it != want {
			t.Fatalf("seed item %+v, want %+v", it, want)
		}
		cs, err := s.ReadChanges(t.Context(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 || cs[0].EventType != wims.ChangeInsert {
			t.Fatalf("seeding logged %d changes, want one INSERT", len(cs))
		}
		select {
		case <-s.ChangeSignal():
		case <-time.After(5 * time.Second):
			t.Fatal("seeding did not signal the change")
		}
		if _, err := s.AdjustStock(t.Context(), wims.DefaultSKU, wims.Adjustment{Delta: -5}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		s = db.Open(true)
		if it, err := s.GetItem(t.Context(), wims.DefaultSKU); err != nil || it.Quantity != 1_000_000-5 {
			t.Fatalf("after reopen: %+v, %v; want quantity %d", it, err, 1_000_000-5)
		}
		if cs, err := s.ReadChanges(t.Context(), 0, 10); err != nil || len(cs) != 2 {
			t.Fatalf("%d changes after reopen (%v), want 2 (seed, adjustment)", len(cs), err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}

		db.RemoveItems()
		s = db.Open(true)
		if items, err := s.ListItems(t.Context()); err != nil || len(items) != 0 {
			t.Fatalf("reopening after the seed was deleted: %+v, %v; want no items (seeded once only)", items, err)
		}
	})
	t.Run("SkippedWhenInventoryNotEmpty", func(t *testing.T) {
		db := newDB(t)
		s := db.Open(false)
		if _, err := s.PutItem(t.Context(), wims.Item{SKU: "OTHER", ProductName: "Other", Quantity: 1}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = db.Open(true)
		if _, err := s.GetItem(t.Context(), wims.DefaultSKU); wims.ErrorCode(err) != wims.ENOTFOUND {
			t.Fatalf("seed item stored into a non-empty inventory: %v", err)
		}
	})
}
