package storetest

import (
	"testing"

	"github.com/wims/wims"
)

// testItemEdit covers the ItemEditor: CreateItem refuses an existing
// SKU; SetThresholds it changes the levels only, keeps
// the quantity as stored (a reservation since the caller's read is kept),
// records an UPDATE and refuses bad levels and unknown SKUs.
func testItemEdit(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("KeepsQuantity", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ts, ok := s.(wims.ItemEditor)
		if !ok {
			t.Fatalf("%T does not implement wims.ItemEditor", s)
		}
		mustPutItem(t, s, sku, 10)
		if _, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: -4, Reason: "since the read"}); err != nil {
			t.Fatal(err)
		}
		got, err := ts.SetThresholds(t.Context(), sku, 3, 50)
		if err != nil {
			t.Fatal(err)
		}
		if got.Quantity != 6 || got.LowStockThreshold != 3 || got.HighStockThreshold != 50 {
			t.Fatalf("SetThresholds = %+v, want quantity 6, levels 3 and 50", got)
		}
		read, err := s.GetItem(t.Context(), sku)
		if err != nil {
			t.Fatal(err)
		}
		if read != got {
			t.Fatalf("GetItem = %+v, want %+v", read, got)
		}
		cs := allChanges(t, s)
		last := cs[len(cs)-1]
		if last.Table != wims.TableInventory || last.EventType != wims.ChangeUpdate {
			t.Fatalf("last change %s %s, want inventory UPDATE", last.Table, last.EventType)
		}
		if img := decode[wims.Item](t, last.NewImage); img != got {
			t.Fatalf("NewImage %+v, want %+v", img, got)
		}
	})
	t.Run("CreateItem", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ed := s.(wims.ItemEditor)
		in := newItem(sku, 12)
		got, err := ed.CreateItem(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		in.UpdatedAt = got.UpdatedAt
		if got != in || got.UpdatedAt.IsZero() {
			t.Fatalf("CreateItem = %+v, want %+v", got, in)
		}
		again := newItem(sku, 99)
		if _, err := ed.CreateItem(t.Context(), again); wims.ErrorCode(err) != wims.ECONFLICT {
			t.Fatalf("second CreateItem: %v, want %s", err, wims.ECONFLICT)
		}
		if read, err := s.GetItem(t.Context(), sku); err != nil || read != got {
			t.Fatalf("after the refused create: %+v %v, want %+v", read, err, got)
		}
		if cs := allChanges(t, s); len(cs) != 1 || cs[0].EventType != wims.ChangeInsert {
			t.Fatalf("changes %v, want one INSERT", summary(cs))
		}
		if _, err := ed.CreateItem(t.Context(), wims.Item{SKU: "bad sku"}); wims.ErrorCode(err) != wims.EINVALID {
			t.Fatalf("bad item: %v, want %s", err, wims.EINVALID)
		}
	})
	t.Run("Refuses", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ts := s.(wims.ItemEditor)
		before := mustPutItem(t, s, sku, 10)
		for _, c := range []struct {
			sku       string
			low, high int64
			code      string
		}{
			{sku, 5, 5, wims.EINVALID},  // high must be above low
			{sku, -1, 0, wims.EINVALID}, // negative
			{"NOPE", 1, 0, wims.ENOTFOUND},
		} {
			if _, err := ts.SetThresholds(t.Context(), c.sku, c.low, c.high); wims.ErrorCode(err) != c.code {
				t.Errorf("SetThresholds(%s, %d, %d) = %v, want %s", c.sku, c.low, c.high, err, c.code)
			}
		}
		if read, err := s.GetItem(t.Context(), sku); err != nil || read != before {
			t.Fatalf("after refusals: %+v %v, want unchanged %+v", read, err, before)
		}
	})
}
