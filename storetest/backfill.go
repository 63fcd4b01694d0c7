package storetest

import (
	"fmt"
	"testing"

	"github.com/wims/wims"
)

// LinesDB is one fresh database for RunLinesBackfill: Open opens a store on
// it (the test closes it before the next Open), and Unindex takes the
// database back to before the migration that indexes order lines by SKU,
// behind the store's back: it drops the index table and the migration's
// record, so that the next Open runs the migration, with its backfill, on
// the orders stored so far.
type LinesDB struct {
	Open    func() wims.Store
	Unindex func()
}

// RunLinesBackfill runs the contract case of the order-lines index's
// migration: multi-line orders stored before it (one RESERVED, one
// BACKORDERED, as far as the older schema allowed) are found by each of
// their SKUs once it ran, and the BACKORDERED one waits in the queue of its
// second SKU, so a restock of that SKU fills it.
func RunLinesBackfill(t *testing.T, newDB func(t *testing.T) LinesDB) {
	db := newDB(t)
	s := db.Open()
	it := newItem("A", 0)
	it.AllowBackorder = true
	if _, err := s.PutItem(t.Context(), it); err != nil {
		t.Fatal(err)
	}
	mustPutItem(t, s, "B", 10)
	mustPutItem(t, s, "C", 10)
	for _, o := range []wims.Order{
		{ID: "m-1", CustomerID: "c", Lines: []wims.OrderLine{{SKU: "C", Quantity: 1}, {SKU: "B", Quantity: 2}}},
		{ID: "m-2", CustomerID: "c", Lines: []wims.OrderLine{{SKU: "B", Quantity: 1}, {SKU: "A", Quantity: 3}}},
		{ID: "s-1", CustomerID: "c", SKU: "B", Quantity: 1},
	} {
		if _, _, err := s.CreateOrder(t.Context(), o); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReserveStock(t.Context(), o.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db.Unindex()

	s = db.Open()
	for sku, want := range map[string]string{"A": "[m-2]", "B": "[s-1 m-2 m-1]", "C": "[m-1]"} {
		if got := fmt.Sprint(ids(listAll(t, s, wims.OrderFilter{SKU: sku, Limit: 1}))); got != want {
			t.Fatalf("after the backfill, orders of %s = %s, want %s", sku, got, want)
		}
	}
	if o, err := s.GetOrder(t.Context(), "m-2"); err != nil || o.Status != wims.OrderBackordered {
		t.Fatalf("m-2 %+v, %v; want BACKORDERED", o, err)
	}
	if _, err := s.AdjustStock(t.Context(), "A", wims.Adjustment{Delta: 3, Reason: "restock"}); err != nil {
		t.Fatal(err)
	}
	if o, err := s.GetOrder(t.Context(), "m-2"); err != nil || o.Status != wims.OrderReserved {
		t.Fatalf("m-2 %+v, %v; want RESERVED by the restock of its second SKU", o, err)
	}
	mustQuantity(t, s, "A", 0)
	mustQuantity(t, s, "B", 6)
	mustQuantity(t, s, "C", 9)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
