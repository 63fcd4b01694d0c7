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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wims.Crossings(tt.old, tt.new); !slices.Equal(got, tt.want) {
				t.Fatalf("Crossings = %v, want %v", got, tt.want)
			}
		})
	}
}
