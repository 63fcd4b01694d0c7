package wims

import "context"

// Store is the system of record: inventory, orders and the change log that
// every write to them appends to in the same transaction. Implementations
// (sqlite, postgres) hold only SQL; the rules live in this package.
//
// Every write that changes an inventory, orders or resources row appends one
// Change per row changed, with old and new images, atomically with the
// change.
type Store interface {
	InventoryStore
	OrderStore
	ChangeLog
	PaymentLog
	ExecutionLog
	NotificationLog
	ResourceStore
	EventPayloadStore
	Close() error
}

// InventoryStore keeps stock levels.
type InventoryStore interface {
	// PutItem creates or replaces an item (an INSERT or UPDATE change).
	// Returns EINVALID for a bad item.
	PutItem(ctx context.Context, item Item) (Item, error)
	// GetItem returns ENOTFOUND when the SKU does not exist.
	GetItem(ctx context.Context, sku string) (Item, error)
	// ListItems returns all items ordered by SKU.
	ListItems(ctx context.Context) ([]Item, error)
	// AdjustStock adds delta to an item's quantity. Returns ENOTFOUND for an
	// unknown SKU and EINSUFFICIENT when the quantity would drop below 0.
	AdjustStock(ctx context.Context, sku string, adj Adjustment) (Item, error)
}

// OrderStore keeps orders and applies the order workflow's effects. Each
// effect is a guarded state transition, so applying it again (a redelivered
// event) changes nothing and returns the order as it is.
type OrderStore interface {
	// CreateOrder inserts a PENDING order with the given ID. If an order with
	// that ID exists it is returned with created=false and nothing changes,
	// which makes a retried request with the same idempotency key safe.
	// Returns EINVALID (field "sku") when the SKU does not exist.
	CreateOrder(ctx context.Context, order Order) (o Order, created bool, err error)
	// GetOrder returns ENOTFOUND when there is no such order.
	GetOrder(ctx context.Context, id string) (Order, error)
	// ReserveStock moves a PENDING order to RESERVED, decrementing its SKU's
	// quantity only if enough is on hand, or to REJECTED (reason given) if
	// not. An order in any other status is returned unchanged.
	ReserveStock(ctx context.Context, orderID string) (Order, error)
	// CompletePayment moves a RESERVED order to PAID (paid=true) or to
	// PAYMENT_FAILED with its stock released (paid=false). An order in any
	// other status is returned unchanged.
	CompletePayment(ctx context.Context, orderID string, paid bool, reason string) (Order, error)
	// CancelOrder cancels an order: PENDING or RESERVED → CANCELLED (stock
	// released), PAID → REFUND_PENDING; a CANCELLED order is returned
	// unchanged. Returns ENOTFOUND for an unknown order and ECONFLICT for
	// any other status. See Tx.CancelOrder.
	CancelOrder(ctx context.Context, orderID string) (Order, error)
	// CompleteRefund moves a REFUND_PENDING order to REFUNDED, releasing its
	// stock unless that happened at its cancel. An order in any other
	// status is returned unchanged.
	CompleteRefund(ctx context.Context, orderID string) (Order, error)
	// ShipOrder marks a PAID order SHIPPED with the shipment, which it
	// validates (EINVALID naming the field); the same shipment again
	// returns the SHIPPED order unchanged. Returns ENOTFOUND for an
	// unknown order and ECONFLICT for any other status or a different
	// shipment. See Tx.ShipOrder.
	ShipOrder(ctx context.Context, orderID string, s Shipment) (Order, error)
	// ListOrders returns a page of the orders matching f, newest first by
	// (CreatedAt, ID) descending, and the cursor of the next page ("" when
	// there is none). Cursors are EncodeOrderCursor's, so they stay valid
	// while orders are added. Returns EINVALID for a bad filter, with field
	// "cursor" for a cursor it cannot decode.
	ListOrders(ctx context.Context, f OrderFilter) (OrderPage, error)
	// CountOrders returns how many orders are in each status (statuses with
	// none are absent), from the status index, so that a dashboard can show
	// them for any number of orders.
	CountOrders(ctx context.Context) (map[OrderStatus]int64, error)
	// OrderHistory returns the status changes of an order, oldest first: its
	// PENDING creation and every transition, each recorded in the same
	// transaction as the change itself. Returns ENOTFOUND for an unknown order.
	OrderHistory(ctx context.Context, orderID string) ([]StatusChange, error)
}

// ChangeLog reads the changes recorded with every write, for the relay.
type ChangeLog interface {
	// ReadChanges returns up to limit changes with Seq > after, in Seq order.
	ReadChanges(ctx context.Context, after int64, limit int) ([]Change, error)
	// ChangeSignal returns a channel that receives (without blocking the
	// writer, coalesced) after each commit that appended changes.
	ChangeSignal() <-chan struct{}
	// Origin names the engine, for the events' meta.origin.
	Origin() string
}

// PaymentLog records calls to the payments API.
type PaymentLog interface {
	// RecordPaymentAttempt appends an attempt; Attempt numbers are the caller's.
	RecordPaymentAttempt(ctx context.Context, a PaymentAttempt) error
	// PaymentAttempts lists an order's attempts, oldest first.
	PaymentAttempts(ctx context.Context, orderID string) ([]PaymentAttempt, error)
}

// ExecutionLog records order-workflow executions.
type ExecutionLog interface {
	// SaveExecution creates or replaces an execution by ID.
	SaveExecution(ctx context.Context, e Execution) error
	// Executions lists an order's executions, oldest first.
	Executions(ctx context.Context, orderID string) ([]Execution, error)
}

// NotificationLog remembers which crossings have been reported where, so a
// crossing is reported once per receiver even when its event is redelivered.
type NotificationLog interface {
	// MarkNotified records that notification id reached target. It returns
	// false if that was already recorded.
	MarkNotified(ctx context.Context, id, target string) (bool, error)
	// Notified reports whether notification id already reached target.
	Notified(ctx context.Context, id, target string) (bool, error)
}
