package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// A batch of order creations would cost one round trip per order if each
// op's closure ran its INSERT itself, and with the database waiting for a
// CPU each round trip is a wait. So a batch first runs every closure against
// speculativeRows, which execute nothing: they note the one order the
// closure inserts, answer that the insert happened, and keep its change
// records. One statement then inserts all noted orders (qInsertOrders), in
// the same round trip as BEGIN. The ops whose guess held keep their results
// and changes; the others (the id existed, the SKU is unknown, the closure
// did something else) run again the ordinary way, each in a savepoint. The
// business rules stay in wims.Tx.CreateOrder; this file only changes when
// its INSERT reaches the database.

// errNotSpeculative is what speculativeRows answer to everything but
// InsertOrder and Record: the op then runs the ordinary way.
var errNotSpeculative = errors.New("not speculative")

// speculation is what one closure did against speculativeRows.
type speculation struct {
	// order is the order the closure inserted, if it inserted one.
	order *wims.Order
	// other is set if the closure did anything else with the rows, or
	// inserted twice.
	other bool
}

// ok reports whether the op did exactly what speculation can replay: one
// order insert, and change records.
func (sp *speculation) ok() bool { return sp.order != nil && !sp.other }

// speculativeRows are wims.TxRows that execute nothing; see the comment at
// the top of this file.
type speculativeRows struct{ w *writeTx }

var _ wims.TxRows = speculativeRows{}

// InsertOrder notes o and reports it inserted. A multi-line order is
// refused: qInsertOrders has no lines column, and the order already asked
// ItemExists (refused too) before its insert, so it runs the ordinary way.
func (r speculativeRows) InsertOrder(o wims.Order) (wims.Order, wims.InsertOutcome, error) {
	if r.w.spec.order != nil || len(o.Lines) > 1 {
		r.w.spec.other = true
		return wims.Order{}, 0, errNotSpeculative
	}
	r.w.spec.order = &o
	return wims.Order{}, wims.InsertDone, nil
}

// Record keeps c for the change log, as txRows.Record does.
func (r speculativeRows) Record(c wims.Change) error { return addChange(r.w, c) }

// refuse marks the speculation failed.
func (r speculativeRows) refuse() error {
	r.w.spec.other = true
	return errNotSpeculative
}

// LockOrder implements wims.TxRows by refusing.
func (r speculativeRows) LockOrder(string) (wims.Order, bool, error) {
	return wims.Order{}, false, r.refuse()
}

// ReadOrder implements wims.TxRows by refusing.
func (r speculativeRows) ReadOrder(string) (wims.Order, bool, error) {
	return wims.Order{}, false, r.refuse()
}

// HasBackorders implements wims.TxRows by refusing.
func (r speculativeRows) HasBackorders(string) (bool, error) { return false, r.refuse() }

// FirstBackorder implements wims.TxRows by refusing.
func (r speculativeRows) FirstBackorder(string) (string, bool, error) { return "", false, r.refuse() }

// BackorderSKUs implements wims.TxRows by refusing.
func (r speculativeRows) BackorderSKUs(string, int) ([]string, error) { return nil, r.refuse() }

// SetLinesBackordered implements wims.TxRows by refusing.
func (r speculativeRows) SetLinesBackordered(string, bool) error { return r.refuse() }

// LockBackorders implements wims.TxRows by refusing.
func (r speculativeRows) LockBackorders(string, int) ([]wims.Order, error) { return nil, r.refuse() }

// SetOrderStatus implements wims.TxRows by refusing.
func (r speculativeRows) SetOrderStatus(wims.Order, wims.Order) error { return r.refuse() }

// LockItem implements wims.TxRows by refusing.
func (r speculativeRows) LockItem(string) (wims.Item, bool, error) {
	return wims.Item{}, false, r.refuse()
}

// TryLockItem implements wims.TxRows by refusing.
func (r speculativeRows) TryLockItem(string) (wims.Item, bool, error) {
	return wims.Item{}, false, r.refuse()
}

// ItemExists implements wims.TxRows by refusing: only a multi-line order
// asks it, which runs the ordinary way.
func (r speculativeRows) ItemExists(string) (bool, error) { return false, r.refuse() }

// InsertItem implements wims.TxRows by refusing.
func (r speculativeRows) InsertItem(wims.Item) (wims.InsertOutcome, error) { return 0, r.refuse() }

// UpdateItem implements wims.TxRows by refusing.
func (r speculativeRows) UpdateItem(wims.Item) error { return r.refuse() }

// SetQuantity implements wims.TxRows by refusing.
func (r speculativeRows) SetQuantity(wims.Item) error { return r.refuse() }

// TakeStock implements wims.TxRows by refusing.
func (r speculativeRows) TakeStock(string, int64, time.Time) (bool, error) { return false, r.refuse() }

// InsertPaymentAttempt implements wims.TxRows by refusing.
func (r speculativeRows) InsertPaymentAttempt(wims.PaymentAttempt) error { return r.refuse() }

// UpsertExecution implements wims.TxRows by refusing.
func (r speculativeRows) UpsertExecution(wims.Execution, []byte) error { return r.refuse() }

// InsertNotified implements wims.TxRows by refusing.
func (r speculativeRows) InsertNotified(string, string, time.Time) (bool, error) {
	return false, r.refuse()
}

// qInsertOrders inserts many orders and their PENDING history entries in
// one statement, as qInsertOrder does one, and returns the ids it inserted.
// An order whose id exists is skipped (ON CONFLICT, after waiting for a
// concurrent insert of the id), and so is one whose SKU does not exist, so
// that it cannot fail the statement; both are then retried the ordinary
// way. The ids must be distinct. The foreign key still checks each insert,
// and fails the statement only if an item is deleted meanwhile.
//
// Parameters: $1..$8 the insertColumns as parallel arrays.
const qInsertOrders = `WITH u AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[],
		$7::timestamptz[], $8::timestamptz[])
		AS u (order_id, customer_id, sku, quantity, status, reason, created_at, updated_at)
), o AS (
	INSERT INTO orders (` + insertColumns + `)
	SELECT * FROM u WHERE EXISTS (SELECT 1 FROM inventory i WHERE i.sku = u.sku)
	ON CONFLICT (order_id) DO NOTHING
	RETURNING order_id, status, reason, updated_at
), h AS (
	INSERT INTO order_history (order_id, status, reason, at) SELECT order_id, status, reason, updated_at FROM o
)
SELECT order_id FROM o`

// speculate runs batch the speculative way on c, with no transaction open.
// On success the transaction is open with every op done (or failed into
// errs) and pending holds the changes to append. ok false means the
// speculative insert failed for a reason other than a deadlock or
// serialization failure: the transaction was rolled back, errs cleared, and
// the caller runs the batch the ordinary way. err is a failure of the whole
// batch.
func (s *Store) speculate(ctx context.Context, c *pgx.Conn, batch []*batchOp, errs []error) (pending []pendingChange, ok bool, err error) {
	type guess struct {
		i int
		w *writeTx
	}
	var (
		guesses []guess
		rerun   []int
		ids     = make(map[string]bool, len(batch))
	)
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		w := &writeTx{ctx: ctx, now: s.now(), traceParent: wims.TraceParent(op.ctx), spec: &speculation{}}
		// The closure sees only speculativeRows (w.tx is nil, so a statement
		// of its own would panic into an error): whatever it returns, its
		// guess is used only if it did exactly one insert and nothing else.
		if err := runOp(op, w); err != nil || !w.spec.ok() || ids[w.spec.order.ID] {
			rerun = append(rerun, i)
			continue
		}
		ids[w.spec.order.ID] = true
		guesses = append(guesses, guess{i, w})
	}

	n := len(guesses)
	var (
		id, customer, sku, status, reason = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		quantity                          = make([]int64, n)
		created, updated                  = make([]time.Time, n), make([]time.Time, n)
	)
	for k, g := range guesses {
		o := g.w.spec.order
		id[k], customer[k], sku[k], status[k], reason[k] = o.ID, o.CustomerID, o.SKU, string(o.Status), o.Reason
		quantity[k], created[k], updated[k] = o.Quantity, o.CreatedAt, o.UpdatedAt
	}
	b := &pgx.Batch{}
	b.Queue(qBegin)
	if s.hooks.breakSpeculation {
		b.Queue(`SELECT (1/0)::text`)
	} else {
		b.Queue(qInsertOrders, id, customer, sku, quantity, status, reason, created, updated)
	}
	inserted := make(map[string]bool, n)
	br := c.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		var rows pgx.Rows
		rows, err = br.Query()
		if err == nil {
			var got string
			_, err = pgx.ForEachRow(rows, []any{&got}, func() error {
				inserted[got] = true
				return nil
			})
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if retryable(err) || c.IsClosed() {
			return nil, false, err
		}
		if _, rerr := c.Exec(ctx, "ROLLBACK"); rerr != nil {
			return nil, false, fmt.Errorf("rollback: %w", rerr)
		}
		s.log.Warn("postgres: batched order insert failed; running the batch op by op", "err", err)
		clear(errs)
		return nil, false, nil
	}

	for _, g := range guesses {
		if inserted[g.w.spec.order.ID] {
			pending = append(pending, g.w.changes...)
		} else {
			rerun = append(rerun, g.i)
		}
	}
	// The misses run after the insert, in batch order, and see its rows (a
	// repeated id finds the order inserted for its first occurrence).
	slices.Sort(rerun)
	for _, i := range rerun {
		changes, _, err := s.runOne(ctx, c, batch[i], errs, i, true)
		if err != nil {
			return nil, false, err
		}
		pending = append(pending, changes...)
	}
	return pending, true, nil
}
