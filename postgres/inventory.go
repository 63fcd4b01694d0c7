package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// itemColumns is the column list scanItem expects.
const itemColumns = `sku, product_name, model, quantity, low_stock_threshold, updated_at`

// Item statements.
const (
	qGetItem = `SELECT ` + itemColumns + ` FROM inventory WHERE sku = $1`
	// qLockItem reads an item for its old image and locks it until the
	// transaction ends. NO KEY UPDATE, not UPDATE: it does not conflict with
	// the KEY SHARE lock an order insert's foreign key check takes.
	qLockItem   = qGetItem + ` FOR NO KEY UPDATE`
	qInsertItem = `INSERT INTO inventory (` + itemColumns + `) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (sku) DO NOTHING`
	qUpdateItem = `UPDATE inventory SET product_name = $2, model = $3, quantity = $4, low_stock_threshold = $5, updated_at = $6
		WHERE sku = $1`
	qSetQuantity = `UPDATE inventory SET quantity = $2, updated_at = $3 WHERE sku = $1`
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

// putItem upserts item in w; shared by PutItem and seeding. An existing row
// is locked before it is replaced. A new one is inserted with ON CONFLICT DO
// NOTHING: if a concurrent PutItem inserted the same SKU first, the insert
// waits for it, does nothing, and the loop locks and replaces that row.
func putItem(w *writeTx, item wims.Item) (wims.Item, error) {
	item.UpdatedAt = w.now
	for {
		old, found, err := getItem(w.ctx, w, qLockItem, item.SKU)
		if err != nil {
			return wims.Item{}, err
		}
		if found {
			if _, err := w.exec(qUpdateItem, item.SKU, item.ProductName, item.Model, item.Quantity,
				item.LowStockThreshold, item.UpdatedAt); err != nil {
				return wims.Item{}, err
			}
			if err := recordChange(w, wims.TableInventory, skuKey(item.SKU), old, item); err != nil {
				return wims.Item{}, err
			}
			return item, nil
		}
		tag, err := w.exec(qInsertItem, item.SKU, item.ProductName, item.Model, item.Quantity,
			item.LowStockThreshold, item.UpdatedAt)
		if err != nil {
			return wims.Item{}, err
		}
		if tag.RowsAffected() == 1 {
			if err := recordChange(w, wims.TableInventory, skuKey(item.SKU), nil, item); err != nil {
				return wims.Item{}, err
			}
			return item, nil
		}
		if err := w.ctx.Err(); err != nil {
			return wims.Item{}, err
		}
	}
}

// GetItem returns the item with the SKU, or ENOTFOUND.
func (s *Store) GetItem(ctx context.Context, sku string) (wims.Item, error) {
	var (
		it    wims.Item
		found bool
	)
	err := s.read(ctx, func(c *pgx.Conn) error {
		var err error
		it, found, err = getItem(ctx, c, qGetItem, sku)
		return err
	})
	if err != nil {
		return wims.Item{}, wrap("get item "+sku, err)
	}
	if !found {
		return wims.Item{}, wims.Errorf(wims.ENOTFOUND, "item %q not found", sku)
	}
	return it, nil
}

// ListItems returns all items ordered by SKU (byte order).
func (s *Store) ListItems(ctx context.Context) ([]wims.Item, error) {
	items := []wims.Item{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT `+itemColumns+` FROM inventory ORDER BY sku`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				return err
			}
			items = append(items, it)
		}
		return rows.Err()
	})
	if err != nil {
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
		old, found, err := getItem(w.ctx, w, qLockItem, sku)
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

// setQuantity writes the new quantity of an item that w has locked (old is
// its image) and records the UPDATE change; shared by adjustments and stock
// released by a failed payment.
func setQuantity(w *writeTx, old wims.Item, quantity int64) (wims.Item, error) {
	item := old
	item.Quantity = quantity
	item.UpdatedAt = w.now
	if _, err := w.exec(qSetQuantity, item.SKU, item.Quantity, item.UpdatedAt); err != nil {
		return wims.Item{}, err
	}
	if err := recordChange(w, wims.TableInventory, skuKey(item.SKU), old, item); err != nil {
		return wims.Item{}, err
	}
	return item, nil
}

// getItem reads one item with query (qGetItem or qLockItem) through q; found
// is false if there is none.
func getItem(ctx context.Context, q querier, query, sku string) (it wims.Item, found bool, err error) {
	it, err = scanItem(q.QueryRow(ctx, query, sku))
	if errNoRows(err) {
		return wims.Item{}, false, nil
	}
	if err != nil {
		return wims.Item{}, false, err
	}
	return it, true, nil
}

// scanItem reads the columns listed in itemColumns.
func scanItem(r pgx.Row) (wims.Item, error) {
	var (
		it wims.Item
		at time.Time
	)
	if err := r.Scan(&it.SKU, &it.ProductName, &it.Model, &it.Quantity, &it.LowStockThreshold, &at); err != nil {
		return wims.Item{}, err
	}
	it.UpdatedAt = at.UTC()
	return it, nil
}
