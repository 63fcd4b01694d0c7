package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/wims/wims"
)

// itemColumns is the column list scanItem expects.
const itemColumns = `sku, product_name, model, quantity, low_stock_threshold, updated_at`

// Statements the writer prepares once (see writerStatements).
const (
	qGetItem    = `SELECT ` + itemColumns + ` FROM inventory WHERE sku = ?`
	qInsertItem = `INSERT INTO inventory (` + itemColumns + `) VALUES (?, ?, ?, ?, ?, ?)`
	qUpdateItem = `UPDATE inventory SET product_name = ?, model = ?, quantity = ?, low_stock_threshold = ?, updated_at = ?
		WHERE sku = ?`
	qSetQuantity = `UPDATE inventory SET quantity = ?, updated_at = ? WHERE sku = ?`
)

// PutItem creates or replaces an item, stamping UpdatedAt, and records an
// INSERT or UPDATE change. Returns EINVALID for a bad item.
func (s *Store) PutItem(ctx context.Context, item wims.Item) (wims.Item, error) {
	if err := item.Validate(); err != nil {
		return wims.Item{}, err
	}
	var out wims.Item
	err := s.write(ctx, func(w *writeTx) error {
		var err error
		out, err = putItem(w, item)
		return err
	})
	if err != nil {
		return wims.Item{}, wrap("put item "+item.SKU, err)
	}
	return out, nil
}

// putItem upserts item in w; shared by PutItem and seeding.
func putItem(w *writeTx, item wims.Item) (wims.Item, error) {
	old, found, err := getItem(w.ctx(), w, item.SKU)
	if err != nil {
		return wims.Item{}, err
	}
	item.UpdatedAt = w.now
	var oldImage any
	if found {
		oldImage = old
		_, err = w.exec(qUpdateItem, item.ProductName, item.Model, item.Quantity, item.LowStockThreshold, toMicros(item.UpdatedAt), item.SKU)
	} else {
		_, err = w.exec(qInsertItem, item.SKU, item.ProductName, item.Model, item.Quantity, item.LowStockThreshold, toMicros(item.UpdatedAt))
	}
	if err != nil {
		return wims.Item{}, err
	}
	if err := recordChange(w, wims.TableInventory, skuKey(item.SKU), oldImage, item); err != nil {
		return wims.Item{}, err
	}
	return item, nil
}

// GetItem returns the item with the SKU, or ENOTFOUND.
func (s *Store) GetItem(ctx context.Context, sku string) (wims.Item, error) {
	it, found, err := getItem(ctx, s.rdb, sku)
	if err != nil {
		return wims.Item{}, wrap("get item "+sku, err)
	}
	if !found {
		return wims.Item{}, wims.Errorf(wims.ENOTFOUND, "item %q not found", sku)
	}
	return it, nil
}

// ListItems returns all items ordered by SKU.
func (s *Store) ListItems(ctx context.Context) ([]wims.Item, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+itemColumns+` FROM inventory ORDER BY sku`)
	if err != nil {
		return nil, wrap("list items", err)
	}
	defer rows.Close()
	items := []wims.Item{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, wrap("list items", err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list items", err)
	}
	return items, nil
}

// AdjustStock adds adj.Delta to an item's quantity and records an UPDATE
// change. Returns EINVALID for a bad adjustment or one that would raise the
// quantity above wims.MaxQuantity, ENOTFOUND for an unknown SKU, and
// EINSUFFICIENT (saying how many are available) when the quantity would drop
// below 0. The reason is not stored: items have no field for it yet.
func (s *Store) AdjustStock(ctx context.Context, sku string, adj wims.Adjustment) (wims.Item, error) {
	if err := adj.Validate(); err != nil {
		return wims.Item{}, err
	}
	var out wims.Item
	err := s.write(ctx, func(w *writeTx) error {
		old, found, err := getItem(w.ctx(), w, sku)
		if err != nil {
			return err
		}
		if !found {
			return wims.Errorf(wims.ENOTFOUND, "item %q not found", sku)
		}
		q := old.Quantity + adj.Delta
		if q < 0 {
			return wims.Errorf(wims.EINSUFFICIENT, "cannot remove %d of %s: only %d available", -adj.Delta, sku, old.Quantity)
		}
		if q > wims.MaxQuantity {
			return wims.FieldError("delta", "would raise the quantity of %s to %d, above %d", sku, q, wims.MaxQuantity)
		}
		out, err = setQuantity(w, old, q)
		return err
	})
	if err != nil {
		return wims.Item{}, wrap("adjust stock "+sku, err)
	}
	return out, nil
}

// setQuantity writes an item's new quantity and records the UPDATE change;
// shared by adjustments and stock released by a failed payment.
func setQuantity(w *writeTx, old wims.Item, quantity int64) (wims.Item, error) {
	item := old
	item.Quantity = quantity
	item.UpdatedAt = w.now
	if _, err := w.exec(qSetQuantity, item.Quantity, toMicros(item.UpdatedAt), item.SKU); err != nil {
		return wims.Item{}, err
	}
	if err := recordChange(w, wims.TableInventory, skuKey(item.SKU), old, item); err != nil {
		return wims.Item{}, err
	}
	return item, nil
}

// getItem reads one item through q (the read pool or the writer's
// transaction); found is false if there is none.
func getItem(ctx context.Context, q queryer, sku string) (it wims.Item, found bool, err error) {
	it, err = scanItem(q.QueryRowContext(ctx, qGetItem, sku))
	if errors.Is(err, sql.ErrNoRows) {
		return wims.Item{}, false, nil
	}
	if err != nil {
		return wims.Item{}, false, err
	}
	return it, true, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanItem reads the columns listed in itemColumns.
func scanItem(r scanner) (wims.Item, error) {
	var (
		it wims.Item
		at int64
	)
	if err := r.Scan(&it.SKU, &it.ProductName, &it.Model, &it.Quantity, &it.LowStockThreshold, &at); err != nil {
		return wims.Item{}, err
	}
	it.UpdatedAt = fromMicros(at)
	return it, nil
}
