package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// CountOrders counts the orders per status (an index-only scan of
// orders_status when the visibility map allows it).
func (s *Store) CountOrders(ctx context.Context) (map[wims.OrderStatus]int64, error) {
	out := map[wims.OrderStatus]int64{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT status, COUNT(*) FROM orders GROUP BY status`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var st string
			var n int64
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			out[wims.OrderStatus(st)] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("count orders", err)
	}
	return out, nil
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
	var (
		cursorAt time.Time
		cursorID string
		args     []any
	)
	if f.Cursor != "" {
		at, id, err := wims.DecodeOrderCursor(f.Cursor)
		if err != nil {
			return wims.OrderPage{}, err
		}
		cursorAt, cursorID = at, id
	}
	// param adds an argument and returns its placeholder.
	param := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// where is the filter but the SKU on orders o, the cursor on t (o, or
	// order_lines l).
	where := func(t string) string {
		var w []string
		if f.CustomerID != "" {
			w = append(w, "o.customer_id = "+param(f.CustomerID))
		}
		if f.Status != "" {
			w = append(w, "o.status = "+param(string(f.Status)))
		}
		if f.Cursor != "" {
			// Row values compare lexicographically: strictly after the
			// cursor's order in (created_at DESC, order_id DESC) order.
			// order_id is COLLATE "C", so this is byte order, as in SQLite.
			w = append(w, "("+t+".created_at, "+t+".order_id) < ("+param(cursorAt)+", "+param(cursorID)+")")
		}
		if len(w) == 0 {
			return ""
		}
		return " AND " + strings.Join(w, " AND ")
	}
	// One more than asked tells whether there is a next page.
	limit := param(f.Limit + 1)
	newest := ` ORDER BY created_at DESC, order_id DESC LIMIT ` + limit
	var q string
	if f.SKU == "" {
		q = `SELECT ` + orderColumns + ` FROM orders o WHERE true` + where("o") + newest
	} else {
		sku := param(f.SKU)
		one := `SELECT o.order_id FROM orders o WHERE o.sku = ` + sku + where("o") +
			` ORDER BY o.created_at DESC, o.order_id DESC LIMIT ` + limit
		many := `SELECT l.order_id FROM order_lines l JOIN orders o ON o.order_id = l.order_id WHERE l.sku = ` + sku +
			where("l") + ` ORDER BY l.created_at DESC, l.order_id DESC LIMIT ` + limit
		q = `SELECT ` + orderColumns + ` FROM orders WHERE order_id IN ((` + one + `) UNION ALL (` + many + `))` + newest
	}

	orders := []wims.Order{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				return err
			}
			orders = append(orders, o)
		}
		return rows.Err()
	})
	if err != nil {
		return wims.OrderPage{}, wrap("list orders", err)
	}
	return wims.NewOrderPage(orders, f.Limit), nil
}

// OrderHistory returns an order's status changes, oldest first, or ENOTFOUND
// when there is no such order. Entries are written in the same transaction
// as the insert or transition they record (qInsertOrder, qSetStatus).
func (s *Store) OrderHistory(ctx context.Context, orderID string) ([]wims.StatusChange, error) {
	out := []wims.StatusChange{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT status, reason, at FROM order_history WHERE order_id = $1 ORDER BY seq`, orderID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				sc     wims.StatusChange
				status string
				at     time.Time
			)
			if err := rows.Scan(&status, &sc.Reason, &at); err != nil {
				return err
			}
			sc.Status, sc.At = wims.OrderStatus(status), at.UTC()
			out = append(out, sc)
		}
		return rows.Err()
	})
	if err != nil {
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
