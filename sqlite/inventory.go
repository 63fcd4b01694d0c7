package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/wims/wims"
)

// itemColumns is the column list scanItem expects.
const itemColumns = `sku, product_name, model, quantity, low_stock_threshold, updated_at, high_stock_threshold, allow_backorder`

// Statements the writer prepares once (see writerStatements).
const (
	qGetItem    = `SELECT ` + itemColumns + ` FROM inventory WHERE sku = ?`
	qInsertItem = `INSERT INTO inventory (` + itemColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	qUpdateItem = `UPDATE inventory SET product_name = ?, model = ?, quantity = ?, low_stock_threshold = ?, updated_at = ?,
		high_stock_threshold = ?, allow_backorder = ? WHERE sku = ?`
	qSetQuantity = `UPDATE inventory SET quantity = ?, updated_at = ? WHERE sku = ?`
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
	it, found, err := getItem(ctx, s.rdb, sku)
	if err != nil {
		return wims.Item{}, wrap("get item "+sku, err)
	}
	if !found {
		return wims.Item{}, wims.ItemNotFound(sku)
	}
	return it, nil
}

// ListItems returns all items ordered by SKU.
func (s *Store) ListItems(ctx context.Context) ([]wims.Item, error) {
	return s.queryItems(ctx, `SELECT `+itemColumns+` FROM inventory ORDER BY sku`)
}

// ListItemsAfter implements wims.ItemPager: the primary key on sku makes
// it an index range scan.
func (s *Store) ListItemsAfter(ctx context.Context, after string, limit int) ([]wims.Item, error) {
	return s.queryItems(ctx, `SELECT `+itemColumns+` FROM inventory WHERE sku > ? ORDER BY sku LIMIT ?`, after, wims.ClampItemPage(limit))
}

// queryItems runs a query of itemColumns and returns its items (never nil).
func (s *Store) queryItems(ctx context.Context, query string, args ...any) ([]wims.Item, error) {
	rows, err := s.rdb.QueryContext(ctx, query, args...)
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
// change; see wims.Tx.AdjustStock. Returns EINVALID for a bad adjustment.
func (s *Store) AdjustStock(ctx context.Context, sku string, adj wims.Adjustment) (wims.Item, error) {
	if err := adj.Validate(); err != nil {
		return wims.Item{}, err
	}
	return transition(s, ctx, "adjust stock", sku, func(tx wims.Tx) (wims.Item, error) { return tx.AdjustStock(sku, adj) })
}

// LockItem implements wims.TxRows.
func (r txRows) LockItem(sku string) (wims.Item, bool, error) {
	return getItem(r.w.ctx(), r.w, sku)
}

// TryLockItem implements wims.TxRows: the single writer never waits for a
// lock, so it is LockItem.
func (r txRows) TryLockItem(sku string) (wims.Item, bool, error) { return r.LockItem(sku) }

// InsertItem implements wims.TxRows. LockItem found no item and nothing else
// writes, so the insert cannot meet an existing one.
func (r txRows) InsertItem(it wims.Item) (wims.InsertOutcome, error) {
	_, err := r.w.exec(qInsertItem, it.SKU, it.ProductName, it.Model, it.Quantity, it.LowStockThreshold, toMicros(it.UpdatedAt),
		it.HighStockThreshold, it.AllowBackorder)
	return wims.InsertDone, err
}

// UpdateItem implements wims.TxRows.
func (r txRows) UpdateItem(it wims.Item) error {
	_, err := r.w.exec(qUpdateItem, it.ProductName, it.Model, it.Quantity, it.LowStockThreshold, toMicros(it.UpdatedAt),
		it.HighStockThreshold, it.AllowBackorder, it.SKU)
	return err
}

// SetQuantity implements wims.TxRows.
func (r txRows) SetQuantity(it wims.Item) error {
	_, err := r.w.exec(qSetQuantity, it.Quantity, toMicros(it.UpdatedAt), it.SKU)
	return err
}

// TakeStock implements wims.TxRows.
func (r txRows) TakeStock(sku string, quantity int64, at time.Time) (bool, error) {
	res, err := r.w.exec(qReserve, quantity, toMicros(at), sku, quantity)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
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
	if err := r.Scan(&it.SKU, &it.ProductName, &it.Model, &it.Quantity, &it.LowStockThreshold, &at, &it.HighStockThreshold,
		&it.AllowBackorder); err != nil {
		return wims.Item{}, err
	}
	it.UpdatedAt = fromMicros(at)
	return it, nil
}
