package postgres

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
	"github.com/wims/wims/internal/batchloop"
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
	// orders are the orders fn may lock, for a batch that locks ahead
	// (ahead.go); fn's other writes lock no existing row.
	orders []string
	// done receives the op's outcome; buffered, so a committer never blocks
	// on a caller that gave up.
	done chan error
}

// fastPath is how a committer first tries a batch, with no transaction open
// on c (speculate or lockAhead): done reports that every op ran, with
// pending the changes to append and tail the writes to send before them;
// done false, with no error, means the transaction was rolled back and the
// batch is to run op by op.
type fastPath func(ctx context.Context, c *pgx.Conn, batch []*batchOp, errs []error) (pending []pendingChange, tail []aheadWrite, done bool, err error)

// batched runs fn like write, but in a transaction shared with whatever
// other order creations are queued at the time (group commit): it queues fn
// for a committer and waits until the batch holding it has committed (nil)
// or fn failed (its error). Only the results of a committed batch are
// reported as success, so an acknowledged write is durable.
//
// Only writes that insert new rows and lock no existing one may use it (see
// the package doc, "Group commit"): today that is CreateOrder. fn must
// reach the database only through w.domain(), since it may first run
// speculatively, against rows that execute nothing (speculate.go).
//
// If ctx ends first, batched returns ctx.Err(); fn then runs only if its
// committer had already started it, so the outcome is unknown to the caller,
// which is why every write is idempotent or keyed. fn must not leave results
// where the caller reads them after such a return. Returns EUNAVAILABLE
// after Close.
func (s *Store) batched(ctx context.Context, fn func(w *writeTx) error) error {
	return s.enqueue(ctx, s.batchOps, &batchOp{ctx: ctx, fn: fn})
}

// batchedAhead is batched for the pipeline's transitions of existing rows:
// fn shares a transaction with the other such writes queued at the time,
// on the transition committer, which locks every order of the batch (the
// ids in orders: every order fn may lock) and their items ahead, in key
// order, and then runs fn against those rows (ahead.go). fn must reach the
// database only through w.domain(), and must not lock orders beyond
// orders (if it does, it runs again the ordinary way). Results and errors
// as batched.
func (s *Store) batchedAhead(ctx context.Context, orders []string, fn func(w *writeTx) error) error {
	return s.enqueue(ctx, s.aheadOps, &batchOp{ctx: ctx, fn: fn, orders: orders})
}

// enqueue queues op on queue and waits for its outcome (see batched).
func (s *Store) enqueue(ctx context.Context, queue chan *batchOp, op *batchOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op.done = make(chan error, 1)
	s.batchMu.RLock()
	if s.batchClosed {
		s.batchMu.RUnlock()
		return errClosed
	}
	select {
	case queue <- op:
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

// batchedTransition runs fn, one of wims.Tx's transitions of the order id,
// as batchedAhead does (again from the start if the batch is retried), and
// labels its error with what it did and to which id.
func batchedTransition[T any](s *Store, ctx context.Context, what, id string, fn func(wims.Tx) (T, error)) (T, error) {
	// The result is read only after batchedAhead reports the outcome, never
	// after it returned early for ctx, when the closure may still run.
	return runTransition(func(f func(w *writeTx) error) error {
		return s.batchedAhead(ctx, []string{id}, f)
	}, what, id, fn)
}

// runCommitter is one committer goroutine: it commits the ops queued on
// queue in batches, each one transaction (batchloop.Run), first trying each
// batch with fast, until queue is closed and drained, which is how Close
// flushes pending writes.
func (s *Store) runCommitter(queue chan *batchOp, fast fastPath) {
	defer s.committers.Done()
	batchloop.Run(queue, maxBatch, func(batch []*batchOp) { s.commitBatch(batch, fast) })
}

// speculateMany is the order creations' fastPath: a batch of one gains
// nothing from speculation, so it runs the ordinary way.
func (s *Store) speculateMany(ctx context.Context, c *pgx.Conn, batch []*batchOp, errs []error) ([]pendingChange, []aheadWrite, bool, error) {
	if len(batch) < 2 {
		return nil, nil, false, nil
	}
	pending, done, err := s.speculate(ctx, c, batch, errs)
	return pending, nil, done, err
}

// commitBatch runs batch in one transaction, retrying it whole after a
// deadlock or serialization failure, and replies to every op. Each attempt
// starts from nothing: new writeTxs, errs cleared, every op's closure run
// again, and a closure sets its results anew on each run.
func (s *Store) commitBatch(batch []*batchOp, fast fastPath) {
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
		changes, err := s.tryBatch(ctx, batch, errs, fast)
		if retryable(err) && attempt < maxAttempts && pauseBeforeRetry(ctx, attempt) {
			continue
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
// A batch is first run the fast way (speculate.go for order creations,
// ahead.go for the transitions). If that is not possible, ops run one after
// the other; they rarely fail, and a savepoint around each costs two more
// round trips per op, so the batch first runs without them. If an op fails,
// that transaction is rolled back and the batch runs again with a savepoint
// around each op, so only the failing ops are lost. A single op needs no
// savepoint: its failure is the batch's.
func (s *Store) tryBatch(ctx context.Context, batch []*batchOp, errs []error, fast fastPath) (changes int, err error) {
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

	pending, tail, done, err := fast(ctx, c, batch, errs)
	if err != nil {
		return 0, err
	}
	if done {
		err := s.finishBatch(ctx, c, tail, pending)
		switch {
		case err == nil:
			return len(pending), nil
		case len(tail) == 0:
			return 0, err
		}
		// The queued writes went with the commit; should one have failed,
		// the batch runs op by op.
		if retry, err := s.aheadFailed(ctx, c, err); !retry {
			return 0, err
		}
		clear(errs)
	}
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
	return len(pending), s.finishBatch(ctx, c, nil, pending)
}

// finishBatch sends tail, appends pending to the change log and commits,
// all in one round trip, after the test hook beforeSeq if there is one (a
// fast path with a hook has sent its writes already). With nothing to send
// and no transaction open, there is nothing to do.
func (s *Store) finishBatch(ctx context.Context, c *pgx.Conn, tail []aheadWrite, pending []pendingChange) error {
	switch {
	case len(pending) == 0 && len(tail) == 0 && c.PgConn().TxStatus() == 'I':
		return nil
	case len(pending) == 0 && len(tail) == 0:
		return commit(ctx, c)
	case len(pending) == 0:
		return s.sendWrites(ctx, c, tail, true)
	}
	if err := s.hooks.run(ctx, s.hooks.beforeSeq, c); err != nil {
		return err
	}
	return appendAndCommit(ctx, c, s.testWrites(tail), pending, s.hooks.commitSQL())
}

// runBatch begins a transaction on c and runs in it every op whose caller
// still waits (see runOne), and returns the change records of the ops that
// succeeded, in the order made. Without savepoints it stops at the first
// failing op (failed, with the op's error in errs) and the transaction is
// left for the caller to roll back. With savepoints, a failing op is rolled
// back alone. err reports a failure of the transaction itself.
func (s *Store) runBatch(ctx context.Context, c *pgx.Conn, batch []*batchOp, errs []error, savepoints bool) (pending []pendingChange, failed bool, err error) {
	if _, err := c.Exec(ctx, qBegin); err != nil {
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
	if retryable(opErr) {
		return nil, true, opErr // the whole batch runs again
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
