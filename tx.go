package wims

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// TxRows are the row operations on orders, inventory and the write-side logs
// inside one write transaction of a store engine. Tx's transitions drive
// them, so every rule of a transition (status guards, stock checks, change
// records, error codes) is written once, here, and an engine holds only its
// SQL and its concurrency control: which reads lock, and how "insert unless
// it exists" is made safe. Methods that write never decide anything a
// transition could decide instead.
type TxRows interface {
	// LockOrder reads an order that a transition may change; found is false
	// if there is none. The row must stay as read until the transaction
	// ends, so that the transition decides on the row it replaces:
	// PostgreSQL locks it (FOR NO KEY UPDATE), SQLite's single writer runs
	// nothing else meanwhile.
	LockOrder(id string) (o Order, found bool, err error)
	// InsertOrder stores o, a new order with its lines (Order.WithLines),
	// with its first history entry and, for a multi-line order, its lines
	// in the index of lines by SKU (a one-line order's SKU is its row's),
	// unless an order with o.ID exists: then it writes nothing and returns
	// that order and InsertKeyExists. It returns InsertReferenceMissing, and
	// writes nothing, if no item has o.SKU; the caller must then fail the
	// transaction (PostgreSQL has aborted it already).
	InsertOrder(o Order) (existing Order, res InsertOutcome, err error)
	// ReadOrder reads an order without locking it; found is false if there
	// is none. Only a hint: a transition decides on the row LockOrder reads.
	ReadOrder(id string) (o Order, found bool, err error)
	// SetOrderStatus writes next's Status, Reason, StockReleased, Carrier,
	// TrackingID and UpdatedAt over the order if it still has old.Status, a
	// compare-and-set so a transition can only ever apply once, and appends
	// next to the order's history. It is an error if the order no longer has
	// old.Status, which LockOrder rules out.
	SetOrderStatus(old, next Order) error

	// HasBackorders reports whether a BACKORDERED order has a line of sku:
	// a one-line order for sku, or a multi-line order with a line of it.
	// The caller holds sku's item lock, under which every order with a line
	// of sku enters and leaves BACKORDERED (Tx takes the locks of all an
	// order's items for either move), so the answer is the queue new orders
	// join.
	HasBackorders(sku string) (bool, error)
	// FirstBackorder returns the id of the oldest BACKORDERED order, by
	// (CreatedAt, ID), with a line of sku, without locking it; found is
	// false if there is none. The caller holds sku's item lock, so the
	// answer holds until the transaction ends (see HasBackorders).
	FirstBackorder(sku string) (id string, found bool, err error)
	// LockBackorders reads up to limit BACKORDERED orders with a line of
	// sku, oldest first by (CreatedAt, ID), each locked as LockOrder locks.
	// The caller holds sku's item lock: a fill locks the item, then the
	// orders it fills, and a cancel of a BACKORDERED order takes its items'
	// locks before the order's (Tx.CancelOrder), so the two cannot deadlock.
	LockBackorders(sku string, limit int) ([]Order, error)
	// BackorderSKUs returns the SKUs of the lines of the first limit
	// multi-line BACKORDERED orders with a line of sku, oldest first,
	// without locking anything: the items a fill of sku's queue may lock
	// besides sku's. Only a hint, to take those locks in SKU order before
	// the fill (Tx.lockForFill); the fill decides on what it locks.
	BackorderSKUs(sku string, limit int) ([]string, error)
	// SetLinesBackordered marks the lines of the multi-line order id, which
	// InsertOrder indexed by SKU, as waiting or not: the index that
	// HasBackorders, FirstBackorder and LockBackorders read for multi-line
	// orders. Tx calls it with every move of a multi-line order into or out
	// of BACKORDERED, in the same transaction.
	SetLinesBackordered(id string, backordered bool) error

	// LockItem reads an item for its old image and keeps it as read until
	// the transaction ends (see LockOrder); found is false if there is none.
	LockItem(sku string) (it Item, found bool, err error)
	// TryLockItem is LockItem without waiting for a lock another
	// transaction holds: then it fails with an error on which the engine
	// runs the whole transition again, in a fresh transaction (PostgreSQL:
	// NOWAIT's lock_not_available, retried as a deadlock is). A fill takes
	// the locks it did not foresee, maybe out of SKU order, this way, so
	// that it never waits for them and so cannot deadlock (Tx.lockForFill).
	// SQLite's single writer never waits for a lock: there it is LockItem.
	TryLockItem(sku string) (it Item, found bool, err error)
	// InsertItem stores a new item. It returns InsertKeyExists, and writes
	// nothing, if an item with its SKU exists (PostgreSQL: one a concurrent
	// transaction inserted and committed since LockItem found none).
	InsertItem(it Item) (InsertOutcome, error)
	// ItemExists reports whether an item has sku, without locking it: a
	// multi-line order's CreateOrder checks its lines after the first, which
	// the orders table's foreign key does not cover. Items are never
	// deleted, so the answer holds until the order is reserved.
	ItemExists(sku string) (bool, error)
	// UpdateItem replaces every field of an existing item.
	UpdateItem(it Item) error
	// SetQuantity writes an existing item's Quantity and UpdatedAt.
	SetQuantity(it Item) error
	// TakeStock takes quantity of sku from stock, stamping the item at at,
	// only if that many are on hand; taken is false, and nothing is
	// written, if not. The guard is in the write itself, so stock never goes
	// below what is on hand even if what LockItem read and this write ever
	// drifted apart.
	TakeStock(sku string, quantity int64, at time.Time) (taken bool, err error)

	// InsertPaymentAttempt appends a to the payment attempts.
	InsertPaymentAttempt(a PaymentAttempt) error
	// UpsertExecution creates or replaces an execution by ID; steps is the
	// JSON of its Steps, which the engines store as text.
	UpsertExecution(e Execution, steps []byte) error
	// InsertNotified records that notification id reached target at at;
	// inserted is false, and nothing is written, if that was recorded
	// already (PostgreSQL: possibly by a concurrent transaction, which the
	// insert waited for).
	InsertNotified(id, target string, at time.Time) (inserted bool, err error)

	// Record appends a change to the change log in the same transaction.
	Record(c Change) error
}

// InsertOutcome says what an insert of TxRows did.
type InsertOutcome int

// Insert outcomes.
const (
	// InsertDone means the row was stored.
	InsertDone InsertOutcome = iota
	// InsertKeyExists means a row with the key exists; nothing was written.
	InsertKeyExists
	// InsertReferenceMissing means a row the new one refers to does not
	// exist; nothing was written.
	InsertReferenceMissing
)

// Tx is one write transaction of a store engine as the transitions see it.
// The transitions are its methods; an engine opens its transaction, calls
// one, and maps its errors, so a new transition is written once, here.
//
// A transition may be run again from the start in a fresh transaction
// (PostgreSQL retries a deadlock or serialization failure), so it returns
// its results and keeps no state between calls.
type Tx struct {
	// Rows are the engine's row operations in the transaction.
	Rows TxRows
	// Now stamps every row and change the transaction writes, already in
	// StoreTime form; read once, so that they all carry the same time.
	Now time.Time
	// TraceParent is the caller's W3C traceparent, recorded with each
	// change so the trace continues through the bus.
	TraceParent string
}

// StoreTime brings a time to the precision and zone both engines keep: UTC,
// microseconds, no monotonic reading, so that what a write returns equals
// (==) what a later read returns.
func StoreTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateOrder inserts a PENDING order with order.ID, stamped Now, and records
// an INSERT change; the status and reason passed in are ignored. If the ID
// exists, the stored order is returned with created=false and nothing is
// written. order must have passed ValidateCreate. Returns EINVALID (field
// "sku") when the SKU does not exist.
func (tx Tx) CreateOrder(order Order) (o Order, created bool, err error) {
	o = Order{
		ID: order.ID, CustomerID: order.CustomerID, SKU: order.SKU, Quantity: order.Quantity, Lines: order.Lines,
		Status: OrderPending, CreatedAt: tx.Now, UpdatedAt: tx.Now,
	}.WithLines()
	// The first line's SKU is the order's, which the engines check; the
	// others are checked here, so an unknown one is named by its field.
	for i, l := range o.Lines[1:] {
		ok, err := tx.Rows.ItemExists(l.SKU)
		if err != nil {
			return Order{}, false, err
		}
		if !ok {
			return Order{}, false, FieldError(fmt.Sprintf("lines[%d].sku", i+1), "unknown SKU %q", l.SKU)
		}
	}
	existing, res, err := tx.Rows.InsertOrder(o)
	switch {
	case err != nil:
		return Order{}, false, err
	case res == InsertKeyExists:
		return existing, false, nil
	case res == InsertReferenceMissing && len(order.Lines) > 0:
		return Order{}, false, FieldError("lines[0].sku", "unknown SKU %q", o.SKU)
	case res == InsertReferenceMissing:
		return Order{}, false, FieldError("sku", "unknown SKU %q", o.SKU)
	}
	if err := tx.record(TableOrders, OrderKey(o.ID), nil, o); err != nil {
		return Order{}, false, err
	}
	return o, true, nil
}

// ReserveStock moves a PENDING order to RESERVED, taking its quantity from
// stock with a guarded decrement, or to REJECTED with the reason
// "insufficient stock: requested N, available M". It records an inventory
// UPDATE change (if reserved) and an order UPDATE change. An order in any
// other status is returned unchanged with no change recorded, so a
// redelivered request is harmless. Returns ENOTFOUND for an unknown order.
//
// The order is locked before the item, the lock order every write keeps.
func (tx Tx) ReserveStock(orderID string) (Order, error) {
	o, err := tx.lockOrder(orderID)
	if err != nil || o.Status != OrderPending {
		return o, err
	}
	if len(o.Lines) > 1 {
		return tx.reserveLines(o)
	}
	item, found, err := tx.Rows.LockItem(o.SKU)
	if err != nil {
		return Order{}, err
	}
	backorder := found && item.AllowBackorder
	if backorder {
		// Orders already waiting come first: this one queues behind them
		// even if it would fit, or a stream of small orders could keep a
		// large one waiting forever.
		waiting, err := tx.Rows.HasBackorders(o.SKU)
		if err != nil {
			return Order{}, err
		}
		if waiting {
			return tx.setStatus(o, o.Backorder(-1))
		}
	}
	taken, err := tx.Rows.TakeStock(o.SKU, o.Quantity, tx.Now)
	if err != nil {
		return Order{}, err
	}
	if !taken {
		available := int64(0)
		if found {
			available = item.Quantity
		}
		if backorder {
			return tx.setStatus(o, o.Backorder(available))
		}
		return tx.setStatus(o, o.Reserve(false, available))
	}
	newItem := item
	newItem.Quantity -= o.Quantity
	newItem.UpdatedAt = tx.Now
	if err := tx.record(TableInventory, ItemKey(o.SKU), item, newItem); err != nil {
		return Order{}, err
	}
	return tx.setStatus(o, o.Reserve(true, 0))
}

// reserveLines is ReserveStock for a multi-line order: every line's stock
// is taken or none, in this one transaction. The items are locked in SKU
// order (Order.SortedLines), so orders over the same SKUs cannot deadlock,
// and all are checked before any is taken, so no outcome but RESERVED
// writes stock. The outcome:
//   - REJECTED if a line is beyond its item's stock and the item does not
//     allow backorders (the reason names the first such line in SKU order);
//   - else BACKORDERED if a line is beyond its item's stock, or its item
//     allows backorders and has orders waiting (they come first, as for a
//     one-line order), the reason naming the first such line; the order
//     then waits in the queue of every one of its SKUs (fillBackorders);
//   - else RESERVED with every line's stock taken.
func (tx Tx) reserveLines(o Order) (Order, error) {
	lines := o.SortedLines()
	items := make([]Item, len(lines))
	wait, waitAvailable := -1, int64(0) // the line the order waits for, if any
	for i, l := range lines {
		item, found, err := tx.Rows.LockItem(l.SKU)
		if err != nil {
			return Order{}, err
		}
		if !found { // impossible: CreateOrder checked every line's SKU, and items are never deleted
			return tx.setStatus(o, o.RejectLine(l, 0))
		}
		items[i] = item
		if item.AllowBackorder && wait < 0 {
			waiting, err := tx.Rows.HasBackorders(l.SKU)
			if err != nil {
				return Order{}, err
			}
			if waiting {
				wait, waitAvailable = i, -1
			}
		}
		if item.Quantity < l.Quantity {
			if !item.AllowBackorder {
				return tx.setStatus(o, o.RejectLine(l, item.Quantity))
			}
			if wait < 0 {
				wait, waitAvailable = i, item.Quantity
			}
		}
	}
	if wait >= 0 {
		return tx.setStatus(o, o.BackorderLine(lines[wait], waitAvailable))
	}
	for i, l := range lines {
		taken, err := tx.Rows.TakeStock(l.SKU, l.Quantity, tx.Now)
		if err != nil {
			return Order{}, err
		}
		if !taken { // impossible: the item is locked and was checked above
			return Order{}, fmt.Errorf("reserve: stock of %q changed under its lock", l.SKU)
		}
		newItem := items[i]
		newItem.Quantity -= l.Quantity
		newItem.UpdatedAt = tx.Now
		if err := tx.record(TableInventory, ItemKey(l.SKU), items[i], newItem); err != nil {
			return Order{}, err
		}
	}
	return tx.setStatus(o, o.Reserve(true, 0))
}

// CompletePayment moves a RESERVED order to PAID (paid=true) or, with the
// reason, to PAYMENT_FAILED, putting its quantity back in stock (paid=false).
// It records an inventory UPDATE change (if stock was released) and an order
// UPDATE change. Returns ENOTFOUND for an unknown order.
//
// A CANCELLED order whose charge was in flight at the cancel and succeeded
// (paid=true) moves to REFUND_PENDING with StockReleased set: the money is
// owed back and the refund returns it, while its stock went back at the
// cancel already and is not released again. An order in any other status,
// or a CANCELLED one that was not charged, is returned unchanged with no
// change recorded, so a redelivered answer is harmless.
func (tx Tx) CompletePayment(orderID string, paid bool, reason string) (Order, error) {
	o, err := tx.lockOrder(orderID)
	if err != nil {
		return o, err
	}
	switch {
	case o.Status == OrderCancelled && paid:
		next := o
		next.Status, next.Reason, next.StockReleased = OrderRefundPending, ReasonChargedAfterCancel, true
		return tx.setStatus(o, next)
	case o.Status != OrderReserved:
		return o, nil
	}
	next := o.Settle(paid, reason)
	if !paid {
		if err := tx.releaseStock(o); err != nil {
			return Order{}, err
		}
	}
	return tx.setStatus(o, next)
}

// CancelOrder cancels an order on a customer's request, in one transaction
// with every stock movement it causes:
//   - BACKORDERED → CANCELLED (nothing was taken), then the orders
//     queued behind it, in the queue of each of its SKUs, that can now be
//     had are filled (fillBackorders);
//   - PENDING → CANCELLED (nothing was taken); a workflow reserving
//     concurrently finds it CANCELLED and skips it (ReserveStock changes
//     only PENDING orders, and the order's lock serialises the two);
//   - RESERVED → CANCELLED with the stock put back. A charge in flight may
//     still succeed: CompletePayment then owes a refund (see there);
//   - PAID → REFUND_PENDING: the stock stays held until the refund
//     succeeds (CompleteRefund);
//   - CANCELLED: returned unchanged, nothing recorded (a repeated cancel).
//
// Any other status is ECONFLICT. Returns ENOTFOUND for an unknown order.
func (tx Tx) CancelOrder(orderID string) (Order, error) {
	// A backorder's cancel fills the queues behind it, under the locks of
	// its items. Those are taken first here, in SKU order, as a fill takes
	// an item's lock before the orders it locks, so the two cannot deadlock.
	// An unlocked read says whether they are needed; should the status
	// change before the order's lock is granted, the locked row decides,
	// and only the rare order that became BACKORDERED in between takes its
	// items after it, without waiting (filler.item): if one is busy, the
	// cancel runs again, and its read then sees the backorder.
	if peek, found, err := tx.Rows.ReadOrder(orderID); err != nil {
		return Order{}, err
	} else if found && peek.Status == OrderBackordered {
		skus := peek.LineSKUs()
		if err := tx.lockForFill(skus...); err != nil {
			return Order{}, err
		}
		for _, sku := range skus {
			if _, _, err := tx.Rows.LockItem(sku); err != nil {
				return Order{}, err
			}
		}
	}
	o, err := tx.lockOrder(orderID)
	if err != nil || o.Status == OrderCancelled {
		return o, err
	}
	next, ok := o.Cancel()
	if !ok {
		return Order{}, Errorf(ECONFLICT, "order %q is %s: only PENDING, BACKORDERED, RESERVED and PAID orders can be cancelled", o.ID, o.Status)
	}
	if o.Status == OrderBackordered {
		// Every line's item is locked (again, if the peek did) before the
		// order leaves BACKORDERED: the lock under which an order enters
		// and leaves every one of its SKUs' queues (TxRows.HasBackorders).
		f := tx.newFiller()
		for _, sku := range o.LineSKUs() {
			if _, err := f.item(sku); err != nil {
				return Order{}, err
			}
		}
		if next, err = tx.setStatus(o, next); err != nil {
			return Order{}, err
		}
		// The queues moved: orders behind this one may fit the stock on
		// hand, in the queue of any of its SKUs.
		f.work = append(f.work, f.locked...)
		if err := f.run(); err != nil {
			return Order{}, err
		}
		return next, f.write("")
	}
	if o.Status == OrderReserved {
		if err := tx.releaseStock(o); err != nil {
			return Order{}, err
		}
	}
	return tx.setStatus(o, next)
}

// CompleteRefund moves a REFUND_PENDING order to REFUNDED after the
// payments API refunded it, putting its quantity back in stock unless that
// happened at its cancel already (StockReleased). It records an inventory
// UPDATE change (if stock was released) and an order UPDATE change. An
// order in any other status is returned unchanged with no change recorded.
// Returns ENOTFOUND for an unknown order.
func (tx Tx) CompleteRefund(orderID string) (Order, error) {
	o, err := tx.lockOrder(orderID)
	if err != nil || o.Status != OrderRefundPending {
		return o, err
	}
	if o.HoldsStock() {
		if err := tx.releaseStock(o); err != nil {
			return Order{}, err
		}
	}
	next := o
	next.Status = OrderRefunded
	return tx.setStatus(o, next)
}

// ShipOrder marks a PAID order SHIPPED with its shipment s, which must have
// passed Validate, and records the order UPDATE change. The stock stays
// taken: it left with the order. A SHIPPED order with the same shipment is
// returned unchanged with nothing recorded, so a client may retry freely;
// with a different shipment, or in any other status, it is ECONFLICT.
// Returns ENOTFOUND for an unknown order.
func (tx Tx) ShipOrder(orderID string, s Shipment) (Order, error) {
	o, err := tx.lockOrder(orderID)
	if err != nil {
		return o, err
	}
	if o.Status == OrderShipped {
		if o.Carrier == s.Carrier && o.TrackingID == s.TrackingID {
			return o, nil
		}
		return Order{}, Errorf(ECONFLICT, "order %q was shipped already, with carrier %q and tracking id %q",
			o.ID, o.Carrier, o.TrackingID)
	}
	next, ok := o.Ship(s)
	if !ok {
		return Order{}, Errorf(ECONFLICT, "order %q is %s: only PAID orders can be shipped", o.ID, o.Status)
	}
	return tx.setStatus(o, next)
}

// releaseStock puts the quantity of every line of order o, which the
// transaction has locked, back in stock, each line's restock filling
// backorders. The order is locked before its items, and those in SKU order
// (Order.SortedLines), the lock order every write keeps, together with
// those the fills may need (lockForFill).
func (tx Tx) releaseStock(o Order) error {
	if err := tx.lockForFill(o.LineSKUs()...); err != nil {
		return err
	}
	for _, l := range o.SortedLines() {
		item, found, err := tx.Rows.LockItem(l.SKU)
		if err != nil {
			return err
		}
		if !found { // impossible: items are never deleted
			return fmt.Errorf("release stock: item %q missing", l.SKU)
		}
		if _, err := tx.restock(item, item.Quantity+l.Quantity); err != nil {
			return err
		}
	}
	return nil
}

// backorderBatch is how many backorders a fill locks at a time.
const backorderBatch = 100

// restock sets the quantity of item old, which the transaction has locked,
// to quantity, first filling the backorders waiting for it from it (see
// fillBackorders). The item is written, and its change recorded, once,
// with what is left, so a restock that is all taken by backorders is one
// change from the old quantity to the new, and crossings are those of the
// net movement. Nothing is written if nothing changed.
func (tx Tx) restock(old Item, quantity int64) (Item, error) {
	left, err := tx.fillBackorders(old, quantity)
	if err != nil {
		return Item{}, err
	}
	if left == old.Quantity {
		return old, nil
	}
	return tx.setQuantity(old, left)
}

// fillBackorders fills the backorders waiting for item old, which the
// transaction has locked, from available, and returns what is left of it;
// the caller writes that. Strictly first-come first-served, per SKU: the
// BACKORDERED orders with a line of the SKU are taken oldest first, each
// that can be filled moves to RESERVED with its stock taken, and the first
// that cannot stops the fill, so no later order overtakes it. A multi-line
// order can be filled only with all its lines: each other line's item must
// have the stock, and the order must be the oldest waiting for that SKU
// too (it is the first in every one of its queues). Filling one moves the
// queues of its other SKUs, which are then filled in turn (see filler);
// the other items it took stock from are written here, once each.
func (tx Tx) fillBackorders(old Item, available int64) (int64, error) {
	f := tx.newFiller()
	f.add(old, available)
	f.work = append(f.work, old.SKU)
	if err := f.run(); err != nil {
		return 0, err
	}
	if err := f.write(old.SKU); err != nil {
		return 0, err
	}
	return f.items[old.SKU].quantity, nil
}

// maxFillLocks bounds the items lockForFill locks ahead.
const maxFillLocks = 256

// lockForFill takes, before a fill of the queues of skus, the locks of the
// items the fill may need besides skus', together with skus' in SKU order,
// the order every other write locks items in: the SKUs of the multi-line
// orders waiting in those queues, and in theirs, found by an unlocked look
// (TxRows.BackorderSKUs). Without it a fill that meets a multi-line order
// would have to lock the order's other items out of SKU order, which it
// does only without waiting, running the transition again if they are
// busy (see filler). Should the queues change before the locks are
// granted, that is what happens. With no multi-line backorders it locks
// nothing: the caller locks skus' items itself.
func (tx Tx) lockForFill(skus ...string) error {
	seen := make(map[string]bool, len(skus))
	for _, sku := range skus {
		seen[sku] = true
	}
	todo, extra := slices.Clone(skus), false
	for len(todo) > 0 && len(seen) < maxFillLocks {
		sku := todo[0]
		todo = todo[1:]
		more, err := tx.Rows.BackorderSKUs(sku, backorderBatch)
		if err != nil {
			return err
		}
		for _, m := range more {
			if !seen[m] {
				seen[m], extra = true, true
				todo = append(todo, m)
			}
		}
	}
	if !extra {
		return nil
	}
	for _, sku := range slices.Sorted(maps.Keys(seen)) {
		if _, _, err := tx.Rows.LockItem(sku); err != nil {
			return err
		}
	}
	return nil
}

// filler is one fill of backorder queues in a transaction: the items it
// locked, with what is on hand as it takes stock, and the SKUs whose
// queues are still to be run. The quantities are written at the end, one
// change per item (write).
//
// The fill locks an item before the orders of its queue, as everywhere. A
// multi-line order's other items were locked ahead, in SKU order, by
// lockForFill; one it did not foresee (the queue changed in between) the
// fill locks when it reaches the order, maybe out of SKU order (a restock
// of B reaching an order of A and B locks B, then A), so it does not wait
// for it (TxRows.TryLockItem): a lock another transaction holds sends the
// whole transition round again, whose lockForFill then sees the order and
// locks its items in order. Waiting would deadlock with a transaction
// locking A, then B; PostgreSQL detects that only after deadlock_timeout
// (a second by default). SQLite's single writer has no concurrent
// transaction at all.
type filler struct {
	tx    Tx
	items map[string]*fillItem
	// locked are the items' SKUs in the order they were locked, so that
	// write records their changes in a stable order.
	locked []string
	// work are the SKUs whose queues are to be run, in order.
	work []string
}

// fillItem is one item of a fill.
type fillItem struct {
	old      Item  // as locked, the old image of its change
	quantity int64 // on hand, less what the fill took
}

// newFiller starts a fill with no items.
func (tx Tx) newFiller() *filler { return &filler{tx: tx, items: map[string]*fillItem{}} }

// add puts item old, which the caller has locked, in the fill at quantity
// on hand.
func (f *filler) add(old Item, quantity int64) {
	f.items[old.SKU] = &fillItem{old: old, quantity: quantity}
	f.locked = append(f.locked, old.SKU)
}

// item returns sku's item in the fill, locking it first if it is not in it.
func (f *filler) item(sku string) (*fillItem, error) {
	if it, ok := f.items[sku]; ok {
		return it, nil
	}
	// Not waited for: the transaction may hold items after sku's in SKU
	// order (see filler). An item this transaction locked already, ahead
	// or as the caller's, is granted at once.
	old, found, err := f.tx.Rows.TryLockItem(sku)
	if err != nil {
		return nil, err
	}
	if !found { // impossible: an order's SKUs have items, and items are never deleted
		return nil, fmt.Errorf("fill backorders: item %q missing", sku)
	}
	f.add(old, old.Quantity)
	return f.items[sku], nil
}

// run fills the queues of the SKUs in work until none is left. It ends:
// each queue run either fills an order, which leaves BACKORDERED for good,
// or stops at once.
func (f *filler) run() error {
	for len(f.work) > 0 {
		sku := f.work[0]
		f.work = f.work[1:]
		if err := f.runQueue(sku); err != nil {
			return err
		}
	}
	return nil
}

// runQueue fills sku's queue, oldest first, until an order cannot be filled.
func (f *filler) runQueue(sku string) error {
	for {
		batch, err := f.tx.Rows.LockBackorders(sku, backorderBatch)
		if err != nil {
			return err
		}
		for _, o := range batch {
			filled, err := f.fill(o, sku)
			if err != nil || !filled {
				return err
			}
		}
		if len(batch) < backorderBatch {
			return nil
		}
	}
}

// fill moves the BACKORDERED order o, the first in from's queue, to
// RESERVED if every one of its lines can be had: its item has the stock
// and, for a SKU other than from, o is the first in that SKU's queue too.
// filled is false, and nothing written, if not. The queues of o's other
// SKUs moved, so they are run again.
func (f *filler) fill(o Order, from string) (filled bool, err error) {
	lines := o.SortedLines()
	items := make([]*fillItem, len(lines))
	for i, l := range lines {
		it, err := f.item(l.SKU)
		if err != nil {
			return false, err
		}
		if it.quantity < l.Quantity {
			return false, nil
		}
		if l.SKU != from {
			first, found, err := f.tx.Rows.FirstBackorder(l.SKU)
			if err != nil {
				return false, err
			}
			if found && first != o.ID {
				return false, nil // an earlier order waits for l.SKU: it comes first
			}
		}
		items[i] = it
	}
	for i, l := range lines {
		items[i].quantity -= l.Quantity
		if l.SKU != from {
			f.work = append(f.work, l.SKU)
		}
	}
	if _, err := f.tx.setStatus(o, o.Reserve(true, 0)); err != nil {
		return false, err
	}
	return true, nil
}

// write writes the quantity of every item of the fill that changed, but
// skip's (the caller's to write), and records its change.
func (f *filler) write(skip string) error {
	for _, sku := range f.locked {
		it := f.items[sku]
		if sku == skip || it.quantity == it.old.Quantity {
			continue
		}
		if _, err := f.tx.setQuantity(it.old, it.quantity); err != nil {
			return err
		}
	}
	return nil
}

// PutItem creates or replaces an item, stamped Now, and records an INSERT or
// UPDATE change. item must have passed Validate. An existing row is locked
// before it is replaced; if a concurrent transaction inserts the same SKU
// between the lock finding none and the insert, the insert does nothing and
// the loop locks and replaces that row instead.
func (tx Tx) PutItem(item Item) (Item, error) {
	item.UpdatedAt = tx.Now
	// It may raise the quantity and fill backorders.
	if err := tx.lockForFill(item.SKU); err != nil {
		return Item{}, err
	}
	for {
		old, found, err := tx.Rows.LockItem(item.SKU)
		if err != nil {
			return Item{}, err
		}
		var oldImage any // stays nil (no row before) for an INSERT
		res := InsertDone
		if found {
			if item.Quantity > old.Quantity {
				// A restock: backorders come first (see restock).
				if item.Quantity, err = tx.fillBackorders(old, item.Quantity); err != nil {
					return Item{}, err
				}
			}
			oldImage, err = old, tx.Rows.UpdateItem(item)
		} else {
			res, err = tx.Rows.InsertItem(item)
		}
		switch {
		case err != nil:
			return Item{}, err
		case res != InsertDone:
			continue // a concurrent insert came first: lock and replace its row
		}
		if err := tx.record(TableInventory, ItemKey(item.SKU), oldImage, item); err != nil {
			return Item{}, err
		}
		return item, nil
	}
}

// AdjustStock adds adj.Delta to an item's quantity and records an UPDATE
// change. adj must have passed Validate. Returns ENOTFOUND for an unknown
// SKU, EINSUFFICIENT (saying how many are available) when the quantity would
// drop below 0, and EINVALID (field "delta") when it would rise above
// MaxQuantity. The reason is not stored: items have no field for it yet.
func (tx Tx) AdjustStock(sku string, adj Adjustment) (Item, error) {
	if adj.Delta > 0 {
		if err := tx.lockForFill(sku); err != nil {
			return Item{}, err
		}
	}
	old, found, err := tx.Rows.LockItem(sku)
	if err != nil {
		return Item{}, err
	}
	if !found {
		return Item{}, ItemNotFound(sku)
	}
	q := old.Quantity + adj.Delta
	if q < 0 {
		return Item{}, Errorf(EINSUFFICIENT, "cannot remove %d of %s: only %d available", -adj.Delta, sku, old.Quantity)
	}
	if q > MaxQuantity {
		return Item{}, FieldError("delta", "would raise the quantity of %s to %d, above %d", sku, q, MaxQuantity)
	}
	if adj.Delta > 0 {
		return tx.restock(old, q)
	}
	return tx.setQuantity(old, q)
}

// RecordPaymentAttempt appends an attempt, stamped Now if its At is zero.
// The log is append-only history, so recording the same attempt number twice
// (a redelivered payment) keeps both rows rather than failing. a must have
// passed Validate.
func (tx Tx) RecordPaymentAttempt(a PaymentAttempt) error {
	if a.At.IsZero() {
		a.At = tx.Now
	} else {
		a.At = StoreTime(a.At)
	}
	return tx.Rows.InsertPaymentAttempt(a)
}

// SaveExecution creates or replaces an execution by ID, with every time, the
// steps' included, in StoreTime form. e must have passed Validate. Nil steps
// stay nil (stored as JSON null), so they read back as they were given.
func (tx Tx) SaveExecution(e Execution) error {
	e.StartedAt = StoreTime(e.StartedAt)
	if !e.FinishedAt.IsZero() {
		e.FinishedAt = StoreTime(e.FinishedAt)
	}
	if e.Steps != nil {
		steps := make([]Step, len(e.Steps))
		for i, st := range e.Steps {
			st.StartedAt = StoreTime(st.StartedAt)
			steps[i] = st
		}
		e.Steps = steps // a copy: the caller's slice is not touched
	}
	stepsJSON, err := json.Marshal(e.Steps)
	if err != nil {
		return err
	}
	return tx.Rows.UpsertExecution(e, stepsJSON)
}

// MarkNotified records that notification id reached target and reports
// whether this call recorded it (false: it was already recorded). id and
// target must have passed ValidateNotified.
func (tx Tx) MarkNotified(id, target string) (bool, error) {
	return tx.Rows.InsertNotified(id, target, tx.Now)
}

// lockOrder is LockOrder with ENOTFOUND for no order.
func (tx Tx) lockOrder(id string) (Order, error) {
	o, found, err := tx.Rows.LockOrder(id)
	if err != nil {
		return Order{}, err
	}
	if !found {
		return Order{}, OrderNotFound(id)
	}
	return o, nil
}

// setStatus applies the transition of order old to next (from Reserve,
// Settle, Cancel or a refund): it stamps UpdatedAt, writes the status with its history entry
// and records the UPDATE change.
func (tx Tx) setStatus(old, next Order) (Order, error) {
	next.UpdatedAt = tx.Now
	if err := tx.Rows.SetOrderStatus(old, next); err != nil {
		return Order{}, err
	}
	// A multi-line order waits in its SKUs' queues through the index of
	// lines, which follows it in and out of BACKORDERED.
	if was, is := old.Status == OrderBackordered, next.Status == OrderBackordered; len(old.Lines) > 1 && was != is {
		if err := tx.Rows.SetLinesBackordered(old.ID, is); err != nil {
			return Order{}, err
		}
	}
	if err := tx.record(TableOrders, OrderKey(old.ID), old, next); err != nil {
		return Order{}, err
	}
	return next, nil
}

// setQuantity writes the new quantity of item old, which the transaction
// has locked, and records the UPDATE change; shared by adjustments and
// releaseStock.
func (tx Tx) setQuantity(old Item, quantity int64) (Item, error) {
	item := old
	item.Quantity = quantity
	item.UpdatedAt = tx.Now
	if err := tx.Rows.SetQuantity(item); err != nil {
		return Item{}, err
	}
	if err := tx.record(TableInventory, ItemKey(item.SKU), old, item); err != nil {
		return Item{}, err
	}
	return item, nil
}

// record appends the change of one row, built by NewChange so that every
// engine captures changes the same way. old and new are the row before and
// after, nil for none.
func (tx Tx) record(table string, key map[string]string, old, new any) error {
	c, err := NewChange(table, key, old, new, tx.Now, tx.TraceParent)
	if err != nil {
		return fmt.Errorf("record %w", err)
	}
	return tx.Rows.Record(c)
}
