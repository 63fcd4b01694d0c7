package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// orderColumns is the column list scanOrder expects.
const orderColumns = `order_id, customer_id, sku, quantity, status, reason, created_at, updated_at`

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
		INSERT INTO orders (` + orderColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (order_id) DO NOTHING
		RETURNING order_id, status, reason, updated_at
	)
	INSERT INTO order_history (order_id, status, reason, at) SELECT order_id, status, reason, updated_at FROM o`
	// qReserve carries the stock guard in the UPDATE itself.
	qReserve = `UPDATE inventory SET quantity = quantity - $2, updated_at = $3 WHERE sku = $1 AND quantity >= $2`
	// qSetStatus is a compare-and-set on the status, with the history entry
	// written in the same statement.
	qSetStatus = `WITH o AS (
		UPDATE orders SET status = $3, reason = $4, updated_at = $5 WHERE order_id = $1 AND status = $2
		RETURNING order_id, status, reason, updated_at
	)
	INSERT INTO order_history (order_id, status, reason, at) SELECT order_id, status, reason, updated_at FROM o`
)

// maxOrderIDLen bounds client-chosen order ids (idempotency keys).
const maxOrderIDLen = 128

// CreateOrder inserts a PENDING order with order.ID, stamping CreatedAt and
// UpdatedAt, and records an INSERT change and the PENDING history entry; the
// status and reason passed in are ignored. If the ID exists, the stored order
// is returned with created=false and nothing is written. Returns EINVALID for
// a bad order or ID, with field "sku" when the SKU does not exist.
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
		o := wims.Order{
			ID: order.ID, CustomerID: order.CustomerID, SKU: order.SKU, Quantity: order.Quantity,
			Status: wims.OrderPending, CreatedAt: w.now, UpdatedAt: w.now,
		}
		tag, err := w.exec(qInsertOrder, o.ID, o.CustomerID, o.SKU, o.Quantity, string(o.Status), o.Reason,
			o.CreatedAt, o.UpdatedAt)
		if pgCode(err) == pgForeignKeyViolation {
			return wims.FieldError("sku", "unknown SKU %q", order.SKU)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// The id exists (committed before this statement or by the
			// concurrent insert it waited for): return that order.
			out, created = wims.Order{}, false
			existing, found, err := getOrder(w.ctx, w, qGetOrder, order.ID)
			if err != nil {
				return err
			}
			if !found { // impossible: orders are never deleted
				return fmt.Errorf("order %s conflicts but cannot be read", order.ID)
			}
			out = existing
			return nil
		}
		if err := recordChange(w, wims.TableOrders, orderKey(o.ID), nil, o); err != nil {
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
		o, err := mustLockOrder(w, orderID)
		if err != nil {
			return err
		}
		if o.Status != wims.OrderPending {
			out = o
			return nil
		}
		item, found, err := getItem(w.ctx, w, qLockItem, o.SKU)
		if err != nil {
			return err
		}
		// The guard is in the UPDATE itself, so stock can never go below what
		// is on hand even if the read above and this write ever drifted apart.
		tag, err := w.exec(qReserve, o.SKU, o.Quantity, w.now)
		if err != nil {
			return err
		}
		next := o
		if tag.RowsAffected() == 1 {
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
		o, err := mustLockOrder(w, orderID)
		if err != nil {
			return err
		}
		if o.Status != wims.OrderReserved {
			out = o
			return nil
		}
		next := o.Settle(paid, reason)
		if !paid {
			item, found, err := getItem(w.ctx, w, qLockItem, o.SKU)
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

// updateOrder writes next's status and reason over old, stamps UpdatedAt,
// appends the history entry and records the UPDATE change. The WHERE on the
// old status makes the transition a compare-and-set, so it can only ever
// apply once; the caller holds the order's row lock, so it always applies.
func updateOrder(w *writeTx, old, next wims.Order) (wims.Order, error) {
	next.UpdatedAt = w.now
	tag, err := w.exec(qSetStatus, old.ID, string(old.Status), string(next.Status), next.Reason, next.UpdatedAt)
	if err != nil {
		return wims.Order{}, err
	}
	if tag.RowsAffected() != 1 {
		return wims.Order{}, fmt.Errorf("order %s changed under its row lock", old.ID)
	}
	if err := recordChange(w, wims.TableOrders, orderKey(old.ID), old, next); err != nil {
		return wims.Order{}, err
	}
	return next, nil
}

// mustLockOrder reads and locks an order in w's transaction, ENOTFOUND if
// there is none.
func mustLockOrder(w *writeTx, id string) (wims.Order, error) {
	o, found, err := getOrder(w.ctx, w, qLockOrder, id)
	if err != nil {
		return wims.Order{}, err
	}
	if !found {
		return wims.Order{}, wims.Errorf(wims.ENOTFOUND, "order %q not found", id)
	}
	return o, nil
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
		created, updatedAt time.Time
	)
	if err := r.Scan(&o.ID, &o.CustomerID, &o.SKU, &o.Quantity, &status, &o.Reason, &created, &updatedAt); err != nil {
		return wims.Order{}, err
	}
	o.Status = wims.OrderStatus(status)
	o.CreatedAt = created.UTC()
	o.UpdatedAt = updatedAt.UTC()
	return o, nil
}
