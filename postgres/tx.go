package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/wims/wims"
)

// maxAttempts bounds how often a write is tried when PostgreSQL aborts it
// for a deadlock or serialization failure, or because a lock it asked for
// without waiting was busy (wims.TxRows.TryLockItem). The lock order makes
// all rare; the retry is a safety net, not the design. Ten, not five: in CI
// a multi-line order's reserve, racing cancels and restocks that fill
// backorders (storetest LinesBackorders/Concurrent), deadlocked on five
// attempts in a row once; the pauses between them (pauseBeforeRetry) add
// up to at most 90 ms.
const maxAttempts = 10

// qBegin opens every write transaction.
const qBegin = "BEGIN ISOLATION LEVEL READ COMMITTED"

// writeTx is what a write closure runs in: its transaction, the closure's
// own clock reading, and the change records it produced, appended to the
// change log just before commit (see flushChanges).
type writeTx struct {
	ctx context.Context
	// tx is the connection, inside the transaction writeOnce began on it.
	tx *pgx.Conn
	// now is read once per attempt, so every row and change it writes carries
	// the same time.
	now time.Time
	// traceParent is the caller's W3C traceparent, recorded with each change
	// so the trace continues through the bus.
	traceParent string
	// changes are the change records built so far, in the order made.
	changes []pendingChange
	// spec is set while a batched op runs speculatively (speculate.go): its
	// rows are then speculativeRows, and tx is nil.
	spec *speculation
	// ahead is set while a batched op runs over rows locked ahead
	// (ahead.go): its rows are then aheadRows, and tx is nil.
	ahead *aheadOp
}

// exec runs a statement in the transaction.
func (w *writeTx) exec(sql string, args ...any) (pgconn.CommandTag, error) {
	return w.tx.Exec(w.ctx, sql, args...)
}

// QueryRow runs a query in the transaction; with Query it makes a writeTx a
// querier, so reads in writes share their code with plain reads.
func (w *writeTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return w.tx.QueryRow(ctx, sql, args...)
}

// Query runs a query in the transaction.
func (w *writeTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	return w.tx.Query(ctx, sql, args...)
}

// write runs fn in a READ COMMITTED transaction on a pooled connection,
// appends the change records fn made, and commits. If PostgreSQL aborts the
// transaction for a deadlock, a serialization failure or a busy NOWAIT
// lock, the whole attempt
// is repeated with a fresh transaction, so fn must set its results anew on
// each call (every closure in this package assigns, never appends, to the
// caller's variables). fn's own errors end the write at once.
//
// If ctx ends while the transaction runs, pgx closes the connection and the
// transaction rolls back; if it ends during COMMIT the outcome is unknown to
// the caller, which is why every write is idempotent or keyed.
func (s *Store) write(ctx context.Context, fn func(w *writeTx) error) error {
	for attempt := 1; ; attempt++ {
		err := s.writeOnce(ctx, fn)
		if retryable(err) && attempt < maxAttempts {
			if !pauseBeforeRetry(ctx, attempt) {
				return ctx.Err()
			}
			continue
		}
		return err
	}
}

// retryable reports whether PostgreSQL aborted a transaction for something
// that running it again from the start resolves: a deadlock, a
// serialization failure, or a lock asked for without waiting that was busy
// (wims.TxRows.TryLockItem). Single writes (write) and batches
// (commitBatch) retry the same ones.
func retryable(err error) bool {
	switch pgCode(err) {
	case pgSerializationFailure, pgDeadlockDetected, pgLockNotAvailable:
		return true
	}
	return false
}

// pauseBeforeRetry waits a jittered pause that grows with attempt, so the
// contenders do not collide again; false if ctx ended first.
func pauseBeforeRetry(ctx context.Context, attempt int) bool {
	d := time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond)))
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// writeOnce is one attempt of write.
func (s *Store) writeOnce(ctx context.Context, fn func(w *writeTx) error) error {
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.pool.release(c)
	// The transaction is driven with plain statements rather than pgx.Tx so
	// that the change-log append and COMMIT can go in one round trip (see
	// appendAndCommit).
	if _, err := c.Exec(ctx, qBegin); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	// After a failure, end the transaction even if ctx has ended; a
	// connection that cannot be cleaned up is discarded by release.
	defer func() {
		if c.IsClosed() || c.PgConn().TxStatus() == 'I' {
			return
		}
		rctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
		defer cancel()
		_, _ = c.Exec(rctx, "ROLLBACK")
	}()

	w := &writeTx{ctx: ctx, tx: c, now: s.now(), traceParent: wims.TraceParent(ctx)}
	if err := fn(w); err != nil {
		return err
	}
	if len(w.changes) == 0 {
		return commit(ctx, c)
	}
	if err := s.hooks.run(ctx, s.hooks.beforeSeq, c); err != nil {
		return err
	}
	if err := appendAndCommit(ctx, c, nil, w.changes, s.hooks.commitSQL()); err != nil {
		return err
	}
	// Wake a relay in this process at once, and tell the others.
	s.notify()
	s.announce()
	return nil
}

// commit ends a transaction that appended no changes.
func commit(ctx context.Context, c *pgx.Conn) error {
	tag, err := c.Exec(ctx, "COMMIT")
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if tag.String() == "ROLLBACK" {
		return errors.New("commit: the transaction had failed and was rolled back")
	}
	return nil
}

// hooks are test-only callbacks for a write transaction that appends
// changes: beforeSeq runs after the row changes and before the seqs are
// taken; beforeCommit returns a statement ("" for none) sent between the
// append and COMMIT, in the same round trip. Tests use them to hold
// transactions open (pg_sleep) and provoke late commits.
//
// breakSpeculation makes a batch's one-statement order insert fail, so
// tests reach the op-by-op fallback (speculate.go).
//
// breakAhead makes the last of a locked-ahead batch's queued writes fail,
// so tests reach that batch's fallback (ahead.go).
type hooks struct {
	beforeSeq        func(ctx context.Context, c *pgx.Conn) error
	beforeCommit     func() string
	breakSpeculation bool
	breakAhead       bool
}

// commitSQL is the statement beforeCommit asks for, if any.
func (h hooks) commitSQL() string {
	if h.beforeCommit == nil {
		return ""
	}
	return h.beforeCommit()
}

// run calls h if it is set.
func (hooks) run(ctx context.Context, h func(context.Context, *pgx.Conn) error, tx *pgx.Conn) error {
	if h == nil {
		return nil
	}
	if err := h(ctx, tx); err != nil {
		return fmt.Errorf("test hook: %w", err)
	}
	return nil
}

// errNoRows reports whether err is pgx's "no rows in result set".
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// txRows are wims.TxRows on a write transaction: every read that a
// transition decides on locks its row (FOR NO KEY UPDATE), and inserts that
// may meet a concurrent one use ON CONFLICT DO NOTHING, so the row
// operations are safe under concurrent writers at READ COMMITTED.
type txRows struct{ w *writeTx }

var _ wims.TxRows = txRows{}

// domain is the transaction as wims.Tx's transitions see it.
func (w *writeTx) domain() wims.Tx {
	var rows wims.TxRows = txRows{w}
	switch {
	case w.spec != nil:
		rows = speculativeRows{w}
	case w.ahead != nil:
		rows = aheadRows{w}
	}
	return wims.Tx{Rows: rows, Now: w.now, TraceParent: w.traceParent}
}

// transition runs fn, one of wims.Tx's transitions, in a write transaction
// (again from the start if write retries it) and labels its error with what
// it did and to which id.
func transition[T any](s *Store, ctx context.Context, what, id string, fn func(wims.Tx) (T, error)) (T, error) {
	return runTransition(func(f func(w *writeTx) error) error { return s.write(ctx, f) }, what, id, fn)
}

// runTransition runs fn in a write closure through run (a transaction of
// its own, or a batch's) and labels its error with what it did and to
// which id.
func runTransition[T any](run func(func(w *writeTx) error) error, what, id string, fn func(wims.Tx) (T, error)) (T, error) {
	var out T
	err := run(func(w *writeTx) error {
		var err error
		out, err = fn(w.domain())
		return err
	})
	if err != nil {
		var zero T
		return zero, wrap(what+" "+id, err)
	}
	return out, nil
}
