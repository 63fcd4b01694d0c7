package storetest

import (
	"testing"

	"github.com/wims/wims"
)

// testInventory covers PutItem, GetItem, ListItems and AdjustStock.
func testInventory(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("PutItem", func(t *testing.T) {
		t.Run("Insert", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			in := newItem(sku, 42)
			got, err := s.PutItem(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if got.UpdatedAt.IsZero() {
				t.Fatal("UpdatedAt not set")
			}
			in.UpdatedAt = got.UpdatedAt
			if got != in {
				t.Fatalf("PutItem = %+v, want %+v", got, in)
			}
			read, err := s.GetItem(t.Context(), sku)
			if err != nil {
				t.Fatal(err)
			}
			if read != got {
				t.Fatalf("GetItem = %+v, want %+v", read, got)
			}
		})
		t.Run("Replace", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 42)
			in := wims.Item{SKU: sku, ProductName: "Gadget", Model: "G2", Quantity: 7, LowStockThreshold: 3, HighStockThreshold: 900}
			got, err := s.PutItem(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			read, err := s.GetItem(t.Context(), sku)
			if err != nil {
				t.Fatal(err)
			}
			if read != got || read.ProductName != "Gadget" || read.Model != "G2" || read.Quantity != 7 || read.LowStockThreshold != 3 ||
				read.HighStockThreshold != 900 {
				t.Fatalf("GetItem = %+v after replacing with %+v (PutItem returned %+v)", read, in, got)
			}
			items, err := s.ListItems(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 1 {
				t.Fatalf("ListItems has %d items, want 1", len(items))
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				item  wims.Item
				field string
			}{
				{wims.Item{SKU: "", ProductName: "x"}, "sku"},
				{wims.Item{SKU: "bad sku!", ProductName: "x"}, "sku"},
				{wims.Item{SKU: sku, Quantity: -1}, "quantity"},
				{wims.Item{SKU: sku, Quantity: wims.MaxQuantity + 1}, "quantity"},
				{wims.Item{SKU: sku, LowStockThreshold: -1}, "lowStockThreshold"},
			} {
				_, err := s.PutItem(t.Context(), tc.item)
				mustField(t, err, tc.field)
			}
			items, err := s.ListItems(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != 0 {
				t.Fatalf("invalid items were stored: %+v", items)
			}
			mustNoChangesAfter(t, s, 0)
		})
	})

	t.Run("GetItem/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.GetItem(t.Context(), "NOPE")
		mustCode(t, err, wims.ENOTFOUND)
	})

	t.Run("ListItems", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		items, err := s.ListItems(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != 0 {
			t.Fatalf("empty store lists %d items", len(items))
		}
		for _, k := range []string{"C", "A", "B"} {
			mustPutItem(t, s, k, 1)
		}
		items, err = s.ListItems(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, it := range items {
			got = append(got, it.SKU)
		}
		if len(got) != 3 || got[0] != "A" || got[1] != "B" || got[2] != "C" {
			t.Fatalf("ListItems SKUs = %v, want [A B C]", got)
		}
	})

	t.Run("AdjustStock", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			it, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: 500, Reason: "restock"})
			if err != nil {
				t.Fatal(err)
			}
			if it.Quantity != 510 {
				t.Fatalf("after +500 quantity = %d, want 510", it.Quantity)
			}
			it, err = s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: -510, Reason: "write-off"})
			if err != nil {
				t.Fatal(err)
			}
			if it.Quantity != 0 {
				t.Fatalf("after -510 quantity = %d, want 0", it.Quantity)
			}
			read, err := s.GetItem(t.Context(), sku)
			if err != nil {
				t.Fatal(err)
			}
			if read != it {
				t.Fatalf("GetItem = %+v, AdjustStock returned %+v", read, it)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			_, err := s.AdjustStock(t.Context(), "NOPE", wims.Adjustment{Delta: 1})
			mustCode(t, err, wims.ENOTFOUND)
			mustNoChangesAfter(t, s, 0)
		})
		t.Run("ErrInsufficient", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 5)
			seq := lastSeq(t, s)
			_, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: -6})
			mustCode(t, err, wims.EINSUFFICIENT)
			mustQuantity(t, s, sku, 5)
			mustNoChangesAfter(t, s, seq)
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 5)
			seq := lastSeq(t, s)
			_, err := s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: 0})
			mustField(t, err, "delta")
			_, err = s.AdjustStock(t.Context(), sku, wims.Adjustment{Delta: wims.MaxQuantity + 1})
			mustField(t, err, "delta")
			mustQuantity(t, s, sku, 5)
			mustNoChangesAfter(t, s, seq)
		})
	})
}
