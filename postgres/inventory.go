package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// itemColumns is the column list scanItem expects.
const itemColumns = `sku, product_name, model, quantity, low_stock_threshold, updated_at, high_stock_threshold, allow_backorder`

// Item statements.
const (
	qGetItem = `SELECT ` + itemColumns + ` FROM inventory WHERE sku = $1`
	// qLockItem reads an item for its old image and locks it until the
	// transaction ends. NO KEY UPDATE, not UPDATE: it does not conflict with
	// the KEY SHARE lock an order insert's foreign key check takes.
	qLockItem = qGetItem + ` FOR NO KEY UPDATE`
	// qTryLockItem is qLockItem failing at once (lock_not_available, which
	// write retries) rather than waiting for another transaction's lock.
	qTryLockItem = qLockItem + ` NOWAIT`
	qInsertItem  = `INSERT INTO inventory (` + itemColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (sku) DO NOTHING`
	qUpdateItem = `UPDATE inventory SET product_name = $2, model = $3, quantity = $4, low_stock_threshold = $5, updated_at = $6,
		high_stock_threshold = $7, allow_backorder = $8 WHERE sku = $1`
	qSetQuantity = `UPDATE inventory SET quantity = $2, updated_at = $3 WHERE sku = $1`
)

// PutItem creates or replaces an item and records an INSERT or UPDATE
// change; see wims.Tx.PutItem. Returns EINVALID for a bad item.
func (s *Store) PutItem(ctx context.Context, item wims.Item) (wims.Item, error) {
	if err := item.Validate(); err != nil {
		return wims.Item{}, err
	}
	return transition(s, ctx, "put item", item.SKU, func(tx wims.Tx) (wims.Item, error) { return tx.PutItem(item) })
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
		return wims.Item{}, wims.ItemNotFound(sku)
	}
	return it, nil
}

// ListItems returns all items ordered by SKU (byte order).
func (s *Store) ListItems(ctx context.Context) ([]wims.Item, error) {
	return s.queryItems(ctx, `SELECT `+itemColumns+` FROM inventory ORDER BY sku`)
}

// ListItemsAfter implements wims.ItemPager, in the byte order ListItems
// uses, so pages follow one another without gaps or repeats.
func (s *Store) ListItemsAfter(ctx context.Context, after string, limit int) ([]wims.Item, error) {
	return s.queryItems(ctx, `SELECT `+itemColumns+` FROM inventory WHERE sku > $1 ORDER BY sku LIMIT $2`, after, wims.ClampItemPage(limit))
}

// queryItems runs a query of itemColumns and returns its items (never nil).
func (s *Store) queryItems(ctx context.Context, query string, args ...any) ([]wims.Item, error) {
	items := []wims.Item{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, query, args...)
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
// change; see wims.Tx.AdjustStock. Returns EINVALID for a bad adjustment.
func (s *Store) AdjustStock(ctx context.Context, sku string, adj wims.Adjustment) (wims.Item, error) {
	if err := adj.Validate(); err != nil {
		return wims.Item{}, err
	}
	return transition(s, ctx, "adjust stock", sku, func(tx wims.Tx) (wims.Item, error) { return tx.AdjustStock(sku, adj) })
}

// LockItem implements wims.TxRows.
func (r txRows) LockItem(sku string) (wims.Item, bool, error) {
	return getItem(r.w.ctx, r.w, qLockItem, sku)
}

// TryLockItem implements wims.TxRows.
func (r txRows) TryLockItem(sku string) (wims.Item, bool, error) {
	return getItem(r.w.ctx, r.w, qTryLockItem, sku)
}

// InsertItem implements wims.TxRows. If a concurrent transaction inserted
// the SKU first, the insert waits for it and does nothing; should the
// caller's context have ended meanwhile, that is the error, so that the
// caller's lock-or-insert loop ends.
func (r txRows) InsertItem(it wims.Item) (wims.InsertOutcome, error) {
	tag, err := r.w.exec(qInsertItem, it.SKU, it.ProductName, it.Model, it.Quantity, it.LowStockThreshold, it.UpdatedAt,
		it.HighStockThreshold, it.AllowBackorder)
	if err != nil {
		return 0, err
	}
	if tag.RowsAffected() == 1 {
		return wims.InsertDone, nil
	}
	return wims.InsertKeyExists, r.w.ctx.Err()
}

// UpdateItem implements wims.TxRows.
func (r txRows) UpdateItem(it wims.Item) error {
	_, err := r.w.exec(qUpdateItem, it.SKU, it.ProductName, it.Model, it.Quantity, it.LowStockThreshold, it.UpdatedAt,
		it.HighStockThreshold, it.AllowBackorder)
	return err
}

// SetQuantity implements wims.TxRows.
func (r txRows) SetQuantity(it wims.Item) error {
	_, err := r.w.exec(qSetQuantity, it.SKU, it.Quantity, it.UpdatedAt)
	return err
}

// TakeStock implements wims.TxRows.
func (r txRows) TakeStock(sku string, quantity int64, at time.Time) (bool, error) {
	tag, err := r.w.exec(qReserve, sku, quantity, at)
	return tag.RowsAffected() == 1, err
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
	if err := r.Scan(&it.SKU, &it.ProductName, &it.Model, &it.Quantity, &it.LowStockThreshold, &at, &it.HighStockThreshold,
		&it.AllowBackorder); err != nil {
		return wims.Item{}, err
	}
	it.UpdatedAt = at.UTC()
	return it, nil
}
