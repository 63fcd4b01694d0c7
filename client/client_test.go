package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/sqlite"
)

// newServer serves the real API over a real SQLite store.
func newServer(t *testing.T, keys ...wimshttp.APIKey) string {
	t.Helper()
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "c.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	srv := httptest.NewServer(wimshttp.NewServer(wimshttp.Options{Store: store, APIKeys: keys}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientRoundTrips(t *testing.T) {
	c := client.New(newServer(t), "")
	ctx := context.Background()
	threshold := int64(5)
	it, err := c.PutItem(ctx, "W-1", client.ItemRequest{ProductName: "Widget", Quantity: 10, LowStockThreshold: &threshold})
	if err != nil || it.SKU != "W-1" || it.Quantity != 10 || it.LowStockThreshold != 5 {
		t.Fatalf("PutItem = %+v, %v", it, err)
	}
	if it, err = c.AdjustStock(ctx, "W-1", wims.Adjustment{Delta: -3, Reason: "damaged"}); err != nil || it.Quantity != 7 {
		t.Fatalf("AdjustStock = %+v, %v", it, err)
	}
	items, err := c.ListItems(ctx)
	if err != nil || len(items) != 2 {
		t.Fatalf("ListItems = %+v, %v (want the seed and W-1)", items, err)
	}
	o, replayed, err := c.CreateOrder(ctx, client.OrderRequest{CustomerID: "c1", Quantity: 2, SKU: "W-1"}, "key-1")
	if err != nil || replayed || o.Status != wims.OrderPending {
		t.Fatalf("CreateOrder = %+v, %v, %v", o, replayed, err)
	}
	again, replayed, err := c.CreateOrder(ctx, client.OrderRequest{CustomerID: "c1", Quantity: 2, SKU: "W-1"}, "key-1")
	if err != nil || !replayed || again.ID != o.ID {
		t.Fatalf("retried CreateOrder = %+v, replayed %v, %v; want the same order replayed", again, replayed, err)
	}
	d, err := c.GetOrder(ctx, o.ID)
	if err != nil || d.ID != o.ID || len(d.History) != 1 {
		t.Fatalf("GetOrder = %+v, %v", d, err)
	}
	page, err := c.ListOrders(ctx, wims.OrderFilter{CustomerID: "c1"})
	if err != nil || len(page.Orders) != 1 || page.Orders[0].ID != o.ID {
		t.Fatalf("ListOrders = %+v, %v", page, err)
	}
	if page, err := c.ListOrders(ctx, wims.OrderFilter{SKU: "W-1"}); err != nil || len(page.Orders) != 1 || page.Orders[0].ID != o.ID {
		t.Fatalf("ListOrders(SKU W-1) = %+v, %v", page, err)
	}
	if page, err := c.ListOrders(ctx, wims.OrderFilter{SKU: "MACGUFFIN-LX"}); err != nil || len(page.Orders) != 0 {
		t.Fatalf("ListOrders(SKU MACGUFFIN-LX) = %+v, %v", page, err)
	}
}

func TestClientErrorsCarryProblems(t *testing.T) {
	ctx := context.Background()
	url := newServer(t, wimshttp.APIKey{Key: "k-read", Role: wimshttp.RoleRead})
	c := client.New(url, "k-read")
	_, err := c.GetItem(ctx, "NOPE")
	var pe *client.Error
	if !errors.As(err, &pe) || pe.Status != http.StatusNotFound || pe.Kind() != "not-found" {
		t.Fatalf("GetItem(NOPE) = %v, want a 404 not-found problem", err)
	}
	_, _, err = c.CreateOrder(ctx, client.OrderRequest{CustomerID: "c", Quantity: 1}, "")
	if !errors.As(err, &pe) || pe.Status != http.StatusForbidden {
		t.Fatalf("CreateOrder with a read key = %v, want 403", err)
	}
	_, err = client.New(url, "wrong").ListItems(ctx)
	if !errors.As(err, &pe) || pe.Status != http.StatusUnauthorized {
		t.Fatalf("unknown key = %v, want 401", err)
	}
	_, _, err = client.New(url, "k-read").CreateOrder(ctx, client.OrderRequest{CustomerID: "", Quantity: 0}, "")
	if !errors.As(err, &pe) {
		t.Fatalf("bad order = %v, want a problem", err)
	}
}
