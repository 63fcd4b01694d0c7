package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// insertColumns are the columns a new one-line order sets; stock_released
// starts false, carrier and tracking_id empty (their defaults), and lines
// NULL (the one line of sku and quantity, see wims.EncodeOrderLines).
const insertColumns = `order_id, customer_id, sku, quantity, status, reason, created_at, updated_at`

// orderColumns is the column list scanOrder expects.
const orderColumns = insertColumns + `, stock_released, carrier, tracking_id, lines`

// Order statements.
const (
	qGetOrder = `SELECT ` + orderColumns + ` FROM orders WHERE order_id = $1`
	// qLockOrder reads an order and locks it until the transaction ends, so
	// its transitions happen one at a time.
	qLockOrder = qGetOrder + ` FOR NO KEY UPDATE`
	// qInsertOrder inserts an order and its PENDING history entry in one
	// statement. On a duplicate id it inserts nothing (waiting first for a
	// concurrent insert of the same id to commit or roll back).
	qInsertOrder = `WITH o AS (
		INSERT INTO orders (` + insertColumns + `, lines) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (order_id) DO NOTHING
		RETURNING order_id, status, reason, updated_at
	)
	INSERT INTO order_history (order_id, status, reason, at) SELECT order_id, status, reason, updated_at FROM o`
	// qReserve carries the stock guard in the UPDATE itself.
	qReserve = `UPDATE inventory SET quantity = quantity - $2, updated_at = $3 WHERE sku = $1 AND quantity >= $2`
	// qSetStatus is a compare-and-set on the status, with the history entry
	// written in the same statement.
	qSetStatus = `WITH o AS (
		UPDATE orders SET status = $3, reason = $4, updated_at = $5, stock_released = $6, carrier = $7, tracking_id = $8
		WHERE order_id = $1 AND status = $2
		RETURNING order_id, status, reason, updated_at
	)
	INSERT INTO order_history (order_id, status, reason, at) SELECT order_id, status, reason, updated_at FROM o`
)

// CreateOrder inserts a PENDING order with order.ID and records an INSERT
// change and the PENDING history entry; see wims.Tx.CreateOrder. Concurrent
// calls share transactions (group commit, batch.go); each returns only once
// its order is committed. Returns EINVALID for a bad order or ID, with field
// "sku" when the SKU does not exist.
func (s *Store) CreateOrder(ctx context.Context, order wims.Order) (wims.Order, bool, error) {
	if err := order.ValidateCreate(); err != nil {
		return wims.Order{}, false, err
	}
	// Order creation is the accept path, so it is group-committed (batch.go).
	// o and created are read only after batched reports the outcome, never
	// after it returned early for ctx, when the closure may still run.
	var (
		o       wims.Order
		created bool
	)
	err := s.batched(ctx, func(w *writeTx) error {
		var err error
		o, created, err = w.domain().CreateOrder(order)
		return err
	})
	if err != nil {
		return wims.Order{}, false, wrap("create order "+order.ID, err)
	}
	return o, created, nil
}

// GetOrder returns the order with the ID, or ENOTFOUND.
func (s *Store) GetOrder(ctx context.Context, id string) (wims.Order, error) {
	var (
		o     wims.Order
		found bool
	)
	err := s.read(ctx, func(c *pgx.Conn) error {
		var err error
		o, found, err = getOrder(ctx, c, qGetOrder, id)
		return err
	})
	if err != nil {
		return wims.Order{}, wrap("get order "+id, err)
	}
	if !found {
		return wims.Order{}, wims.OrderNotFound(id)
	}
	return o, nil
}

// ReserveStock moves a PENDING order to RESERVED or REJECTED; see
// wims.Tx.ReserveStock. Like the other transitions of the order pipeline
// (CompletePayment, CompleteRefund, ShipOrder), it shares a transaction with
// concurrent ones (group commit, batch.go) and returns only once that has
// committed.
func (s *Store) ReserveStock(ctx context.Context, orderID string) (wims.Order, error) {
	return batchedTransition(s, ctx, "reserve", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.ReserveStock(orderID)
	})
}

// CompletePayment moves a RESERVED order to PAID or PAYMENT_FAILED; see
// wims.Tx.CompletePayment.
func (s *Store) CompletePayment(ctx context.Context, orderID string, paid bool, reason string) (wims.Order, error) {
	return batchedTransition(s, ctx, "complete payment", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.CompletePayment(orderID, paid, reason)
	})
}

// CancelOrder cancels an order; see wims.Tx.CancelOrder.
func (s *Store) CancelOrder(ctx context.Context, orderID string) (wims.Order, error) {
	return transition(s, ctx, "cancel order", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.CancelOrder(orderID)
	})
}

// CompleteRefund moves a REFUND_PENDING order to REFUNDED; see
// wims.Tx.CompleteRefund.
func (s *Store) CompleteRefund(ctx context.Context, orderID string) (wims.Order, error) {
	return batchedTransition(s, ctx, "complete refund", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.CompleteRefund(orderID)
	})
}

// ShipOrder marks a PAID order SHIPPED; see wims.Tx.ShipOrder. Returns
// EINVALID for a bad shipment.
func (s *Store) ShipOrder(ctx context.Context, orderID string, sh wims.Shipment) (wims.Order, error) {
	if err := sh.Validate(); err != nil {
		return wims.Order{}, err
	}
	return batchedTransition(s, ctx, "ship order", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.ShipOrder(orderID, sh)
	})
}

// LockOrder implements wims.TxRows.
func (r txRows) LockOrder(id string) (wims.Order, bool, error) {
	return getOrder(r.w.ctx, r.w, qLockOrder, id)
}

// ReadOrder implements wims.TxRows.
func (r txRows) ReadOrder(id string) (wims.Order, bool, error) {
	return getOrder(r.w.ctx, r.w, qGetOrder, id)
}

// InsertOrder implements wims.TxRows. The insert does nothing on a
// duplicate id, after waiting for a concurrent insert of the same id to
// commit or roll back, and the foreign key reports an unknown SKU; so there
// is no read before it.
func (r txRows) InsertOrder(o wims.Order) (wims.Order, wims.InsertOutcome, error) {
	lines, err := wims.EncodeOrderLines(o)
	if err != nil {
		return wims.Order{}, 0, err
	}
	tag, err := r.w.exec(qInsertOrder, o.ID, o.CustomerID, o.SKU, o.Quantity, string(o.Status), o.Reason,
		o.CreatedAt, o.UpdatedAt, lines)
	if pgCode(err) == pgForeignKeyViolation {
		return wims.Order{}, wims.InsertReferenceMissing, nil
	}
	if err != nil {
		return wims.Order{}, 0, err
	}
	if tag.RowsAffected() == 1 {
		if lines != nil { // a multi-line order: index every line by SKU (0011)
			if err := r.insertLines(o); err != nil {
				return wims.Order{}, 0, err
			}
		}
		return wims.Order{}, wims.InsertDone, nil
	}
	// The id exists (committed before this statement or by the concurrent
	// insert it waited for): return that order.
	existing, found, err := getOrder(r.w.ctx, r.w, qGetOrder, o.ID)
	if err != nil {
		return wims.Order{}, 0, err
	}
	if !found { // impossible: orders are never deleted
		return wims.Order{}, 0, fmt.Errorf("order %s conflicts but cannot be read", o.ID)
	}
	return existing, wims.InsertKeyExists, nil
}

// qItemExists tells whether an item exists, without locking it.
const qItemExists = `SELECT EXISTS (SELECT 1 FROM inventory WHERE sku = $1)`

// ItemExists implements wims.TxRows.
func (r txRows) ItemExists(sku string) (bool, error) {
	var ok bool
	err := r.w.QueryRow(r.w.ctx, qItemExists, sku).Scan(&ok)
	return ok, err
}

// SetOrderStatus implements wims.TxRows, with the history entry written by
// the same statement. The caller holds the order's row lock, so the
// compare-and-set always applies.
func (r txRows) SetOrderStatus(old, next wims.Order) error {
	tag, err := r.w.exec(qSetStatus, old.ID, string(old.Status), string(next.Status), next.Reason, next.UpdatedAt,
		next.StockReleased, next.Carrier, next.TrackingID)
	if err != nil {
		return err
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("order %s changed under its row lock", old.ID)
	}
	return nil
}

// Statements of the index of multi-line orders' lines (0011).
const (
	// qInsertLines indexes an order's lines, given as parallel arrays, in
	// one statement.
	qInsertLines = `INSERT INTO order_lines (order_id, sku, quantity, created_at)
		SELECT $1::text, u.sku, u.quantity, $4::timestamptz FROM unnest($2::text[], $3::bigint[]) AS u (sku, quantity)`
	qSetBackordered = `UPDATE order_lines SET backordered = $2 WHERE order_id = $1`
)

// insertLines indexes the lines of the multi-line order o, just inserted.
// The foreign key reports a line's unknown SKU (CreateOrder checked them,
// and items are never deleted).
func (r txRows) insertLines(o wims.Order) error {
	skus, quantities := make([]string, len(o.Lines)), make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		skus[i], quantities[i] = l.SKU, l.Quantity
	}
	if _, err := r.w.exec(qInsertLines, o.ID, skus, quantities, o.CreatedAt); err != nil {
		return fmt.Errorf("index the lines of order %s: %w", o.ID, err)
	}
	return nil
}

// SetLinesBackordered implements wims.TxRows.
func (r txRows) SetLinesBackordered(id string, backordered bool) error {
	_, err := r.w.exec(qSetBackordered, id, backordered)
	return err
}

// Backorder statements. A SKU's queue is two index ranges, oldest first:
// the one-line orders (and multi-line orders whose first line it is) in
// the partial index orders_backordered (0009), and the multi-line orders
// with a line of it in the partial index order_lines_backordered (0011).
// A multi-line order may be in both; IN removes the repeat.
const (
	qHasBackorders = `SELECT EXISTS (SELECT 1 FROM orders WHERE sku = $1 AND status = 'BACKORDERED')
		OR EXISTS (SELECT 1 FROM order_lines WHERE sku = $1 AND backordered)`
	qBackorderIDs = `(SELECT order_id FROM orders WHERE sku = $1 AND status = 'BACKORDERED'
			ORDER BY created_at, order_id LIMIT $2)
		UNION ALL
		(SELECT order_id FROM order_lines WHERE sku = $1 AND backordered ORDER BY created_at, order_id LIMIT $2)`
	// qLockBackorders locks as qLockOrder does. Under READ COMMITTED a row
	// a concurrent cancel changed is re-checked once its lock is granted,
	// so a cancelled order is skipped, not filled.
	qLockBackorders = `SELECT ` + orderColumns + ` FROM orders WHERE order_id IN (` + qBackorderIDs + `)
		AND status = 'BACKORDERED' ORDER BY created_at, order_id LIMIT $2 FOR NO KEY UPDATE`
	qFirstBackorder = `SELECT order_id FROM orders WHERE order_id IN (` + qBackorderIDs + `)
		AND status = 'BACKORDERED' ORDER BY created_at, order_id LIMIT $2`
)

// qBackorderSKUs lists the SKUs of the lines of the first $2 multi-line
// BACKORDERED orders with a line of $1.
const qBackorderSKUs = `SELECT DISTINCT l.sku FROM (SELECT order_id FROM order_lines WHERE sku = $1 AND backordered
		ORDER BY created_at, order_id LIMIT $2) q JOIN order_lines l ON l.order_id = q.order_id`

// BackorderSKUs implements wims.TxRows.
func (r txRows) BackorderSKUs(sku string, limit int) ([]string, error) {
	rows, err := r.w.Query(r.w.ctx, qBackorderSKUs, sku, limit)
	if err != nil {
		return nil, err
	}
	skus, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("backorder SKUs of %s: %w", sku, err)
	}
	return skus, nil
}

// HasBackorders implements wims.TxRows.
func (r txRows) HasBackorders(sku string) (bool, error) {
	var waiting bool
	err := r.w.QueryRow(r.w.ctx, qHasBackorders, sku).Scan(&waiting)
	return waiting, err
}

// FirstBackorder implements wims.TxRows. Each range reads its first entry
// only.
func (r txRows) FirstBackorder(sku string) (string, bool, error) {
	var id string
	err := r.w.QueryRow(r.w.ctx, qFirstBackorder, sku, 1).Scan(&id)
	if errNoRows(err) {
		return "", false, nil
	}
	return id, err == nil, err
}

// LockBackorders implements wims.TxRows.
func (r txRows) LockBackorders(sku string, limit int) ([]wims.Order, error) {
	rows, err := r.w.Query(r.w.ctx, qLockBackorders, sku, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []wims.Order
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// getOrder reads one order with query (qGetOrder or qLockOrder) through q;
// found is false if there is none.
func getOrder(ctx context.Context, q querier, query, id string) (o wims.Order, found bool, err error) {
	o, err = scanOrder(q.QueryRow(ctx, query, id))
	if errNoRows(err) {
		return wims.Order{}, false, nil
	}
	if err != nil {
		return wims.Order{}, false, err
	}
	return o, true, nil
}

// scanOrder reads the columns listed in orderColumns.
func scanOrder(r pgx.Row) (wims.Order, error) {
	var (
		o                  wims.Order
		status             string
		lines              *string
		created, updatedAt time.Time
	)
	if err := r.Scan(&o.ID, &o.CustomerID, &o.SKU, &o.Quantity, &status, &o.Reason, &created, &updatedAt,
		&o.StockReleased, &o.Carrier, &o.TrackingID, &lines); err != nil {
		return wims.Order{}, err
	}
	if err := wims.DecodeOrderLines(&o, lines); err != nil {
		return wims.Order{}, err
	}
	o.Status = wims.OrderStatus(status)
	o.CreatedAt = created.UTC()
	o.UpdatedAt = updatedAt.UTC()
	return o, nil
}
