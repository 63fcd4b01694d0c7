package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wims/wims"
)

// insertColumns are the columns a new one-line order sets; stock_released
// starts false, carrier and tracking_id empty (their defaults), and lines
// NULL (the one line of sku and quantity, see wims.EncodeOrderLines).
const insertColumns = `order_id, customer_id, sku, quantity, status, reason, created_at, updated_at`

// orderColumns is the column list scanOrder expects.
const orderColumns = insertColumns + `, stock_released, carrier, tracking_id, lines`

// Statements the writer prepares once (see writerStatements).
const (
	qGetOrder    = `SELECT ` + orderColumns + ` FROM orders WHERE order_id = ?`
	qSKUExists   = `SELECT 1 FROM inventory WHERE sku = ?`
	qInsertOrder = `INSERT INTO orders (` + insertColumns + `, lines) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// qReserve carries the stock guard in the UPDATE itself.
	qReserve   = `UPDATE inventory SET quantity = quantity - ?, updated_at = ? WHERE sku = ? AND quantity >= ?`
	qSetStatus = `UPDATE orders SET status = ?, reason = ?, stock_released = ?, carrier = ?, tracking_id = ?, updated_at = ?
		WHERE order_id = ? AND status = ?`
)

// CreateOrder inserts a PENDING order with order.ID and records an INSERT
// change; see wims.Tx.CreateOrder. Returns EINVALID for a bad order or ID,
// with field "sku" when the SKU does not exist.
func (s *Store) CreateOrder(ctx context.Context, order wims.Order) (wims.Order, bool, error) {
	if err := order.ValidateCreate(); err != nil {
		return wims.Order{}, false, err
	}
	var created bool
	o, err := transition(s, ctx, "create order", order.ID, func(tx wims.Tx) (o wims.Order, err error) {
		o, created, err = tx.CreateOrder(order)
		return o, err
	})
	// err first: after a cancelled wait the writer may still be setting created.
	return o, err == nil && created, err
}

// GetOrder returns the order with the ID, or ENOTFOUND.
func (s *Store) GetOrder(ctx context.Context, id string) (wims.Order, error) {
	o, found, err := getOrder(ctx, reader{s}, id)
	if err != nil {
		return wims.Order{}, wrap("get order "+id, err)
	}
	if !found {
		return wims.Order{}, wims.OrderNotFound(id)
	}
	return o, nil
}

// ReserveStock moves a PENDING order to RESERVED or REJECTED; see
// wims.Tx.ReserveStock.
func (s *Store) ReserveStock(ctx context.Context, orderID string) (wims.Order, error) {
	return transition(s, ctx, "reserve", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.ReserveStock(orderID)
	})
}

// CompletePayment moves a RESERVED order to PAID or PAYMENT_FAILED; see
// wims.Tx.CompletePayment.
func (s *Store) CompletePayment(ctx context.Context, orderID string, paid bool, reason string) (wims.Order, error) {
	return transition(s, ctx, "complete payment", orderID, func(tx wims.Tx) (wims.Order, error) {
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
	return transition(s, ctx, "complete refund", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.CompleteRefund(orderID)
	})
}

// ShipOrder marks a PAID order SHIPPED; see wims.Tx.ShipOrder. Returns
// EINVALID for a bad shipment.
func (s *Store) ShipOrder(ctx context.Context, orderID string, sh wims.Shipment) (wims.Order, error) {
	if err := sh.Validate(); err != nil {
		return wims.Order{}, err
	}
	return transition(s, ctx, "ship order", orderID, func(tx wims.Tx) (wims.Order, error) {
		return tx.ShipOrder(orderID, sh)
	})
}

// LockOrder implements wims.TxRows.
func (r txRows) LockOrder(id string) (wims.Order, bool, error) {
	return getOrder(r.w.ctx(), r.w, id)
}

// ReadOrder implements wims.TxRows: the same read, as the single writer is
// the only lock.
func (r txRows) ReadOrder(id string) (wims.Order, bool, error) { return r.LockOrder(id) }

// InsertOrder implements wims.TxRows. Looking for the order and then
// inserting it is safe because nothing else writes in between (the single
// writer). The SKU is looked for too, so that an unknown one is reported as
// such and not as a failed foreign key.
func (r txRows) InsertOrder(o wims.Order) (wims.Order, wims.InsertOutcome, error) {
	existing, found, err := getOrder(r.w.ctx(), r.w, o.ID)
	if err != nil {
		return wims.Order{}, 0, err
	}
	if found {
		return existing, wims.InsertKeyExists, nil
	}
	var one int
	err = r.w.QueryRowContext(r.w.ctx(), qSKUExists, o.SKU).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return wims.Order{}, wims.InsertReferenceMissing, nil
	}
	if err != nil {
		return wims.Order{}, 0, err
	}
	lines, err := wims.EncodeOrderLines(o)
	if err != nil {
		return wims.Order{}, 0, err
	}
	if _, err := r.w.exec(qInsertOrder, o.ID, o.CustomerID, o.SKU, o.Quantity, string(o.Status), o.Reason,
		toMicros(o.CreatedAt), toMicros(o.UpdatedAt), lines); err != nil {
		return wims.Order{}, 0, err
	}
	if lines != nil { // a multi-line order: index every line by SKU (0012)
		for _, l := range o.Lines {
			if _, err := r.w.exec(qInsertLine, o.ID, l.SKU, l.Quantity, toMicros(o.CreatedAt)); err != nil {
				return wims.Order{}, 0, fmt.Errorf("index line %s of order %s: %w", l.SKU, o.ID, err)
			}
		}
	}
	return wims.Order{}, wims.InsertDone, recordHistory(r.w, o)
}

// ItemExists implements wims.TxRows.
func (r txRows) ItemExists(sku string) (bool, error) {
	var one int
	err := r.w.QueryRowContext(r.w.ctx(), qSKUExists, sku).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SetOrderStatus implements wims.TxRows.
func (r txRows) SetOrderStatus(old, next wims.Order) error {
	res, err := r.w.exec(qSetStatus, string(next.Status), next.Reason, next.StockReleased, next.Carrier,
		next.TrackingID, toMicros(next.UpdatedAt), old.ID, string(old.Status))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return fmt.Errorf("order %s changed under the writer", old.ID)
	}
	return recordHistory(r.w, next)
}

// Statements of the index of multi-line orders' lines (0012).
const (
	qInsertLine     = `INSERT INTO order_lines (order_id, sku, quantity, created_at) VALUES (?, ?, ?, ?)`
	qSetBackordered = `UPDATE order_lines SET backordered = ? WHERE order_id = ?`
)

// Backorder statements. A SKU's queue is two index ranges, oldest first:
// the one-line orders (and multi-line orders whose first line it is) in
// the partial index orders_backordered (0010), and the multi-line orders
// with a line of it in the partial index order_lines_backordered (0012).
// A multi-line order may be in both; IN removes the repeat. The ORDER BY
// of a range, and the unary + on the outer status test, steer SQLite's
// planner (which has no statistics) to those ranges and to primary-key
// lookups, rather than to orders_status, which holds the backorders of
// every SKU.
const (
	qHasBackorders = `SELECT EXISTS (SELECT 1 FROM (SELECT order_id FROM orders WHERE sku = ?1 AND status = 'BACKORDERED'
			ORDER BY created_at, order_id LIMIT 1))
		OR EXISTS (SELECT 1 FROM order_lines WHERE sku = ?1 AND backordered = 1)`
	qBackorderIDs = `SELECT order_id FROM (SELECT order_id FROM orders WHERE sku = ?1 AND status = 'BACKORDERED'
			ORDER BY created_at, order_id LIMIT ?2)
		UNION ALL
		SELECT order_id FROM (SELECT order_id FROM order_lines WHERE sku = ?1 AND backordered = 1
			ORDER BY created_at, order_id LIMIT ?2)`
	qLockBackorders = `SELECT ` + orderColumns + ` FROM orders WHERE order_id IN (` + qBackorderIDs + `)
		AND +status = 'BACKORDERED' ORDER BY created_at, order_id LIMIT ?2`
	qFirstBackorder = `SELECT order_id FROM orders WHERE order_id IN (` + qBackorderIDs + `)
		AND +status = 'BACKORDERED' ORDER BY created_at, order_id LIMIT ?2`
)

// SetLinesBackordered implements wims.TxRows.
func (r txRows) SetLinesBackordered(id string, backordered bool) error {
	_, err := r.w.exec(qSetBackordered, backordered, id)
	return err
}

// qBackorderSKUs lists the SKUs of the lines of the first ?2 multi-line
// BACKORDERED orders with a line of ?1.
const qBackorderSKUs = `SELECT DISTINCT l.sku FROM (SELECT order_id FROM order_lines WHERE sku = ?1 AND backordered = 1
		ORDER BY created_at, order_id LIMIT ?2) q JOIN order_lines l ON l.order_id = q.order_id`

// BackorderSKUs implements wims.TxRows. The single writer runs nothing
// concurrently, so lock order does not matter here, but the rows are the
// same for both engines.
func (r txRows) BackorderSKUs(sku string, limit int) ([]string, error) {
	rows, err := r.w.tx.QueryContext(r.w.ctx(), qBackorderSKUs, sku, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// HasBackorders implements wims.TxRows.
func (r txRows) HasBackorders(sku string) (bool, error) {
	var waiting bool
	err := r.w.QueryRowContext(r.w.ctx(), qHasBackorders, sku).Scan(&waiting)
	return waiting, err
}

// FirstBackorder implements wims.TxRows. Each range reads its first entry
// only.
func (r txRows) FirstBackorder(sku string) (string, bool, error) {
	var id string
	err := r.w.QueryRowContext(r.w.ctx(), qFirstBackorder, sku, 1).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return id, err == nil, err
}

// LockBackorders implements wims.TxRows; the single writer is the lock.
func (r txRows) LockBackorders(sku string, limit int) ([]wims.Order, error) {
	rows, err := r.w.tx.QueryContext(r.w.ctx(), qLockBackorders, sku, limit)
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

// getOrder reads one order through q; found is false if there is none.
func getOrder(ctx context.Context, q queryer, id string) (o wims.Order, found bool, err error) {
	o, err = scanOrder(q.QueryRowContext(ctx, qGetOrder, id))
	if errors.Is(err, sql.ErrNoRows) {
		return wims.Order{}, false, nil
	}
	if err != nil {
		return wims.Order{}, false, err
	}
	return o, true, nil
}

// scanOrder reads the columns listed in orderColumns.
func scanOrder(r scanner) (wims.Order, error) {
	var (
		o                  wims.Order
		status             string
		lines              *string
		created, updatedAt int64
	)
	if err := r.Scan(&o.ID, &o.CustomerID, &o.SKU, &o.Quantity, &status, &o.Reason, &created, &updatedAt,
		&o.StockReleased, &o.Carrier, &o.TrackingID, &lines); err != nil {
		return wims.Order{}, err
	}
	if err := wims.DecodeOrderLines(&o, lines); err != nil {
		return wims.Order{}, err
	}
	o.Status = wims.OrderStatus(status)
	o.CreatedAt = fromMicros(created)
	o.UpdatedAt = fromMicros(updatedAt)
	return o, nil
}
