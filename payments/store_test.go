package payments_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/payments"
	"github.com/wims/wims/sqlite"
)

// testStore is wims' real SQLite store in a temp dir, with a helper that
// brings an order to a given status through the store's own transitions.
type testStore struct {
	*sqlite.Store
}

var _ payments.Store = testStore{}

const (
	plentySKU = "PLENTY" // enough stock for every test order
	emptySKU  = "EMPTY"  // none, to get REJECTED orders
)

func newTestStore(tb testing.TB) testStore {
	tb.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(tb.TempDir(), "pay.db")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	for _, it := range []wims.Item{
		{SKU: plentySKU, ProductName: "P", Quantity: 1_000_000},
		{SKU: emptySKU, ProductName: "E", Quantity: 0},
	} {
		if _, err := s.PutItem(ctx, it); err != nil {
			tb.Fatal(err)
		}
	}
	return testStore{s}
}

// put creates order o (ID, CustomerID, Quantity) and moves it to o.Status.
func (s testStore) put(tb testing.TB, o wims.Order) wims.Order {
	tb.Helper()
	ctx := context.Background()
	o.SKU = plentySKU
	if o.Status == wims.OrderRejected {
		o.SKU = emptySKU
	}
	if o.Quantity == 0 {
		o.Quantity = 3
	}
	if _, _, err := s.CreateOrder(ctx, o); err != nil {
		tb.Fatal(err)
	}
	var err error
	got := o
	if o.Status != wims.OrderPending {
		got, err = s.ReserveStock(ctx, o.ID)
	}
	switch {
	case err != nil:
	case o.Status == wims.OrderPaid:
		got, err = s.CompletePayment(ctx, o.ID, true, "")
	case o.Status == wims.OrderPaymentFailed:
		got, err = s.CompletePayment(ctx, o.ID, false, "test")
	}
	if err != nil {
		tb.Fatal(err)
	}
	if o.Status != "" && got.Status != o.Status && o.Status != wims.OrderPending {
		tb.Fatalf("put %s: got status %s, want %s", o.ID, got.Status, o.Status)
	}
	return got
}
