package sqlite

import (
	"context"
	"strings"

	"github.com/wims/wims"
)

// qInsertHistory appends one status change to an order's history; the writer
// prepares it once, since every order insert and transition runs it.
const qInsertHistory = `INSERT INTO order_history (order_id, status, reason, at) VALUES (?, ?, ?, ?)`

// recordHistory appends o's current status to its history, in the write's
// transaction, so the history and the order never disagree.
func recordHistory(w *writeTx, o wims.Order) error {
	_, err := w.exec(qInsertHistory, o.ID, string(o.Status), o.Reason, toMicros(o.UpdatedAt))
	return err
}

// CountOrders counts the orders per status; the GROUP BY reads only the
// orders_status index.
func (s *Store) CountOrders(ctx context.Context) (map[wims.OrderStatus]int64, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT status, COUNT(*) FROM orders GROUP BY status`)
	if err != nil {
		return nil, wrap("count orders", err)
	}
	defer rows.Close()
	out := map[wims.OrderStatus]int64{}
	for rows.Next() {
		var st string
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, wrap("count orders", err)
		}
		out[wims.OrderStatus(st)] = n
	}
	return out, wrap("count orders", rows.Err())
}

// ListOrders returns a page of orders matching f, newest first by
// (created_at DESC, order_id DESC), and the cursor of the next page. Returns
// EINVALID for a bad filter or cursor (field "cursor").
func (s *Store) ListOrders(ctx context.Context, f wims.OrderFilter) (wims.OrderPage, error) {
	if err := f.Validate(); err != nil {
		return wims.OrderPage{}, err
	}
	var (
		where []string
		args  []any
	)
	if f.CustomerID != "" {
		where = append(where, "customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, string(f.Status))
	}
	if f.SKU != "" {
		where = append(where, "sku = ?")
		args = append(args, f.SKU)
	}
	if f.Cursor != "" {
		at, id, err := wims.DecodeOrderCursor(f.Cursor)
		if err != nil {
			return wims.OrderPage{}, err
		}
		// Row values compare lexicographically: strictly after the cursor's
		// order in (created_at DESC, order_id DESC) order.
		where = append(where, "(created_at, order_id) < (?, ?)")
		args = append(args, toMicros(at), id)
	}
	q := `SELECT ` + orderColumns + ` FROM orders`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	// One more than asked tells whether there is a next page.
	q += ` ORDER BY created_at DESC, order_id DESC LIMIT ?`
	args = append(args, f.Limit+1)
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return wims.OrderPage{}, wrap("list orders", err)
	}
	defer rows.Close()
	orders := []wims.Order{}
	for rows.Next() {
		o, err := scanOrder(rows)
		if err != nil {
			return wims.OrderPage{}, wrap("list orders", err)
		}
		orders = append(orders, o)
	}
	if err := rows.Err(); err != nil {
		return wims.OrderPage{}, wrap("list orders", err)
	}
	return wims.NewOrderPage(orders, f.Limit), nil
}

// OrderHistory returns an order's status changes, oldest first, or ENOTFOUND
// when there is no such order.
func (s *Store) OrderHistory(ctx context.Context, orderID string) ([]wims.StatusChange, error) {
	rows, err := s.rdb.QueryContext(ctx,
		`SELECT status, reason, at FROM order_history WHERE order_id = ? ORDER BY seq`, orderID)
	if err != nil {
		return nil, wrap("order history "+orderID, err)
	}
	defer rows.Close()
	out := []wims.StatusChange{}
	for rows.Next() {
		var (
			c      wims.StatusChange
			status string
			at     int64
		)
		if err := rows.Scan(&status, &c.Reason, &at); err != nil {
			return nil, wrap("order history "+orderID, err)
		}
		c.Status, c.At = wims.OrderStatus(status), fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("order history "+orderID, err)
	}
	if len(out) == 0 {
		// Every order has at least its PENDING entry.
		if _, err := s.GetOrder(ctx, orderID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
