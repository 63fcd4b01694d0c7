package postgres

import (
	"context"
	"fmt"
	"github.com/wims/wims/internal/batchloop"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// maxBatch bounds how many queued writes share one transaction: enough to
// spread one counter lock and one WAL flush over hundreds of orders, few
// enough that a batch stays short and no caller waits behind an unbounded
// one.
const maxBatch = 256

// defaultCommitters is how many batches one Store runs at once when
// Options.Committers is 0. One: a speculative batch costs about three round
// trips however many orders it holds (speculate.go), so fewer, larger
// batches win, and concurrent batches would only contend for the counter and
// the CPU. BenchmarkCreateOrder on the loaded 2-core machine (load 16-18):
// about 2.2k orders/s with 1 committer, 1.4k with 2, 1.15k with 4. A
// CreateOrder batch can wait only for another transaction's insert of the
// same id, so one committer is not stalled for long.
const defaultCommitters = 1

// Savepoint statements wrapped around each op of a batch that needs them.
const (
	qSavepoint  = `SAVEPOINT op`
	qRollbackTo = `ROLLBACK TO SAVEPOINT op`
	qRelease    = `RELEASE SAVEPOINT op`
)

// batchOp is one write queued for a committer.
type batchOp struct {
	ctx context.Context
	fn  func(w *writeTx) error
	// done receives the op's outcome; buffered, so a committer never blocks
	// on a caller that gave up.
	done chan error
}

// batched runs fn like write, but in a transaction shared with whatever
// other batched writes are queued at the time (group commit): it queues fn
// for a committer and waits until the batch holding it has committed (nil)
// or fn failed (its error). Only the results of a committed batch are
// reported as success, so an acknowledged write is durable.
//
// Only writes whose locks cannot form a cycle with another batch's may use
// it (see the package doc, "Group commit"): today that is CreateOrder. fn
// must reach the database only through w.domain(), since it may first run
// speculatively, against rows that execute nothing (speculate.go).
//
// If ctx ends first, batched returns ctx.Err(); fn then runs only if its
// committer had already started it, so the outcome is unknown to the caller,
// which is why every write is idempotent or keyed. fn must not leave results
// where the caller reads them after such a return. Returns EUNAVAILABLE
// after Close.
func (s *Store) batched(ctx context.Context, fn func(w *writeTx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &batchOp{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.batchMu.RLock()
	if s.batchClosed {
		s.batchMu.RUnlock()
		return errClosed
	}
	select {
	case s.batchOps <- op:
		s.batchMu.RUnlock()
	case <-ctx.Done():
		s.batchMu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runCommitter is one committer goroutine: it commits the queued ops in
// batches, each one transaction (batchloop.Run), until batchOps is closed
// and drained, which is how Close flushes pending writes.
func (s *Store) runCommitter() {
	defer s.committers.Done()
	batchloop.Run(s.batchOps, maxBatch, s.commitBatch)
}

// commitBatch runs batch in one transaction, retrying it whole after a
// deadlock or serialization failure, and replies to every op.
func (s *Store) commitBatch(batch []*batchOp) {
	errs := make([]error, len(batch))
	// Statements run on ctx, not on any caller's context: pgx closes the
	// connection when a statement's context ends, which would roll back
	// every other caller's write in the batch. ctx ends only once every
	// caller has given up, when nobody is left to wait for the outcome
	// (which is also what a single write does today).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waiting atomic.Int64
	waiting.Store(int64(len(batch)))
	for _, op := range batch {
		stop := context.AfterFunc(op.ctx, func() {
			if waiting.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	for attempt := 1; ; attempt++ {
		clear(errs)
		changes, err := s.tryBatch(ctx, batch, errs)
		switch pgCode(err) {
		case pgSerializationFailure, pgDeadlockDetected:
			if attempt < maxAttempts {
				// Jittered, growing pause, so the contenders do not collide again.
				d := time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond)))
				select {
				case <-time.After(d):
					continue
				case <-ctx.Done():
				}
			}
		}
		if err != nil {
			// Ops that failed on their own keep their own error; the rest
			// share the batch's.
			for i := range errs {
				if errs[i] == nil {
					errs[i] = err
				}
			}
		} else if changes > 0 {
			// Wake a relay in this process at once, and tell the others.
			s.notify()
			s.announce()
		}
		for i, op := range batch {
			op.done <- errs[i]
		}
		return
	}
}

// tryBatch is one attempt of commitBatch. It returns how many changes the
// committed batch appended, or the error that ended the whole batch; an op's
// own failure goes to errs[i] and costs the batch nothing but that op.
//
// A batch of several ops is first run speculatively (speculate.go): all
// their order inserts in one statement. If that is not possible, ops run one
// after the other; they rarely fail, and a savepoint around each costs two
// more round trips per op, so the batch first runs without them. If an op
// fails, that transaction is rolled back and the batch runs again with a
// savepoint around each op, so only the failing ops are lost. A single op
// needs no savepoint: its failure is the batch's.
func (s *Store) tryBatch(ctx context.Context, batch []*batchOp, errs []error) (changes int, err error) {
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer s.pool.release(c)
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

	var (
		pending []pendingChange
		done    bool
	)
	if len(batch) > 1 {
		pending, done, err = s.speculate(ctx, c, batch, errs)
		if err != nil {
			return 0, err
		}
	}
	if !done {
		var failed bool
		pending, failed, err = s.runBatch(ctx, c, batch, errs, false)
		if err == nil && failed && len(batch) > 1 {
			if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
				return 0, fmt.Errorf("rollback: %w", err)
			}
			clear(errs)
			pending, _, err = s.runBatch(ctx, c, batch, errs, true)
		}
		if err != nil {
			return 0, err
		}
		if failed && len(batch) == 1 {
			return 0, nil // the deferred ROLLBACK undoes the failed op
		}
	}
	if len(pending) == 0 {
		return 0, commit(ctx, c)
	}
	if err := s.hooks.run(ctx, s.hooks.beforeSeq, c); err != nil {
		return 0, err
	}
	if err := appendAndCommit(ctx, c, pending, s.hooks.commitSQL()); err != nil {
		return 0, err
	}
	return len(pending), nil
}

// runBatch begins a transaction on c and runs in it every op whose caller
// still waits (see runOne), and returns the change records of the ops that
// succeeded, in the order made. Without savepoints it stops at the first
// failing op (failed, with the op's error in errs) and the transaction is
// left for the caller to roll back. With savepoints, a failing op is rolled
// back alone. err reports a failure of the transaction itself.
func (s *Store) runBatch(ctx context.Context, c *pgx.Conn, batch []*batchOp, errs []error, savepoints bool) (pending []pendingChange, failed bool, err error) {
	if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL READ COMMITTED"); err != nil {
		return nil, false, fmt.Errorf("begin: %w", err)
	}
	for i, op := range batch {
		changes, opFailed, err := s.runOne(ctx, c, op, errs, i, savepoints)
		if err != nil {
			return nil, true, err
		}
		if opFailed {
			if !savepoints {
				return nil, true, nil
			}
			failed = true
			continue
		}
		pending = append(pending, changes...)
	}
	return pending, failed, nil
}

// runOne runs op, batch entry i, in the transaction open on c, with its own
// clock reading and traceparent, inside a savepoint if asked, and returns
// its change records. An op whose caller has given up is skipped. If the op
// fails, its error goes to errs[i] and failed is set; with a savepoint the
// op has then been rolled back alone. err reports a failure of the
// transaction itself, including a deadlock or serialization failure in the
// op, which commitBatch retries whole.
func (s *Store) runOne(ctx context.Context, c *pgx.Conn, op *batchOp, errs []error, i int, savepoint bool) (changes []pendingChange, failed bool, err error) {
	// A caller that has given up gets nothing written on its behalf.
	if err := op.ctx.Err(); err != nil {
		errs[i] = err
		return nil, false, nil
	}
	w := &writeTx{ctx: ctx, tx: c, now: s.now(), traceParent: wims.TraceParent(op.ctx)}
	if savepoint {
		if _, err := c.Exec(ctx, qSavepoint); err != nil {
			return nil, false, fmt.Errorf("savepoint: %w", err)
		}
	}
	opErr := runOp(op, w)
	if savepoint && opErr == nil {
		// RELEASE also fails if the op swallowed a statement's error (the
		// subtransaction is then aborted); that is the op's error.
		if _, err := c.Exec(ctx, qRelease); err != nil {
			opErr = fmt.Errorf("release savepoint: %w", err)
		}
	}
	if opErr == nil {
		return w.changes, false, nil
	}
	switch pgCode(opErr) {
	case pgSerializationFailure, pgDeadlockDetected:
		return nil, true, opErr
	}
	errs[i] = opErr
	if !savepoint {
		return nil, true, nil
	}
	if _, err := c.Exec(ctx, qRollbackTo); err != nil {
		return nil, true, fmt.Errorf("rollback to savepoint: %w", err)
	}
	if _, err := c.Exec(ctx, qRelease); err != nil {
		return nil, true, fmt.Errorf("release savepoint: %w", err)
	}
	return nil, true, nil
}

// runOp runs one closure, turning a panic into an error so that a bug in one
// write fails that write instead of killing the committer and hanging every
// caller.
func runOp(op *batchOp, w *writeTx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("write panicked: %v", r)
		}
	}()
	return op.fn(w)
}
