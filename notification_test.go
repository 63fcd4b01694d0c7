package wims_test

import (
	"slices"
	"testing"

	"github.com/wims/wims"
)

func TestCrossings(t *testing.T) {
	item := func(q, threshold int64) *wims.Item {
		return &wims.Item{SKU: "A", Quantity: q, LowStockThreshold: threshold}
	}
	high := func(q, low, high int64) *wims.Item {
		return &wims.Item{SKU: "A", Quantity: q, LowStockThreshold: low, HighStockThreshold: high}
	}
	tests := []struct {
		name     string
		old, new *wims.Item
		want     []wims.NotificationKind
	}{
		{"above to above", item(200, 100), item(150, 100), nil},
		{"above to at threshold", item(101, 100), item(100, 100), []wims.NotificationKind{wims.LowStock}},
		{"above to below", item(500, 100), item(3, 100), []wims.NotificationKind{wims.LowStock}},
		{"below to below is no new crossing", item(99, 100), item(50, 100), nil},
		{"at threshold to below is no new crossing", item(100, 100), item(99, 100), nil},
		{"above to zero crosses both", item(150, 100), item(0, 100), []wims.NotificationKind{wims.LowStock, wims.OutOfStock}},
		{"below to zero", item(5, 100), item(0, 100), []wims.NotificationKind{wims.OutOfStock}},
		{"zero to zero", item(0, 100), item(0, 100), nil},
		{"restock above", item(0, 100), item(1000, 100), nil},
		{"threshold raised over stock is not a crossing of stock", item(50, 10), item(50, 100), nil},
		{"threshold 0 crossing to zero", item(1, 0), item(0, 0), []wims.NotificationKind{wims.LowStock, wims.OutOfStock}},
		{"insert crosses nothing", nil, item(0, 100), nil},
		{"remove crosses nothing", item(10, 100), nil, nil},
		{"restock over the high threshold", high(400, 100, 500), high(600, 100, 500), []wims.NotificationKind{wims.Overstock}},
		{"restock to the high threshold is no crossing", high(400, 100, 500), high(500, 100, 500), nil},
		{"above the high threshold and rising is no new crossing", high(600, 100, 500), high(900, 100, 500), nil},
		{"back under and over again crosses again", high(500, 100, 500), high(501, 100, 500), []wims.NotificationKind{wims.Overstock}},
		{"no high threshold, no overstock", item(400, 100), item(1_000_000, 100), nil},
		{"high threshold lowered under stock is no crossing", high(600, 100, 900), high(600, 100, 500), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wims.Crossings(tt.old, tt.new); !slices.Equal(got, tt.want) {
				t.Fatalf("Crossings = %v, want %v", got, tt.want)
			}
		})
	}
}
