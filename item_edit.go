package wims

import "context"

// ItemEditor creates items and changes their stock levels without
// replacing them, as the console's forms do. PutItem would also do, but it
// replaces: a create would overwrite an item someone else just created, and
// a level change would write the quantity the caller read, undoing a
// reservation committed since (and overselling). Both store engines
// implement it.
type ItemEditor interface {
	// CreateItem stores a new item, stamped Now, and records an INSERT.
	// Returns ECONFLICT when the SKU exists and EINVALID for a bad item.
	CreateItem(ctx context.Context, item Item) (Item, error)
	// SetThresholds sets sku's lowStockThreshold and highStockThreshold
	// (0: none), keeping its quantity as stored at that moment. Returns
	// ENOTFOUND for an unknown SKU and EINVALID (with the field) for levels
	// Item.Validate refuses.
	SetThresholds(ctx context.Context, sku string, low, high int64) (Item, error)
}

// SetThresholds sets an item's stock levels under its row lock and records
// an UPDATE change; the quantity is the locked row's, so no concurrent
// reservation or adjustment is lost. Returns ENOTFOUND for an unknown SKU
// and EINVALID (with the field) for levels Item.Validate refuses.
func (tx Tx) SetThresholds(sku string, low, high int64) (Item, error) {
	old, found, err := tx.Rows.LockItem(sku)
	if err != nil {
		return Item{}, err
	}
	if !found {
		return Item{}, ItemNotFound(sku)
	}
	item := old
	item.LowStockThreshold, item.HighStockThreshold, item.UpdatedAt = low, high, tx.Now
	if err := item.Validate(); err != nil {
		return Item{}, err
	}
	if err := tx.Rows.UpdateItem(item); err != nil {
		return Item{}, err
	}
	if err := tx.record(TableInventory, ItemKey(item.SKU), old, item); err != nil {
		return Item{}, err
	}
	return item, nil
}

// CreateItem stores a new item, stamped Now, and records an INSERT change.
// item must have passed Validate. Returns ECONFLICT when the SKU exists,
// also when a concurrent transaction inserted it first.
func (tx Tx) CreateItem(item Item) (Item, error) {
	item.UpdatedAt = tx.Now
	_, found, err := tx.Rows.LockItem(item.SKU)
	if err != nil {
		return Item{}, err
	}
	res := InsertKeyExists
	if !found {
		if res, err = tx.Rows.InsertItem(item); err != nil {
			return Item{}, err
		}
	}
	if res != InsertDone {
		return Item{}, Errorf(ECONFLICT, "an item with SKU %s already exists", item.SKU)
	}
	if err := tx.record(TableInventory, ItemKey(item.SKU), nil, item); err != nil {
		return Item{}, err
	}
	return item, nil
}
