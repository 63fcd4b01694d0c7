package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wims/wims"
)

// testChanges covers the change log: images, changed columns, event types,
// ordering, paging and the change signal.
func testChanges(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("EmptyLog", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustNoChangesAfter(t, s, 0)
		if s.Origin() == "" {
			t.Fatal("Origin() is empty")
		}
	})

	t.Run("ItemImages", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		put := mustPutItem(t, s, sku, 10)
		adjusted, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: -3})
		if err != nil {
			t.Fatal(err)
		}
		cs := allChanges(t, s)
		checkLog(t, cs)
		if len(cs) != 2 {
			t.Fatalf("changes %v, want inventory INSERT, UPDATE", summary(cs))
		}

		ins := cs[0]
		if ins.Table != wims.TableInventory || ins.EventType != wims.ChangeInsert {
			t.Fatalf("first change %s %s, want inventory INSERT", ins.Table, ins.EventType)
		}
		if got := decode[wims.Item](t, ins.NewImage); got != put {
			t.Fatalf("INSERT NewImage %+v, want %+v", got, put)
		}
		raw := decode[map[string]any](t, ins.NewImage)
		for _, f := range []string{"sku", "productName", "model", "quantity", "lowStockThreshold"} {
			if _, ok := raw[f]; !ok {
				t.Fatalf("NewImage %s lacks API field %q", ins.NewImage, f)
			}
		}
		if !slices.Contains(ins.ChangedColumns, "quantity") || !slices.Contains(ins.ChangedColumns, "sku") {
			t.Fatalf("INSERT changedColumns %v, want every field", ins.ChangedColumns)
		}

		upd := cs[1]
		if upd.Table != wims.TableInventory || upd.EventType != wims.ChangeUpdate {
			t.Fatalf("second change %s %s, want inventory UPDATE", upd.Table, upd.EventType)
		}
		if got := decode[wims.Item](t, upd.OldImage); got != put {
			t.Fatalf("UPDATE OldImage %+v, want %+v", got, put)
		}
		if got := decode[wims.Item](t, upd.NewImage); got != adjusted {
			t.Fatalf("UPDATE NewImage %+v, want %+v", got, adjusted)
		}
		if !slices.Contains(upd.ChangedColumns, "quantity") || slices.Contains(upd.ChangedColumns, "sku") ||
			slices.Contains(upd.ChangedColumns, "productName") {
			t.Fatalf("UPDATE changedColumns %v, want quantity (and updatedAt) only", upd.ChangedColumns)
		}
		if string(upd.Key) == "" || decode[map[string]string](t, upd.Key)["sku"] != sku {
			t.Fatalf("key %s, want {\"sku\":%q}", upd.Key, sku)
		}
	})

	t.Run("OrderLifecycle", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 10)
		seq := lastSeq(t, s)
		created := mustCreateOrder(t, s, "o-1", sku, 4)
		reserved, err := s.ReserveStock(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		paid, err := s.CompletePayment(t.Context(), "o-1", true, "")
		if err != nil {
			t.Fatal(err)
		}
		cs := changesAfter(t, s, seq)
		checkLog(t, cs)
		want := []string{"orders INSERT", "inventory UPDATE", "orders UPDATE", "orders UPDATE"}
		if got := summary(cs); !slices.Equal(got, want) {
			t.Fatalf("changes %v, want %v", got, want)
		}
		if got := decode[wims.Order](t, cs[0].NewImage); !got.Equal(created) {
			t.Fatalf("INSERT NewImage %+v, want %+v", got, created)
		}
		if raw := decode[map[string]any](t, cs[0].NewImage); raw["status"] != "PENDING" || raw["orderId"] != "o-1" {
			t.Fatalf("INSERT NewImage %s, want status PENDING and orderId o-1", cs[0].NewImage)
		}
		if got := decode[wims.Item](t, cs[1].NewImage).Quantity; got != 6 {
			t.Fatalf("reservation NewImage.quantity %d, want 6", got)
		}
		if got := decode[wims.Item](t, cs[1].OldImage).Quantity; got != 10 {
			t.Fatalf("reservation OldImage.quantity %d, want 10", got)
		}
		if got := decode[wims.Order](t, cs[2].OldImage); !got.Equal(created) {
			t.Fatalf("reserve OldImage %+v, want %+v", got, created)
		}
		if got := decode[wims.Order](t, cs[2].NewImage); !got.Equal(reserved) {
			t.Fatalf("reserve NewImage %+v, want %+v", got, reserved)
		}
		if !slices.Contains(cs[2].ChangedColumns, "status") || slices.Contains(cs[2].ChangedColumns, "quantity") {
			t.Fatalf("reserve changedColumns %v, want status, not quantity", cs[2].ChangedColumns)
		}
		if got := decode[wims.Order](t, cs[3].NewImage); !got.Equal(paid) {
			t.Fatalf("payment NewImage %+v, want %+v", got, paid)
		}
		if decode[map[string]string](t, cs[3].Key)["orderId"] != "o-1" {
			t.Fatalf("key %s, want {\"orderId\":\"o-1\"}", cs[3].Key)
		}
	})

	t.Run("ReadChangesPaging", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 100)
		for i := range 24 {
			if _, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: int64(i + 1)}); err != nil {
				t.Fatal(err)
			}
		}
		all := allChanges(t, s)
		if len(all) != 25 {
			t.Fatalf("%d changes, want 25", len(all))
		}
		checkLog(t, all)
		var paged []wims.Change
		var after int64
		var sizes []int
		for {
			page, err := s.ReadChanges(t.Context(), after, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			sizes = append(sizes, len(page))
			for _, c := range page {
				if c.Seq <= after {
					t.Fatalf("ReadChanges(after=%d) returned seq %d", after, c.Seq)
				}
			}
			paged = append(paged, page...)
			after = page[len(page)-1].Seq
		}
		if !slices.Equal(sizes, []int{10, 10, 5}) {
			t.Fatalf("page sizes %v, want [10 10 5]", sizes)
		}
		for i := range all {
			if paged[i].Seq != all[i].Seq || paged[i].EventID != all[i].EventID {
				t.Fatalf("page entry %d is seq %d, want %d", i, paged[i].Seq, all[i].Seq)
			}
		}
		// A cursor in the middle starts right after it.
		mid := all[12].Seq
		page, err := s.ReadChanges(t.Context(), mid, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 3 || page[0].Seq != all[13].Seq {
			t.Fatalf("ReadChanges(%d, 3) starts at %v, want seq %d", mid, page, all[13].Seq)
		}
		mustNoChangesAfter(t, s, all[len(all)-1].Seq)
	})

	t.Run("ChangeSignal", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		sig := s.ChangeSignal()
		// Drain a signal left by anything the opener wrote.
		select {
		case <-sig:
		default:
		}
		mustPutItem(t, s, sku, 1)
		waitSignal(t, sig)
		// Signals coalesce but are never lost: after more writes, at least one
		// more arrives.
		for range 3 {
			if _, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: 1}); err != nil {
				t.Fatal(err)
			}
		}
		waitSignal(t, sig)
	})
}

// waitSignal fails the test unless sig fires within a generous deadline.
func waitSignal(t *testing.T, sig <-chan struct{}) {
	t.Helper()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case <-sig:
	case <-timer.C:
		t.Fatal(fmt.Errorf("ChangeSignal did not fire within 5s of a committed write"))
	}
}
