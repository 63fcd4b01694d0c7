package wims_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/wims/wims"
)

func TestNewChange(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := wims.Item{SKU: "A", ProductName: "A", Quantity: 5, LowStockThreshold: 1}
	cur := old
	cur.Quantity = 3
	tests := []struct {
		name      string
		old, new  any
		eventType string
		cols      []string
	}{
		{"insert lists every field", nil, cur, wims.ChangeInsert,
			[]string{"lowStockThreshold", "model", "productName", "quantity", "sku", "updatedAt"}},
		{"update lists what differs", old, cur, wims.ChangeUpdate, []string{"quantity"}},
		{"no-op update lists nothing", old, old, wims.ChangeUpdate, []string{}},
		{"remove lists every old field", old, nil, wims.ChangeRemove,
			[]string{"lowStockThreshold", "model", "productName", "quantity", "sku", "updatedAt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := wims.NewChange(wims.TableInventory, wims.ItemKey("A"), tt.old, tt.new, at, "tp")
			if err != nil {
				t.Fatal(err)
			}
			if c.EventType != tt.eventType || !slices.Equal(c.ChangedColumns, tt.cols) {
				t.Fatalf("type %s cols %v, want %s %v", c.EventType, c.ChangedColumns, tt.eventType, tt.cols)
			}
			if string(c.Key) != `{"sku":"A"}` || c.EventID == "" || c.Time != at || c.TraceParent != "tp" {
				t.Fatalf("change = %+v", c)
			}
			if (tt.new == nil) != (c.NewImage == nil) || (tt.old == nil) != (c.OldImage == nil) {
				t.Fatalf("images: new %s old %s", c.NewImage, c.OldImage)
			}
			if it, ok := tt.new.(wims.Item); ok {
				var img wims.Item
				if err := json.Unmarshal(c.NewImage, &img); err != nil || img.Quantity != it.Quantity {
					t.Fatalf("new image %s: %v", c.NewImage, err)
				}
			}
		})
	}
	if _, err := wims.NewChange("t", nil, nil, nil, at, ""); err == nil {
		t.Fatal("a change with no image was accepted")
	}
	a, _ := wims.NewChange("t", nil, nil, cur, at, "")
	b, _ := wims.NewChange("t", nil, nil, cur, at, "")
	if a.EventID == b.EventID {
		t.Fatal("event ids repeat")
	}
}

// BenchmarkNewChangeOrder is the change record of an order's reservation,
// which the store's writer builds for every order.
func BenchmarkNewChangeOrder(b *testing.B) {
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	old := wims.Order{ID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", CustomerID: "c-42", SKU: "MACGUFFIN-LX", Quantity: 3, Status: wims.OrderPending, CreatedAt: at, UpdatedAt: at}
	next := old
	next.Status, next.UpdatedAt = wims.OrderReserved, at.Add(time.Millisecond)
	for b.Loop() {
		if _, err := wims.NewChange(wims.TableOrders, wims.OrderKey(old.ID), old, next, at, ""); err != nil {
			b.Fatal(err)
		}
	}
}
