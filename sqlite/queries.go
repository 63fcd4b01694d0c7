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
//
// With a SKU the orders with a line of it are in two index ranges, read as
// two ordered, limited branches (orders_sku, and order_lines_sku for the
// multi-line orders, which may be in both) and merged: the page's orders
// are among the first limit+1 of either, so the page costs the same for
// any number of orders. A customer or status filter is applied in each
// branch.
func (s *Store) ListOrders(ctx context.Context, f wims.OrderFilter) (wims.OrderPage, error) {
	if err := f.Validate(); err != nil {
		return wims.OrderPage{}, err
	}
	var cursorAt int64
	var cursorID string
	if f.Cursor != "" {
		at, id, err := wims.DecodeOrderCursor(f.Cursor)
		if err != nil {
			return wims.OrderPage{}, err
		}
		cursorAt, cursorID = toMicros(at), id
	}
	var args []any
	// where is the filter but the SKU on orders o, the cursor on t (o, or
	// order_lines l).
	where := func(t string) string {
		var w []string
		if f.CustomerID != "" {
			w = append(w, "o.customer_id = ?")
			args = append(args, f.CustomerID)
		}
		if f.Status != "" {
			w = append(w, "o.status = ?")
			args = append(args, string(f.Status))
		}
		if f.Cursor != "" {
			// Row values compare lexicographically: strictly after the
			// cursor's order in (created_at DESC, order_id DESC) order.
			w = append(w, "("+t+".created_at, "+t+".order_id) < (?, ?)")
			args = append(args, cursorAt, cursorID)
		}
		if len(w) == 0 {
			return ""
		}
		return " AND " + strings.Join(w, " AND ")
	}
	const newest = ` ORDER BY created_at DESC, order_id DESC LIMIT ?`
	var q string
	if f.SKU == "" {
		q = `SELECT ` + orderColumns + ` FROM orders o WHERE 1` + where("o") + newest
	} else {
		args = append(args, f.SKU)
		one := `SELECT o.order_id FROM orders o WHERE o.sku = ?` + where("o") +
			` ORDER BY o.created_at DESC, o.order_id DESC LIMIT ?`
		args = append(args, f.Limit+1, f.SKU)
		many := `SELECT l.order_id FROM order_lines l JOIN orders o ON o.order_id = l.order_id WHERE l.sku = ?` +
			where("l") + ` ORDER BY l.created_at DESC, l.order_id DESC LIMIT ?`
		args = append(args, f.Limit+1)
		q = `SELECT ` + orderColumns + ` FROM orders WHERE order_id IN (SELECT order_id FROM (` + one +
			`) UNION ALL SELECT order_id FROM (` + many + `))` + newest
	}
	// One more than asked tells whether there is a next page.
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
