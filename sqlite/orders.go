package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/wims/wims"
)

// orderColumns is the column list scanOrder expects.
const orderColumns = `order_id, customer_id, sku, quantity, status, reason, created_at, updated_at`

// Statements the writer prepares once (see writerStatements).
const (
	qGetOrder    = `SELECT ` + orderColumns + ` FROM orders WHERE order_id = ?`
	qSKUExists   = `SELECT 1 FROM inventory WHERE sku = ?`
	qInsertOrder = `INSERT INTO orders (` + orderColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	// qReserve carries the stock guard in the UPDATE itself.
	qReserve   = `UPDATE inventory SET quantity = quantity - ?, updated_at = ? WHERE sku = ? AND quantity >= ?`
	qSetStatus = `UPDATE orders SET status = ?, reason = ?, updated_at = ? WHERE order_id = ? AND status = ?`
)

// maxOrderIDLen bounds client-chosen order ids (idempotency keys).
const maxOrderIDLen = 128

// CreateOrder inserts a PENDING order with order.ID, stamping CreatedAt and
// UpdatedAt, and records an INSERT change; the status and reason passed in
// are ignored. If the ID exists, the stored order is returned with
// created=false and nothing is written. Returns EINVALID for a bad order or
// ID, with field "sku" when the SKU does not exist.
func (s *Store) CreateOrder(ctx context.Context, order wims.Order) (wims.Order, bool, error) {
	if order.ID == "" {
		return wims.Order{}, false, wims.FieldError("orderId", "is required")
	}
	if len(order.ID) > maxOrderIDLen {
		return wims.Order{}, false, wims.FieldError("orderId", "must be at most %d characters", maxOrderIDLen)
	}
	if err := order.Validate(); err != nil {
		return wims.Order{}, false, err
	}
	var (
		out     wims.Order
		created bool
	)
	err := s.write(ctx, func(w *writeTx) error {
		existing, found, err := getOrder(w.ctx(), w, order.ID)
		if err != nil {
			return err
		}
		if found {
			out, created = existing, false
			return nil
		}
		var one int
		err = w.QueryRowContext(w.ctx(), qSKUExists, order.SKU).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return wims.FieldError("sku", "unknown SKU %q", order.SKU)
		}
		if err != nil {
			return err
		}
		o := wims.Order{
			ID: order.ID, CustomerID: order.CustomerID, SKU: order.SKU, Quantity: order.Quantity,
			Status: wims.OrderPending, CreatedAt: w.now, UpdatedAt: w.now,
		}
		if _, err := w.exec(qInsertOrder, o.ID, o.CustomerID, o.SKU, o.Quantity, string(o.Status), o.Reason,
			toMicros(o.CreatedAt), toMicros(o.UpdatedAt)); err != nil {
			return err
		}
		if err := recordChange(w, wims.TableOrders, orderKey(o.ID), nil, o); err != nil {
			return err
		}
		if err := recordHistory(w, o); err != nil {
			return err
		}
		out, created = o, true
		return nil
	})
	if err != nil {
		return wims.Order{}, false, wrap("create order "+order.ID, err)
	}
	return out, created, nil
}

// GetOrder returns the order with the ID, or ENOTFOUND.
func (s *Store) GetOrder(ctx context.Context, id string) (wims.Order, error) {
	o, found, err := getOrder(ctx, s.rdb, id)
	if err != nil {
		return wims.Order{}, wrap("get order "+id, err)
	}
	if !found {
		return wims.Order{}, wims.Errorf(wims.ENOTFOUND, "order %q not found", id)
	}
	return o, nil
}

// ReserveStock moves a PENDING order to RESERVED, taking its quantity from
// stock with a conditional decrement, or to REJECTED with the reason
// "insufficient stock: requested N, available M". It records an inventory
// UPDATE change (if reserved) and an order UPDATE change. An order in any
// other status is returned unchanged with no change recorded, so a
// redelivered request is harmless. Returns ENOTFOUND for an unknown order.
func (s *Store) ReserveStock(ctx context.Context, orderID string) (wims.Order, error) {
	var out wims.Order
	err := s.write(ctx, func(w *writeTx) error {
		o, err := mustGetOrder(w, orderID)
		if err != nil {
			return err
		}
		if o.Status != wims.OrderPending {
			out = o
			return nil
		}
		item, found, err := getItem(w.ctx(), w, o.SKU)
		if err != nil {
			return err
		}
		// The guard is in the UPDATE itself, so stock can never go below what
		// is on hand even if the read above and this write ever drifted apart.
		res, err := w.exec(qReserve, o.Quantity, toMicros(w.now), o.SKU, o.Quantity)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		next := o
		if n == 1 {
			newItem := item
			newItem.Quantity -= o.Quantity
			newItem.UpdatedAt = w.now
			if err := recordChange(w, wims.TableInventory, skuKey(o.SKU), item, newItem); err != nil {
				return err
			}
			next = o.Reserve(true, 0)
		} else {
			available := int64(0)
			if found {
				available = item.Quantity
			}
			next = o.Reserve(false, available)
		}
		out, err = updateOrder(w, o, next)
		return err
	})
	if err != nil {
		return wims.Order{}, wrap("reserve "+orderID, err)
	}
	return out, nil
}

// CompletePayment moves a RESERVED order to PAID (paid=true) or, with the
// reason, to PAYMENT_FAILED, putting its quantity back in stock (paid=false).
// It records an inventory UPDATE change (if stock was released) and an order
// UPDATE change. An order in any other status is returned unchanged with no
// change recorded. Returns ENOTFOUND for an unknown order.
func (s *Store) CompletePayment(ctx context.Context, orderID string, paid bool, reason string) (wims.Order, error) {
	var out wims.Order
	err := s.write(ctx, func(w *writeTx) error {
		o, err := mustGetOrder(w, orderID)
		if err != nil {
			return err
		}
		if o.Status != wims.OrderReserved {
			out = o
			return nil
		}
		next := o.Settle(paid, reason)
		if !paid {
			item, found, err := getItem(w.ctx(), w, o.SKU)
			if err != nil {
				return err
			}
			if !found { // impossible while orders.sku references inventory
				return fmt.Errorf("release stock: item %q missing", o.SKU)
			}
			if _, err := setQuantity(w, item, item.Quantity+o.Quantity); err != nil {
				return err
			}
		}
		out, err = updateOrder(w, o, next)
		return err
	})
	if err != nil {
		return wims.Order{}, wrap("complete payment "+orderID, err)
	}
	return out, nil
}

// updateOrder writes next's status and reason over old, stamps UpdatedAt and
// records the UPDATE change. The WHERE on the old status makes the transition
// a compare-and-set, so it can only ever apply once.
func updateOrder(w *writeTx, old, next wims.Order) (wims.Order, error) {
	next.UpdatedAt = w.now
	res, err := w.exec(qSetStatus, string(next.Status), next.Reason, toMicros(next.UpdatedAt), old.ID, string(old.Status))
	if err != nil {
		return wims.Order{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return wims.Order{}, err
	} else if n != 1 {
		return wims.Order{}, fmt.Errorf("order %s changed under the writer", old.ID)
	}
	if err := recordChange(w, wims.TableOrders, orderKey(old.ID), old, next); err != nil {
		return wims.Order{}, err
	}
	if err := recordHistory(w, next); err != nil {
		return wims.Order{}, err
	}
	return next, nil
}

// mustGetOrder reads an order in the writer's transaction, ENOTFOUND if none.
func mustGetOrder(w *writeTx, id string) (wims.Order, error) {
	o, found, err := getOrder(w.ctx(), w, id)
	if err != nil {
		return wims.Order{}, err
	}
	if !found {
		return wims.Order{}, wims.Errorf(wims.ENOTFOUND, "order %q not found", id)
	}
	return o, nil
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
		created, updatedAt int64
	)
	if err := r.Scan(&o.ID, &o.CustomerID, &o.SKU, &o.Quantity, &status, &o.Reason, &created, &updatedAt); err != nil {
		return wims.Order{}, err
	}
	o.Status = wims.OrderStatus(status)
	o.CreatedAt = fromMicros(created)
	o.UpdatedAt = fromMicros(updatedAt)
	return o, nil
}
