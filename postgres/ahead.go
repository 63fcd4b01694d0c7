package postgres

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// The pipeline's writes after the accept (reserve, payment, refund,
// shipment, payment attempts, execution records) are group-committed on a
// queue of their own (see the package doc, "Group commit"), and a batch of
// them would cost four or five round trips per op if each op's transition
// ran its statements itself. So a batch locks ahead: in the round trip of
// BEGIN it locks every order its ops name, in order_id order, then every
// item those orders hold lines of, in SKU order, and asks which of those
// SKUs have BACKORDERED orders. The transitions then run in Go against
// aheadRows, which answer from those rows (as changed by the batch's
// earlier ops) and keep what they write. The writes go to the database in
// the round trip of the change-log append and COMMIT, one statement per
// table for the whole batch (aheadStatements): each changed order and item
// is written once, with its state after the batch's last op on it, and the
// history, payment attempts and executions are inserted in op order. A
// batch is then two round trips and a handful of statements however large,
// and a hot item gets one new row version per batch rather than one per
// reservation. The business rules stay in wims.Tx; this file only changes
// when the rows are read and when the writes reach the database.
//
// An op that asks for something aheadRows cannot answer from the locked
// rows (a fill of backorders, an order or item it did not name) is a miss:
// what it did is dropped, and it runs again the ordinary way, in a
// savepoint, after the other ops' writes.

// errNotAhead is what aheadRows answer when they cannot serve a call from
// the rows locked ahead: the op then runs the ordinary way.
var errNotAhead = errors.New("not locked ahead")

// Lock-ahead statements. Order ids and SKUs are C-collated, so both sorts
// are byte order, the same in every transaction.
const (
	// qAheadOrders locks the batch's orders. The lock is taken by LockRows
	// above the sort, so in order_id order.
	//
	// Parameters: $1 the order ids.
	qAheadOrders = `SELECT ` + orderColumns + ` FROM orders WHERE order_id = ANY($1::text[])
		ORDER BY order_id FOR NO KEY UPDATE`
	// aheadSKUs are the SKUs of every line of the orders $1, read without
	// locking: an order's lines never change. It runs after qAheadOrders,
	// so it sees at least the orders that statement locked (an order
	// committed in between only adds an item that is locked for nothing).
	aheadSKUs = `ARRAY(SELECT o.sku FROM orders o WHERE o.order_id = ANY($1::text[])
		UNION SELECT (l->>'sku') COLLATE "C" FROM orders o CROSS JOIN LATERAL jsonb_array_elements(o.lines::jsonb) l
		WHERE o.order_id = ANY($1::text[]) AND o.lines IS NOT NULL)`
	// qAheadItems locks the items of the batch's orders, in SKU order.
	//
	// Parameters: $1 the order ids.
	qAheadItems = `SELECT ` + itemColumns + ` FROM inventory WHERE sku = ANY(` + aheadSKUs + `)
		ORDER BY sku FOR NO KEY UPDATE`
	// qAheadBackordered lists which of those SKUs have BACKORDERED orders.
	// It runs once their items are locked, with a new snapshot, and orders
	// enter and leave BACKORDERED only under their item's lock (see
	// wims.TxRows.HasBackorders), so the answer holds for the batch, apart
	// from the batch's own changes, which aheadRows track.
	//
	// Parameters: $1 the order ids.
	qAheadBackordered = `SELECT k FROM unnest(` + aheadSKUs + `) k
		WHERE EXISTS (SELECT 1 FROM orders b WHERE b.sku = k AND b.status = 'BACKORDERED')
		OR EXISTS (SELECT 1 FROM order_lines l WHERE l.sku = k AND l.backordered)`
)

// qCustomPlans makes the batch's statements be planned for their
// parameters on every run. The statements are prepared once per connection
// (pool.go), and PostgreSQL would otherwise soon settle on a generic plan
// made when the tables were small; for the joins of order ids against
// orders (qAheadOrders, aheadSKUs, qAheadSetOrders) that is a sequential
// scan, which then reads the whole, growing, table on every batch (seen on
// a fresh database: 25 M rows read for 8 k orders, each batch slower than
// the last) until an ANALYZE replans it. Planning these few statements
// costs far less than one such scan.
const qCustomPlans = `SET LOCAL plan_cache_mode = force_custom_plan`

// ahead are the rows a batch locked ahead, as its successful ops left them,
// and what those ops wrote.
type ahead struct {
	// orders holds every order id the batch named; found is false for one
	// that does not exist.
	orders map[string]aheadOrder
	// items holds every locked item.
	items map[string]wims.Item
	// backordered says whether a locked SKU has BACKORDERED orders: true,
	// false, or absent when the batch's own changes made it unknown.
	backordered map[string]bool
	// lockedStatus and lockedQuantity are the changed orders' statuses and
	// items' quantities as locked, for the writes' compare-and-set.
	lockedStatus   map[string]wims.OrderStatus
	lockedQuantity map[string]int64
	// changedOrders and changedItems list the changed rows in the order
	// they were first changed, so that a batch's statements are the same
	// on every run.
	changedOrders, changedItems []string
	aheadLog
}

// aheadLog is what ops appended, in op order: each order transition's new
// state (for its history entry), payment attempts, executions.
type aheadLog struct {
	history    []wims.Order
	attempts   []wims.PaymentAttempt
	executions []aheadExecution
}

// aheadExecution is an execution to upsert, with its steps' JSON.
type aheadExecution struct {
	e     wims.Execution
	steps []byte
}

// aheadOrder is one order locked ahead.
type aheadOrder struct {
	o     wims.Order
	found bool
}

// aheadWrite is a statement to send and the rows it must affect (-1: any).
type aheadWrite struct {
	sql  string
	args []any
	rows int64
}

// aheadOp is one op's view of the rows locked ahead: its own changes over
// the batch's, kept apart until the op succeeds, so that an op that fails
// or misses leaves nothing behind.
type aheadOp struct {
	base        *ahead
	orders      map[string]wims.Order
	items       map[string]wims.Item
	backordered map[string]bool
	// unknown are SKUs whose backorders this op's changes made unknown.
	unknown map[string]bool
	aheadLog
	// miss is set once the op asked for something the rows cannot answer.
	miss bool
}

// merge makes op's changes the batch's.
func (op *aheadOp) merge() {
	b := op.base
	for id, o := range op.orders {
		if _, ok := b.lockedStatus[id]; !ok {
			b.lockedStatus[id] = b.orders[id].o.Status
			b.changedOrders = append(b.changedOrders, id)
		}
		b.orders[id] = aheadOrder{o, true}
	}
	for sku, it := range op.items {
		if _, ok := b.lockedQuantity[sku]; !ok {
			b.lockedQuantity[sku] = b.items[sku].Quantity
			b.changedItems = append(b.changedItems, sku)
		}
		b.items[sku] = it
	}
	maps.Copy(b.backordered, op.backordered)
	for sku := range op.unknown {
		delete(b.backordered, sku)
	}
	b.history = append(b.history, op.history...)
	b.attempts = append(b.attempts, op.attempts...)
	b.executions = append(b.executions, op.executions...)
}

// aheadRows are wims.TxRows over the rows a batch locked ahead; see the
// comment at the top of this file.
type aheadRows struct{ w *writeTx }

var _ wims.TxRows = aheadRows{}

// refuse marks the op a miss.
func (r aheadRows) refuse() error {
	r.w.ahead.miss = true
	return errNotAhead
}

// order returns the order as the op sees it; ok is false if the batch did
// not lock it.
func (r aheadRows) order(id string) (o wims.Order, found, ok bool) {
	if o, ok := r.w.ahead.orders[id]; ok {
		return o, true, true
	}
	ao, ok := r.w.ahead.base.orders[id]
	return ao.o, ao.found, ok
}

// LockOrder implements wims.TxRows from the locked orders.
func (r aheadRows) LockOrder(id string) (wims.Order, bool, error) {
	o, found, ok := r.order(id)
	if !ok {
		return wims.Order{}, false, r.refuse()
	}
	return o, found, nil
}

// ReadOrder implements wims.TxRows as LockOrder does: the locked row is
// what an unlocked read would return.
func (r aheadRows) ReadOrder(id string) (wims.Order, bool, error) { return r.LockOrder(id) }

// SetOrderStatus implements wims.TxRows: it keeps the new state for the
// batch's later ops and the order's write, and the history entry.
func (r aheadRows) SetOrderStatus(old, next wims.Order) error {
	cur, found, ok := r.order(old.ID)
	if !ok || !found {
		return r.refuse()
	}
	if cur.Status != old.Status {
		return fmt.Errorf("order %s changed under its row lock", old.ID)
	}
	cur.Status, cur.Reason, cur.UpdatedAt = next.Status, next.Reason, next.UpdatedAt
	cur.StockReleased, cur.Carrier, cur.TrackingID = next.StockReleased, next.Carrier, next.TrackingID
	if r.w.ahead.orders == nil {
		r.w.ahead.orders = map[string]wims.Order{}
	}
	r.w.ahead.orders[old.ID] = cur
	switch {
	case next.Status == wims.OrderBackordered:
		if r.w.ahead.backordered == nil {
			r.w.ahead.backordered = map[string]bool{}
		}
		r.w.ahead.backordered[cur.SKU] = true
		delete(r.w.ahead.unknown, cur.SKU)
	case old.Status == wims.OrderBackordered:
		// Whether others still wait is known only to the database.
		if r.w.ahead.unknown == nil {
			r.w.ahead.unknown = map[string]bool{}
		}
		r.w.ahead.unknown[cur.SKU] = true
		delete(r.w.ahead.backordered, cur.SKU)
	}
	r.w.ahead.history = append(r.w.ahead.history, cur)
	return nil
}

// backorders reports whether sku has BACKORDERED orders as the op sees it;
// ok is false if that is not known.
func (r aheadRows) backorders(sku string) (waiting, ok bool) {
	if r.w.ahead.unknown[sku] {
		return false, false
	}
	if b, ok := r.w.ahead.backordered[sku]; ok {
		return b, true
	}
	if _, locked := r.w.ahead.base.items[sku]; !locked {
		return false, false
	}
	b, ok := r.w.ahead.base.backordered[sku]
	return b, ok
}

// HasBackorders implements wims.TxRows from what the batch read and did.
func (r aheadRows) HasBackorders(sku string) (bool, error) {
	waiting, ok := r.backorders(sku)
	if !ok {
		return false, r.refuse()
	}
	return waiting, nil
}

// LockBackorders implements wims.TxRows when sku has none; filling
// backorders is left to the ordinary way.
func (r aheadRows) LockBackorders(sku string, _ int) ([]wims.Order, error) {
	if waiting, ok := r.backorders(sku); !ok || waiting {
		return nil, r.refuse()
	}
	return nil, nil
}

// FirstBackorder implements wims.TxRows when sku has none; a queue to
// walk is left to the ordinary way.
func (r aheadRows) FirstBackorder(sku string) (string, bool, error) {
	if waiting, ok := r.backorders(sku); !ok || waiting {
		return "", false, r.refuse()
	}
	return "", false, nil
}

// BackorderSKUs implements wims.TxRows when sku has none, as
// FirstBackorder does.
func (r aheadRows) BackorderSKUs(sku string, _ int) ([]string, error) {
	if waiting, ok := r.backorders(sku); !ok || waiting {
		return nil, r.refuse()
	}
	return nil, nil
}

// SetLinesBackordered implements wims.TxRows by refusing: a multi-line
// order moving in or out of BACKORDERED changes the queues of several SKUs,
// which only the database knows whole, so that op runs the ordinary way.
func (r aheadRows) SetLinesBackordered(string, bool) error { return r.refuse() }

// TryLockItem implements wims.TxRows as LockItem does: the batch's items
// are locked already, so nothing waits.
func (r aheadRows) TryLockItem(sku string) (wims.Item, bool, error) { return r.LockItem(sku) }

// item returns the item as the op sees it; ok is false if the batch did not
// lock it.
func (r aheadRows) item(sku string) (wims.Item, bool) {
	if it, ok := r.w.ahead.items[sku]; ok {
		return it, true
	}
	it, ok := r.w.ahead.base.items[sku]
	return it, ok
}

// setItem keeps the op's new image of an item.
func (r aheadRows) setItem(it wims.Item) {
	if r.w.ahead.items == nil {
		r.w.ahead.items = map[string]wims.Item{}
	}
	r.w.ahead.items[it.SKU] = it
}

// LockItem implements wims.TxRows from the locked items. Items are never
// deleted and every order's item is locked, so an item the batch did not
// lock is a miss, not a missing item.
func (r aheadRows) LockItem(sku string) (wims.Item, bool, error) {
	it, ok := r.item(sku)
	if !ok {
		return wims.Item{}, false, r.refuse()
	}
	return it, true, nil
}

// TakeStock implements wims.TxRows: the item is locked, so its quantity
// here is the row's, and the guard decides here; the item's write is a
// compare-and-set on the quantity as locked (aheadStatements), and CHECK
// (quantity >= 0) still backs it.
func (r aheadRows) TakeStock(sku string, quantity int64, at time.Time) (bool, error) {
	it, ok := r.item(sku)
	if !ok {
		return false, r.refuse()
	}
	if it.Quantity < quantity {
		return false, nil
	}
	it.Quantity -= quantity
	it.UpdatedAt = at
	r.setItem(it)
	return true, nil
}

// SetQuantity implements wims.TxRows: it keeps the new quantity for the
// batch's later ops and the item's write.
func (r aheadRows) SetQuantity(it wims.Item) error {
	cur, ok := r.item(it.SKU)
	if !ok {
		return r.refuse()
	}
	cur.Quantity, cur.UpdatedAt = it.Quantity, it.UpdatedAt
	r.setItem(cur)
	return nil
}

// InsertPaymentAttempt implements wims.TxRows by keeping a for the
// batch's insert.
func (r aheadRows) InsertPaymentAttempt(a wims.PaymentAttempt) error {
	r.w.ahead.attempts = append(r.w.ahead.attempts, a)
	return nil
}

// UpsertExecution implements wims.TxRows by keeping e for the batch's
// upsert.
func (r aheadRows) UpsertExecution(e wims.Execution, steps []byte) error {
	r.w.ahead.executions = append(r.w.ahead.executions, aheadExecution{e, steps})
	return nil
}

// Record keeps c for the change log, as txRows.Record does.
func (r aheadRows) Record(c wims.Change) error { return addChange(r.w, c) }

// InsertOrder implements wims.TxRows by refusing: order creations have
// their own queue.
func (r aheadRows) InsertOrder(wims.Order) (wims.Order, wims.InsertOutcome, error) {
	return wims.Order{}, 0, r.refuse()
}

// ItemExists implements wims.TxRows by refusing.
func (r aheadRows) ItemExists(string) (bool, error) { return false, r.refuse() }

// InsertItem implements wims.TxRows by refusing.
func (r aheadRows) InsertItem(wims.Item) (wims.InsertOutcome, error) { return 0, r.refuse() }

// UpdateItem implements wims.TxRows by refusing.
func (r aheadRows) UpdateItem(wims.Item) error { return r.refuse() }

// InsertNotified implements wims.TxRows by refusing: its answer needs the
// database.
func (r aheadRows) InsertNotified(string, string, time.Time) (bool, error) {
	return false, r.refuse()
}

// lockAhead runs batch the lock-ahead way on c, with no transaction open
// (see the comment at the top of this file). On success (ok) every op is
// done, failed into errs, or given up; pending holds the changes to append
// and tail the writes still to send before them, in the round trip of the
// append and COMMIT (tail may start with BEGIN: a batch that names no order
// has sent nothing yet). ok false means the queued writes failed for a
// reason other than a deadlock or serialization failure: the transaction was
// rolled back, errs cleared, and the caller runs the batch the ordinary way.
// err is a failure of the whole batch.
func (s *Store) lockAhead(ctx context.Context, c *pgx.Conn, batch []*batchOp, errs []error) (pending []pendingChange, tail []aheadWrite, ok bool, err error) {
	var ids []string
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		ids = append(ids, op.orders...)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	base := &ahead{
		orders:         make(map[string]aheadOrder, len(ids)),
		items:          map[string]wims.Item{},
		backordered:    map[string]bool{},
		lockedStatus:   map[string]wims.OrderStatus{},
		lockedQuantity: map[string]int64{},
	}
	begun := len(ids) > 0
	if begun {
		if err := s.lockRows(ctx, c, ids, base); err != nil {
			return nil, nil, false, err
		}
	} else {
		tail = append(tail, aheadWrite{sql: qBegin, rows: -1})
	}

	var misses []int
	for i, op := range batch {
		if errs[i] != nil {
			continue
		}
		w := &writeTx{ctx: ctx, now: s.now(), traceParent: wims.TraceParent(op.ctx), ahead: &aheadOp{base: base}}
		// The closure sees only aheadRows (w.tx is nil, so a statement of
		// its own would panic into an error).
		err := runOp(op, w)
		switch {
		case w.ahead.miss:
			misses = append(misses, i)
		case err != nil:
			errs[i] = err
		default:
			w.ahead.merge()
			pending = append(pending, w.changes...)
		}
	}
	tail = append(tail, base.statements()...)
	if len(misses) == 0 && s.hooks.beforeSeq == nil {
		if !begun && len(tail) == 1 {
			tail = nil // nothing to write: no transaction either
		}
		return pending, tail, true, nil
	}

	// The misses run the ordinary way, which needs the writes so far in
	// the database; so does a test hook that looks at the rows.
	if err := s.sendWrites(ctx, c, tail, false); err != nil {
		if retry, err := s.aheadFailed(ctx, c, err); !retry {
			return nil, nil, false, err
		}
		clear(errs)
		return nil, nil, false, nil
	}
	for _, i := range misses {
		changes, _, err := s.runOne(ctx, c, batch[i], errs, i, true)
		if err != nil {
			return nil, nil, false, err
		}
		pending = append(pending, changes...)
	}
	return pending, nil, true, nil
}

// Lock-ahead writes: one statement per table for a whole batch (see
// ahead.statements). Each takes parallel arrays, one element per row.
const (
	// qAheadSetOrders writes the changed orders' new states, each a
	// compare-and-set on the status as locked.
	qAheadSetOrders = `UPDATE orders o SET status = u.status, reason = u.reason, updated_at = u.updated_at,
		stock_released = u.stock_released, carrier = u.carrier, tracking_id = u.tracking_id
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::boolean[], $7::text[], $8::text[])
		AS u (order_id, old_status, status, reason, updated_at, stock_released, carrier, tracking_id)
	WHERE o.order_id = u.order_id AND o.status = u.old_status`
	// qAheadHistory appends the transitions' history entries in op order,
	// which is the order seq follows.
	qAheadHistory = `INSERT INTO order_history (order_id, status, reason, at)
	SELECT order_id, status, reason, at FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
		WITH ORDINALITY AS u (order_id, status, reason, at, ord)
	ORDER BY ord`
	// qAheadSetItems writes the changed items' new quantities, each a
	// compare-and-set on the quantity as locked.
	qAheadSetItems = `UPDATE inventory i SET quantity = u.quantity, updated_at = u.updated_at
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::timestamptz[]) AS u (sku, old_quantity, quantity, updated_at)
	WHERE i.sku = u.sku AND i.quantity = u.old_quantity`
	// qAheadAttempts appends payment attempts in op order.
	qAheadAttempts = `INSERT INTO payment_attempts (order_id, attempt, outcome, status_code, error, at, duration_ms, kind)
	SELECT order_id, attempt, outcome, status_code, error, at, duration_ms, kind
	FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[], $5::text[], $6::timestamptz[], $7::float8[], $8::text[])
		WITH ORDINALITY AS u (order_id, attempt, outcome, status_code, error, at, duration_ms, kind, ord)
	ORDER BY ord`
	// qAheadExecutions upserts executions, one element per id (the last
	// save of each), in the order of their first save, so that rid orders
	// new executions as one upsert each would.
	qAheadExecutions = `INSERT INTO executions (execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id)
	SELECT execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[])
		WITH ORDINALITY AS u (execution_id, order_id, workflow, status, started_at, finished_at, steps_json, event_id, ord)
	ORDER BY ord
	ON CONFLICT (execution_id) DO UPDATE SET
		order_id = excluded.order_id, workflow = excluded.workflow, status = excluded.status,
		started_at = excluded.started_at, finished_at = excluded.finished_at,
		steps_json = excluded.steps_json, event_id = excluded.event_id`
)

// statements are the writes of the batch's successful ops: every changed
// order and item written once, as the last op left it, and the entries of
// the logs in op order. Writing a row once with its final state is what
// writing it after each op would leave, since the batch holds its lock
// throughout; nothing reads the intermediate versions.
func (b *ahead) statements() []aheadWrite {
	var out []aheadWrite
	if n := len(b.changedOrders); n > 0 {
		var (
			ids, olds, statuses, reasons, carriers, tracking = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			updated                                          = make([]time.Time, n)
			released                                         = make([]bool, n)
		)
		for i, id := range b.changedOrders {
			o := b.orders[id].o
			ids[i], olds[i], statuses[i], reasons[i] = id, string(b.lockedStatus[id]), string(o.Status), o.Reason
			updated[i], released[i], carriers[i], tracking[i] = o.UpdatedAt, o.StockReleased, o.Carrier, o.TrackingID
		}
		out = append(out, aheadWrite{qAheadSetOrders, []any{ids, olds, statuses, reasons, updated, released, carriers, tracking}, int64(n)})
	}
	if n := len(b.history); n > 0 {
		ids, statuses, reasons, at := make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
		for i, o := range b.history {
			ids[i], statuses[i], reasons[i], at[i] = o.ID, string(o.Status), o.Reason, o.UpdatedAt
		}
		out = append(out, aheadWrite{qAheadHistory, []any{ids, statuses, reasons, at}, int64(n)})
	}
	if n := len(b.changedItems); n > 0 {
		skus, olds, qs, updated := make([]string, n), make([]int64, n), make([]int64, n), make([]time.Time, n)
		for i, sku := range b.changedItems {
			it := b.items[sku]
			skus[i], olds[i], qs[i], updated[i] = sku, b.lockedQuantity[sku], it.Quantity, it.UpdatedAt
		}
		out = append(out, aheadWrite{qAheadSetItems, []any{skus, olds, qs, updated}, int64(n)})
	}
	if n := len(b.attempts); n > 0 {
		var (
			ids, outcomes, errs, kinds = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			attempts, codes            = make([]int32, n), make([]int32, n)
			at                         = make([]time.Time, n)
			ms                         = make([]float64, n)
		)
		for i, a := range b.attempts {
			ids[i], attempts[i], outcomes[i], codes[i] = a.OrderID, int32(a.Attempt), string(a.Outcome), int32(a.StatusCode)
			errs[i], at[i], ms[i], kinds[i] = a.Error, a.At, a.DurationMS, string(a.Kind)
		}
		out = append(out, aheadWrite{qAheadAttempts, []any{ids, attempts, outcomes, codes, errs, at, ms, kinds}, int64(n)})
	}
	if len(b.executions) > 0 {
		// The last save of each id wins, at the place of its first.
		last := map[string]int{}
		var order []string
		for i, x := range b.executions {
			if _, ok := last[x.e.ID]; !ok {
				order = append(order, x.e.ID)
			}
			last[x.e.ID] = i
		}
		n := len(order)
		var (
			ids, orders, workflows, statuses, steps, events = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			started                                         = make([]time.Time, n)
			finished                                        = make([]*time.Time, n)
		)
		for i, id := range order {
			x := b.executions[last[id]]
			ids[i], orders[i], workflows[i], statuses[i] = x.e.ID, x.e.OrderID, x.e.Workflow, x.e.Status
			started[i], steps[i], events[i] = x.e.StartedAt, string(x.steps), x.e.EventID
			if !x.e.FinishedAt.IsZero() {
				f := x.e.FinishedAt
				finished[i] = &f
			}
		}
		out = append(out, aheadWrite{qAheadExecutions, []any{ids, orders, workflows, statuses, started, finished, steps, events}, int64(n)})
	}
	return out
}

// lockRows sends BEGIN and the lock-ahead statements for ids in one round
// trip and fills base from their answers.
func (s *Store) lockRows(ctx context.Context, c *pgx.Conn, ids []string, base *ahead) error {
	for _, id := range ids {
		base.orders[id] = aheadOrder{}
	}
	b := &pgx.Batch{}
	b.Queue(qBegin)
	b.Queue(qCustomPlans)
	b.Queue(qAheadOrders, ids)
	b.Queue(qAheadItems, ids)
	b.Queue(qAheadBackordered, ids)
	br := c.SendBatch(ctx, b)
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("custom plans: %w", err)
		}
		orders, err := collect(br, func(r pgx.CollectableRow) (wims.Order, error) { return scanOrder(r) })
		if err != nil {
			return fmt.Errorf("lock orders: %w", err)
		}
		for _, o := range orders {
			base.orders[o.ID] = aheadOrder{o, true}
		}
		items, err := collect(br, func(r pgx.CollectableRow) (wims.Item, error) { return scanItem(r) })
		if err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		for _, it := range items {
			base.items[it.SKU] = it
			base.backordered[it.SKU] = false
		}
		waiting, err := collect(br, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("read backorders: %w", err)
		}
		for _, sku := range waiting {
			if _, locked := base.items[sku]; locked {
				base.backordered[sku] = true
			}
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("lock ahead: %w", cerr)
	}
	return err
}

// collect reads the rows of the next query in br with scan.
func collect[T any](br pgx.BatchResults, scan func(pgx.CollectableRow) (T, error)) ([]T, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scan)
}

// sendWrites sends writes in one round trip, checking that each affected
// the rows it must, and COMMIT after them if commit is set.
func (s *Store) sendWrites(ctx context.Context, c *pgx.Conn, writes []aheadWrite, commit bool) error {
	if len(writes) == 0 && !commit {
		return nil
	}
	writes = s.testWrites(writes)
	b := &pgx.Batch{}
	queueWrites(b, writes)
	if commit {
		b.Queue("COMMIT")
	}
	br := c.SendBatch(ctx, b)
	err := readWrites(br, writes)
	if err == nil && commit {
		var tag string
		t, err2 := br.Exec()
		tag, err = t.String(), err2
		if err == nil && tag != "COMMIT" {
			err = fmt.Errorf("commit: %s", tag)
		}
	}
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

// queueWrites adds writes to b.
func queueWrites(b *pgx.Batch, writes []aheadWrite) {
	for _, w := range writes {
		b.Queue(w.sql, w.args...)
	}
}

// testWrites returns writes as the test hook breakAhead wants them: with
// the last one failing.
func (s *Store) testWrites(writes []aheadWrite) []aheadWrite {
	if !s.hooks.breakAhead || len(writes) == 0 {
		return writes
	}
	writes = slices.Clone(writes)
	writes[len(writes)-1] = aheadWrite{sql: `SELECT (1/0)::text`, rows: -1}
	return writes
}

// readWrites reads the results of writes queued by queueWrites and checks
// their row counts.
func readWrites(br pgx.BatchResults, writes []aheadWrite) error {
	for _, w := range writes {
		tag, err := br.Exec()
		if err != nil {
			return fmt.Errorf("queued write: %w", err)
		}
		if w.rows >= 0 && tag.RowsAffected() != w.rows {
			return fmt.Errorf("queued write %.40q changed %d rows, want %d", w.sql, tag.RowsAffected(), w.rows)
		}
	}
	return nil
}

// aheadFailed decides what a failure of a batch's queued writes means: a
// retryable conflict or a lost connection fails the batch (retry false,
// with err; commitBatch retries the former); anything else means
// a write the locked rows said would apply did not, which should not
// happen, so the transaction is rolled back (retry true) and the batch runs
// the ordinary way, where each op meets the database as it goes.
func (s *Store) aheadFailed(ctx context.Context, c *pgx.Conn, err error) (retry bool, _ error) {
	if retryable(err) || c.IsClosed() {
		return false, err
	}
	if c.PgConn().TxStatus() != 'I' {
		if _, rerr := c.Exec(ctx, "ROLLBACK"); rerr != nil {
			return false, fmt.Errorf("rollback: %w", rerr)
		}
	}
	s.log.Warn("postgres: a locked-ahead batch's writes failed; running the batch op by op", "err", err)
	return true, nil
}
