package wims

import (
	"regexp"
	"time"
)

// MaxQuantity bounds every quantity and delta the API accepts; anything larger
// is a typo or an attack, and keeping sums far below 2^63 rules out overflow.
const MaxQuantity = 1_000_000_000

// Item is one stock-keeping unit and how many of it are on hand.
type Item struct {
	SKU               string `json:"sku"`
	ProductName       string `json:"productName"`
	Model             string `json:"model"`
	Quantity          int64  `json:"quantity"`
	LowStockThreshold int64  `json:"lowStockThreshold"`
	// HighStockThreshold, if above 0, makes a quantity rising above it an
	// OVERSTOCK crossing (0: none). It must be above LowStockThreshold.
	HighStockThreshold int64 `json:"highStockThreshold,omitempty"`
	// AllowBackorder makes an order beyond the stock on hand wait as
	// BACKORDERED, filled first-come first-served by restocks, instead of
	// being REJECTED (see Tx.ReserveStock).
	AllowBackorder bool      `json:"allowBackorder,omitempty"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

var skuPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateSKU checks that sku is 1–64 letters, digits, '.', '_' or '-',
// starting with a letter or digit, so it is safe in URLs, subjects and logs.
func ValidateSKU(sku string) error {
	if sku == "" {
		return FieldError("sku", "is required")
	}
	if !skuPattern.MatchString(sku) {
		return FieldError("sku", "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return nil
}

// Validate checks an item before it is stored.
func (it Item) Validate() error {
	if err := ValidateSKU(it.SKU); err != nil {
		return err
	}
	if len(it.ProductName) > 200 {
		return FieldError("productName", "must be at most 200 characters")
	}
	if len(it.Model) > 200 {
		return FieldError("model", "must be at most 200 characters")
	}
	if it.Quantity < 0 || it.Quantity > MaxQuantity {
		return FieldError("quantity", "must be between 0 and %d", MaxQuantity)
	}
	if it.LowStockThreshold < 0 || it.LowStockThreshold > MaxQuantity {
		return FieldError("lowStockThreshold", "must be between 0 and %d", MaxQuantity)
	}
	if it.HighStockThreshold < 0 || it.HighStockThreshold > MaxQuantity {
		return FieldError("highStockThreshold", "must be between 0 (none) and %d", MaxQuantity)
	}
	if it.HighStockThreshold > 0 && it.HighStockThreshold <= it.LowStockThreshold {
		return FieldError("highStockThreshold", "must be above lowStockThreshold (%d), or 0 for none", it.LowStockThreshold)
	}
	return nil
}

// Adjustment is a manual change to an item's stock: a restock (delta > 0) or a
// write-off (delta < 0).
type Adjustment struct {
	Delta  int64  `json:"delta"`
	Reason string `json:"reason"`
}

// Validate checks an adjustment before it is applied.
func (a Adjustment) Validate() error {
	if a.Delta == 0 {
		return FieldError("delta", "must not be 0")
	}
	if a.Delta < -MaxQuantity || a.Delta > MaxQuantity {
		return FieldError("delta", "must be between %d and %d", -MaxQuantity, MaxQuantity)
	}
	if len(a.Reason) > 500 {
		return FieldError("reason", "must be at most 500 characters")
	}
	return nil
}

// ItemNotFound is the ENOTFOUND error about an item.
func ItemNotFound(sku string) error { return Errorf(ENOTFOUND, "item %q not found", sku) }
