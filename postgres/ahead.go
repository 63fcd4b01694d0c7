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
// earlier ops) and queue the writes; the writes go to the database in the
// round trip of the change-log append and COMMIT. A batch is then two round
// trips however large. The business rules stay in wims.Tx; this file only
// changes when the rows are read and when the writes reach the database.
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
		WHERE EXISTS (SELECT 1 FROM orders b WHERE b.sku = k AND b.status = 'BACKORDERED')`
)

// ahead are the rows a batch locked ahead, as its successful ops left them.
type ahead struct {
	// orders holds every order id the batch named; found is false for one
	// that does not exist.
	orders map[string]aheadOrder
	// items holds every locked item.
	items map[string]wims.Item
	// backordered says whether a locked SKU has BACKORDERED orders: true,
	// false, or absent when the batch's own changes made it unknown.
	backordered map[string]bool
}

// aheadOrder is one order locked ahead.
type aheadOrder struct {
	o     wims.Order
	found bool
}

// aheadWrite is a queued statement and the rows it must affect (-1: any).
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
	writes  []aheadWrite
	// miss is set once the op asked for something the rows cannot answer.
	miss bool
}

// merge makes op's changes the batch's.
func (op *aheadOp) merge() {
	for id, o := range op.orders {
		op.base.orders[id] = aheadOrder{o, true}
	}
	maps.Copy(op.base.items, op.items)
	maps.Copy(op.base.backordered, op.backordered)
	for sku := range op.unknown {
		delete(op.base.backordered, sku)
	}
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

// queue adds a write that must affect rows rows (-1: any number).
func (r aheadRows) queue(rows int64, sql string, args ...any) {
	r.w.ahead.writes = append(r.w.ahead.writes, aheadWrite{sql, args, rows})
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

// SetOrderStatus implements wims.TxRows: it queues qSetStatus, which must
// change the order, and keeps the new status for the batch's later ops.
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
	r.queue(1, qSetStatus, old.ID, string(old.Status), string(next.Status), next.Reason, next.UpdatedAt,
		next.StockReleased, next.Carrier, next.TrackingID)
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
// here is the row's, and the guard decides here; the queued qReserve keeps
// its own guard and must change the row.
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
	r.queue(1, qReserve, sku, quantity, at)
	return true, nil
}

// SetQuantity implements wims.TxRows by queueing qSetQuantity.
func (r aheadRows) SetQuantity(it wims.Item) error {
	cur, ok := r.item(it.SKU)
	if !ok {
		return r.refuse()
	}
	cur.Quantity, cur.UpdatedAt = it.Quantity, it.UpdatedAt
	r.setItem(cur)
	r.queue(1, qSetQuantity, it.SKU, it.Quantity, it.UpdatedAt)
	return nil
}

// InsertPaymentAttempt implements wims.TxRows by queueing the insert.
func (r aheadRows) InsertPaymentAttempt(a wims.PaymentAttempt) error {
	r.queue(1, qInsertPaymentAttempt, paymentAttemptArgs(a)...)
	return nil
}

// UpsertExecution implements wims.TxRows by queueing the upsert.
func (r aheadRows) UpsertExecution(e wims.Execution, steps []byte) error {
	r.queue(1, qUpsertExecution, executionArgs(e, steps)...)
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
		orders:      make(map[string]aheadOrder, len(ids)),
		items:       map[string]wims.Item{},
		backordered: map[string]bool{},
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
			tail = append(tail, w.ahead.writes...)
			pending = append(pending, w.changes...)
		}
	}
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

// lockRows sends BEGIN and the lock-ahead statements for ids in one round
// trip and fills base from their answers.
func (s *Store) lockRows(ctx context.Context, c *pgx.Conn, ids []string, base *ahead) error {
	for _, id := range ids {
		base.orders[id] = aheadOrder{}
	}
	b := &pgx.Batch{}
	b.Queue(qBegin)
	b.Queue(qAheadOrders, ids)
	b.Queue(qAheadItems, ids)
	b.Queue(qAheadBackordered, ids)
	br := c.SendBatch(ctx, b)
	err := func() error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		rows, err := br.Query()
		if err != nil {
			return fmt.Errorf("lock orders: %w", err)
		}
		for rows.Next() {
			o, err := scanOrder(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("lock orders: %w", err)
			}
			base.orders[o.ID] = aheadOrder{o, true}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock orders: %w", err)
		}
		if rows, err = br.Query(); err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		for rows.Next() {
			it, err := scanItem(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("lock items: %w", err)
			}
			base.items[it.SKU] = it
			base.backordered[it.SKU] = false
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("lock items: %w", err)
		}
		if rows, err = br.Query(); err != nil {
			return fmt.Errorf("read backorders: %w", err)
		}
		var sku string
		_, err = pgx.ForEachRow(rows, []any{&sku}, func() error {
			if _, locked := base.items[sku]; locked {
				base.backordered[sku] = true
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read backorders: %w", err)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("lock ahead: %w", cerr)
	}
	return err
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
// deadlock, serialization failure or lost connection fails the batch (retry
// false, with err; commitBatch retries the first two); anything else means
// a write the locked rows said would apply did not, which should not
// happen, so the transaction is rolled back (retry true) and the batch runs
// the ordinary way, where each op meets the database as it goes.
func (s *Store) aheadFailed(ctx context.Context, c *pgx.Conn, err error) (retry bool, _ error) {
	switch pgCode(err) {
	case pgSerializationFailure, pgDeadlockDetected:
		return false, err
	}
	if c.IsClosed() {
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
