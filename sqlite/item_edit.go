package sqlite

import (
	"context"

	"github.com/wims/wims"
)

var _ wims.ItemEditor = (*Store)(nil)

// SetThresholds sets an item's stock levels, keeping its quantity; see
// wims.Tx.SetThresholds. Returns ENOTFOUND for an unknown SKU and EINVALID
// for bad levels.
func (s *Store) SetThresholds(ctx context.Context, sku string, low, high int64) (wims.Item, error) {
	if err := wims.ValidateSKU(sku); err != nil {
		return wims.Item{}, err
	}
	return transition(s, ctx, "set thresholds", sku, func(tx wims.Tx) (wims.Item, error) { return tx.SetThresholds(sku, low, high) })
}

// CreateItem stores a new item and records an INSERT change; see
// wims.Tx.CreateItem. Returns ECONFLICT when the SKU exists and EINVALID
// for a bad item.
func (s *Store) CreateItem(ctx context.Context, item wims.Item) (wims.Item, error) {
	if err := item.Validate(); err != nil {
		return wims.Item{}, err
	}
	return transition(s, ctx, "create item", item.SKU, func(tx wims.Tx) (wims.Item, error) { return tx.CreateItem(item) })
}
