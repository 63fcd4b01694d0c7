package wims

import "encoding/json"

// NotificationKind says which stock level was crossed.
type NotificationKind string

// Notification kinds.
const (
	LowStock   NotificationKind = "LOW_STOCK"
	OutOfStock NotificationKind = "OUT_OF_STOCK"
	// Overstock: the quantity rose above the item's HighStockThreshold.
	Overstock NotificationKind = "OVERSTOCK"
)

// Threshold is the level of it that a crossing of kind k crossed: the low
// or high threshold, 0 for OUT_OF_STOCK.
func (k NotificationKind) Threshold(it *Item) int64 {
	switch k {
	case LowStock:
		return it.LowStockThreshold
	case Overstock:
		return it.HighStockThreshold
	}
	return 0
}

// Notification is what a webhook receives when stock crosses a level.
type Notification struct {
	// ID is stable per crossing (derived from the change's event id and the
	// kind), so a receiver can drop a redelivered copy.
	ID        string           `json:"id"`
	Kind      NotificationKind `json:"kind"`
	SKU       string           `json:"sku"`
	Quantity  int64            `json:"quantity"`
	Threshold int64            `json:"threshold"`
	Event     json.RawMessage  `json:"event"`
}

// Crossings returns the levels a stock change crossed: LOW_STOCK when the
// quantity goes from above the low threshold to at or below it,
// OUT_OF_STOCK when it reaches 0 from above, OVERSTOCK when it goes from at
// or below the high threshold (if the item has one) to above it. The
// thresholds are the new image's, so changing a threshold across the
// current stock is not a crossing (no stock moved). old is nil for an
// insert, which crosses nothing.
func Crossings(old, new *Item) []NotificationKind {
	if old == nil || new == nil {
		return nil
	}
	var kinds []NotificationKind
	t := new.LowStockThreshold
	if old.Quantity > t && new.Quantity <= t {
		kinds = append(kinds, LowStock)
	}
	if old.Quantity > 0 && new.Quantity <= 0 {
		kinds = append(kinds, OutOfStock)
	}
	if h := new.HighStockThreshold; h > 0 && old.Quantity <= h && new.Quantity > h {
		kinds = append(kinds, Overstock)
	}
	return kinds
}

// NotificationID derives the stable id of the notification for one crossing.
func NotificationID(eventID string, kind NotificationKind) string {
	return eventID + ":" + string(kind)
}

// ValidateNotified checks the arguments of MarkNotified: both are required.
func ValidateNotified(id, target string) error {
	if id == "" {
		return FieldError("id", "is required")
	}
	if target == "" {
		return FieldError("target", "is required")
	}
	return nil
}
