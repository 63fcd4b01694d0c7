package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/wims/wims"
	"github.com/wims/wims/internal/batchloop"
	"time"
)

// maxBatch bounds how many queued writes share one transaction: enough to
// spread one fsync over hundreds of orders, few enough that a commit stays
// short and no caller waits behind an unbounded batch.
const maxBatch = 256

// Savepoint statements wrapped around each op of a multi-op batch.
const (
	qSavepoint  = `SAVEPOINT op`
	qRollbackTo = `ROLLBACK TO op`
	qRelease    = `RELEASE op`
)

// writerStatements are prepared once on the writer connection when the store
// opens. Parsing SQL is a large share of the writer's CPU time, and the
// writer's CPU time is the accept path's ceiling once fsyncs are batched.
// Statements not listed here still work; they are just parsed every time.
var writerStatements = []string{
	qSavepoint, qRollbackTo, qRelease,
	qGetItem, qInsertItem, qUpdateItem, qSetQuantity,
	qGetOrder, qSKUExists, qInsertOrder, qReserve, qSetStatus,
	qInsertChange, qInsertHistory, qInsertPaymentAttempt, qUpsertExecution,
}

// prepareWriter prepares writerStatements on the writer's only connection.
// It must run before the writer starts: preparing needs the connection, which
// an open transaction holds. Inside a transaction, tx.Stmt then finds the
// statement already prepared on that connection and reuses it.
func (s *Store) prepareWriter(ctx context.Context) (err error) {
	s.stmts, err = prepareAll(ctx, s.wdb, writerStatements)
	return err
}

// prepareAll prepares queries on db, keyed by their text.
func prepareAll(ctx context.Context, db *sql.DB, queries []string) (map[string]*sql.Stmt, error) {
	stmts := make(map[string]*sql.Stmt, len(queries))
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		stmts[q] = st
	}
	return stmts, nil
}

// execTx runs a statement in tx, prepared if it is one of writerStatements.
func (s *Store) execTx(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	ctx := context.Background() // see writeTx on why not the caller's
	if st, ok := s.stmts[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// writeOp is one write queued for the writer goroutine.
type writeOp struct {
	ctx  context.Context
	fn   func(w *writeTx) error
	done chan error // buffered, so the writer never blocks on a caller that gave up
}

// writeTx is what a write closure runs in: the batch's transaction plus the
// closure's own clock reading and a count of the changes it appended.
//
// Statements run without the caller's context on purpose: cancelling a
// statement interrupts SQLite, and an interrupted write inside an explicit
// transaction rolls back the whole transaction, i.e. every other caller's
// write in the batch. A caller's context is honoured before its closure starts
// and while it waits for the result.
type writeTx struct {
	s  *Store
	tx *sql.Tx
	// now is read once per closure, so every row and change it writes carries
	// the same time.
	now time.Time
	// changes counts change_log rows appended, to know whether to signal.
	changes int
	// traceParent is the caller's W3C traceparent, recorded with each change
	// so the trace continues through the bus.
	traceParent string
}

// ctx is the context for statements in the transaction; see writeTx.
func (w *writeTx) ctx() context.Context { return context.Background() }

// exec runs a statement in the transaction.
func (w *writeTx) exec(query string, args ...any) (sql.Result, error) {
	return w.s.execTx(w.tx, query, args...)
}

// QueryRowContext runs a query in the transaction. It makes a writeTx a
// queryer, so reads in writes share their code with the read pool's.
func (w *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := w.s.stmts[query]; ok {
		return w.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, query, args...)
}

// write queues fn for the writer and waits until the batch holding it has
// committed (nil) or fn failed (its error). If ctx ends first, write returns
// ctx.Err(); fn then runs only if the writer had already started it, so the
// outcome is unknown to the caller, which is why every write is idempotent or
// keyed, and why a caller reads what fn set only after a nil error (fn may
// still be setting it). Returns EUNAVAILABLE after Close.
func (s *Store) write(ctx context.Context, fn func(w *writeTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	select {
	case s.ops <- op:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runWriter is the writer goroutine: it commits the queued ops in batches
// (batchloop.Run) until ops is closed and drained, which is how Close
// flushes pending writes.
func (s *Store) runWriter() {
	defer close(s.writerDone)
	batchloop.Run(s.ops, maxBatch, s.commitBatch)
}

// commitBatch runs batch in one transaction and replies to every op.
func (s *Store) commitBatch(batch []*writeOp) {
	errs := make([]error, len(batch))
	live := 0
	for i, op := range batch {
		// A caller that has given up gets nothing written on its behalf.
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		live++
	}
	reply := func() {
		for i, op := range batch {
			if unwritable(errs[i]) {
				s.health.record(errs[i])
			}
			op.done <- errs[i]
		}
	}
	if live == 0 {
		reply()
		return
	}
	// abort fails every op still pending with err; ops that failed on their
	// own keep their own error.
	abort := func(tx *sql.Tx, err error) {
		if tx != nil {
			tx.Rollback()
		}
		s.log.Error("sqlite: write batch failed", "ops", live, "err", err)
		for i := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
		}
		reply()
	}

	// Optimistically run every op in one transaction without savepoints:
	// ops rarely fail, and two statements per op are a large share of the
	// writer's work. If one does fail, roll everything back and run the batch
	// again with a savepoint around each op, so only the failing op is lost.
	// (With one op there is nothing to protect: its failure is the batch's.)
	tx, changes, fatal := s.runBatch(batch, errs, false)
	if fatal == nil && tx == nil && live > 1 {
		tx, changes, fatal = s.runBatch(batch, errs, true)
	}
	if fatal != nil {
		abort(tx, fatal)
		return
	}
	if tx == nil { // the single op failed and was rolled back
		reply()
		return
	}
	if err := tx.Commit(); err != nil {
		// database/sql forgets the transaction even if SQLite kept it open
		// (e.g. COMMIT got SQLITE_BUSY); roll it back on the only connection
		// so the next batch can begin. "No transaction" errors are expected.
		s.wdb.Exec("ROLLBACK")
		abort(nil, fmt.Errorf("commit: %w", err))
		return
	}
	s.health.record(nil)
	if changes > 0 {
		select {
		case s.signal <- struct{}{}:
		default: // a wake-up is already pending; the relay reads everything new
		}
	}
	reply()
}

// runBatch runs the live ops of batch (errs[i] == nil) in a new
// transaction and returns it, uncommitted, with the number of changes
// written. Without savepoints, the first failing op rolls the transaction
// back: its error is recorded in errs and tx is nil (the caller retries with
// savepoints, unless it was the only op). With savepoints, a failing op is
// undone alone. fatal reports a failure of the transaction itself.
func (s *Store) runBatch(batch []*writeOp, errs []error, savepoints bool) (tx *sql.Tx, changes int, fatal error) {
	tx, err := s.wdb.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("begin: %w", err)
	}
	for i, op := range batch {
		if errs[i] != nil {
			continue
		}
		// Checked again here: a caller may give up while earlier ops run.
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		w := &writeTx{s: s, tx: tx, now: s.now(), traceParent: wims.TraceParent(op.ctx)}
		if !savepoints {
			if err := runOp(op, w); err != nil {
				tx.Rollback()
				errs[i] = err
				return nil, 0, nil
			}
			changes += w.changes
			continue
		}
		if _, err := s.execTx(tx, qSavepoint); err != nil {
			return tx, 0, fmt.Errorf("savepoint: %w", err)
		}
		if err := runOp(op, w); err != nil {
			errs[i] = err
			// If the op's failure already ended the transaction (disk full,
			// I/O error), this fails too and the batch is abandoned.
			if _, err := s.execTx(tx, qRollbackTo); err != nil {
				return tx, 0, fmt.Errorf("rollback to savepoint: %w", err)
			}
		} else {
			changes += w.changes
		}
		if _, err := s.execTx(tx, qRelease); err != nil {
			return tx, 0, fmt.Errorf("release savepoint: %w", err)
		}
	}
	return tx, changes, nil
}

// runOp runs one closure, turning a panic into an error so that a bug in one
// write fails that write instead of killing the writer and hanging every
// caller.
func runOp(op *writeOp, w *writeTx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return op.fn(w)
}
