// Package postgres implements wims.Store on PostgreSQL with
// github.com/jackc/pgx/v5, for running several wims instances against one
// shared database. It keeps the schema and behaviour of package sqlite (the
// contract suite storetest runs against both); only the SQL and the
// concurrency control differ.
//
// # Writes: real concurrency, row locks and guards
//
// SQLite allows one writer, so package sqlite funnels writes through one
// goroutine. PostgreSQL does not need that: every write runs in a
// transaction on a connection from a small pool (pool.go), concurrently with
// the others, at READ COMMITTED; the order pipeline's writes share
// transactions (see Group commit), the rarer ones have their own.
// Correctness comes from locks and guards, not from the isolation level:
//
//   - A row is read for its old image with SELECT ... FOR NO KEY UPDATE, so
//     nobody else can change it until this transaction ends, and the image is
//     exactly the row the write replaces. At READ COMMITTED a locking read that
//     had to wait returns the newest committed version of the row.
//   - Stock leaves only through UPDATE ... WHERE sku = $1 AND quantity >= $2,
//     and a CHECK (quantity >= 0) backs that up.
//   - Order transitions are compare-and-set: UPDATE ... WHERE order_id = $1
//     AND status = $2.
//   - Locks are taken in one order (the order row, then the item row, then the
//     change_seq row last; a fill of backorders, which holds the item row,
//     locks the BACKORDERED orders after it, and a cancel of one takes the
//     item row before it, see wims.Tx.CancelOrder; resource writes take the resource_generation row
//     first, which serialises them, see resources.go), and the foreign key
//     from orders to inventory takes only FOR KEY SHARE, which FOR NO KEY
//     UPDATE does not conflict with. So writes do not deadlock; should
//     PostgreSQL still report a deadlock or a serialization failure, the
//     whole transaction is retried (tx.go).
//
// SERIALIZABLE would give the same results with more aborts and retries on
// the hot rows (every order touches the same few items and the counter); the
// guarded writes already make each operation's outcome depend only on rows it
// has locked, which is what serializability would have bought.
//
// # Change capture and its ordering
//
// Each write builds its change records in Go, exactly as package sqlite
// does: the order and inventory writes are the transitions of wims.Tx, which
// both engines share, run over this package's txRows (tx.go), and the images
// are json.Marshal of the domain values, ChangedColumns the differing fields,
// event ids UUIDv7, the traceparent from the context.
// The records are not inserted as the write goes. They are appended in one
// statement that is the last one before COMMIT:
//
//	WITH s AS (UPDATE change_seq SET seq = seq + n WHERE id = 1 RETURNING seq)
//	INSERT INTO change_log (seq, ...) SELECT s.seq - n + ord, ...
//
// The trap this avoids: seqs from a sequence are assigned when a row is
// inserted, not when it commits, so a reader can see seq 11 committed while
// seq 10 is still in flight, advance its cursor to 11, and skip 10 forever.
// Here the counter row's lock is taken by the UPDATE and held until the
// transaction ends, which makes "take seqs, commit" a critical section:
//
//  1. If T1 takes the counter first, T2's UPDATE waits for T1 to end. If T1
//     commits, T2 then reads T1's counter value (READ COMMITTED re-reads the
//     newest version after a wait), so T2's seqs are all above T1's. If T1
//     rolls back, its counter update is undone too and T2 reuses its seqs:
//     no gap is ever left behind.
//  2. PostgreSQL makes a committing transaction visible to new snapshots
//     before it releases its locks. So by the time T2 holds the counter, T1 is
//     visible to every snapshot taken from then on, in particular to any
//     snapshot that can see T2, which commits later still.
//  3. Hence seq order is commit order, and a reader's snapshot holds a prefix
//     of the log: if it sees seq n it sees every seq below n. A relay whose
//     cursor is the last seq it read (ReadChanges(after=cursor)) therefore
//     never skips a change.
//  4. Two changes to the same row are ordered correctly: the second write
//     locks the row, so it reads the old image only after the first write
//     committed, and takes its seqs later still. Each change's OldImage is
//     the previous change's NewImage for that row.
//
// Nothing here depends on how many callers' writes a transaction holds: a
// group-committed batch (below) is one transaction, appends all its changes
// in one statement, in the order its ops made them, and takes one contiguous
// range of seqs, so the argument holds for it unchanged. Point 4 holds
// inside a batch too: two ops on one row run one after the other in the same
// transaction, so the second reads the first's new image (a batch that
// locked its rows ahead keeps each row as its earlier ops left it, see
// Group commit).
//
// The price is a serialisation point: appending changes and committing
// (including the commit's WAL flush) is one transaction at a time, so
// concurrent commits no longer share WAL flushes. The row work before it runs
// concurrently. Group commit amortises it over many orders. pg_notify inside the transaction would be a second such
// point (PostgreSQL holds a database-wide lock from a notifying transaction's
// pre-commit until its commit is done), so notifications are sent after the
// commit instead (see Change signal), and the append and COMMIT are sent in
// one round trip, so the lock is held for the append and the commit's WAL
// flush only. BenchmarkCreateOrder on the 2-core reference machine, quiet:
// about 1.65k orders/s with append and COMMIT in two round trips, 2.1k in one
// (and, measured earlier under load, 0.9k with an in-transaction NOTIFY and
// 3.3k with no counter at all, which has no ordering guarantee). With group
// commit (below), on the same machine under load 11-17 from other work, so
// the spread is wide: 16 callers 0.37-0.97k before, 1.9-3.4k after; 32
// callers (-cpu 4) 0.38-0.87k before, 3.1-7.4k after; 64 callers (-cpu 8)
// 0.72k before, 6.4k after.
//
// Alternatives considered: reading up to an xmin horizon (pg_snapshot_xmin
// with an xid8 column) avoids the serialisation but breaks the numeric
// cursor, since xid order is not commit order, so a plain seq > after read can
// still skip or reorder a row's changes. Logical decoding would need a
// replication slot per deployment and REPLICA IDENTITY FULL for old images.
//
// # Group commit
//
// The order pipeline's writes are group-committed (batch.go), as every
// write of package sqlite is: callers queue their write, and a committer
// goroutine takes whatever is queued (up to maxBatch) and runs it as one
// transaction: each op with its own clock reading and traceparent, then one
// change-log append for the whole batch and one COMMIT. So the counter lock
// and the WAL flush are paid once per batch rather than once per write, and
// under load batches grow with the queue. Which writes may share a
// transaction is a question of lock order (below), so there are two queues:
//
//   - Order creations (CreateOrder, the accept path) go to
//     Options.Committers committers (default 1). The batch's order inserts
//     go to the database as one statement, in the same round trip as BEGIN:
//     the closures first run against rows that only note the insert
//     (speculate.go), and the few whose guess fails (the id exists, the SKU
//     does not, a multi-line order) run again the ordinary way in a
//     savepoint. A batch is then about three round trips however large,
//     which is why one committer beats several (see defaultCommitters).
//   - The transitions of existing orders that the workflow and the payment
//     dispatcher make for every order (ReserveStock, CompletePayment,
//     CompleteRefund, and ShipOrder from the API), with the two inserts
//     they make alongside (RecordPaymentAttempt, SaveExecution), go to one
//     transition committer per Store. Its batches lock ahead (ahead.go): in
//     the round trip of BEGIN a batch locks every order its ops name, in
//     order_id order, then every item of those orders' lines, in SKU order,
//     and reads which of those SKUs have BACKORDERED orders. The
//     transitions (wims.Tx's, unchanged) then run in Go against those rows,
//     each seeing them as the batch's earlier ops left them, and their
//     writes go to the database in the round trip of the change-log append
//     and COMMIT, one statement per table: each changed order and item
//     once, with its state after the batch's last op on it, and the history
//     entries, payment attempts and executions in op order. That is two
//     round trips and a handful of statements per batch however large, and
//     one new version of a hot item's row per batch instead of one per
//     reservation. The item is locked, so its quantity in Go is the row's,
//     and the stock guard decides there; each row's write is a
//     compare-and-set on the status or quantity as locked, which must
//     change every row it names, and CHECK (quantity >= 0) still backs the
//     guard. An op that needs what those rows cannot answer (filling
//     backorders: a failed payment or a refund returning stock to an item
//     with orders waiting) is a miss: what it did is dropped, and it runs
//     again the ordinary way, in a savepoint, after the others' writes. It
//     then behaves as if it came last in the batch, which is a valid order
//     since every caller in a batch is still waiting, and its changes are
//     appended after the others', so the log follows that order. An op that
//     fails on its own (an unknown order, a shipment of an unpaid order)
//     costs nothing: its writes are never sent. Backorders stay first-come
//     first-served:
//     orders enter and leave BACKORDERED only under their item's lock, which
//     the batch holds, so the answer read after locking holds for the batch
//     apart from its own changes, which it tracks (an order it backorders
//     makes the next one queue behind; an order leaving BACKORDERED makes
//     the answer unknown, and the next op asking is a miss). LOW_STOCK and
//     OVERSTOCK crossings come from the item changes' images, which are the
//     locked rows as the ops changed them, so they are the same as one op
//     per transaction would record.
//   - The rarer writes (CancelOrder, PutItem, AdjustStock, MarkNotified,
//     resources) have a transaction each (write, tx.go).
//
// BenchmarkPipeline (every store write of one order, from many callers at
// once) on the 2-core reference machine, load 5-8 from other work, before
// the transitions were batched and after: 16 callers 0.39-0.47k orders/s
// before, 0.58-0.66k after; 32 callers (-cpu 4) 0.30-0.38k, 1.2-1.3k; 64
// callers (-cpu 8) 0.40-0.58k, 1.8-1.9k. The accepts no longer queue behind
// single commits for the counter: in wims bench compare, V2 on PostgreSQL
// went from 0.24-0.76k accepted/s to 2.1-2.4k.
//
// For both queues:
//
//   - Should the fast way fail (the one-statement insert, because an item
//     was deleted meanwhile; a queued write of a locked-ahead batch, which
//     should not happen), the batch runs op by op: first without
//     savepoints (a savepoint costs two round trips per op), and if an op
//     fails, rolled back and again with SAVEPOINT/RELEASE around each op
//     and ROLLBACK TO on an op's error, so only that op is lost and its
//     caller gets its error.
//   - A caller hears success only after COMMIT succeeded, so an acknowledged
//     write is durable; if the batch fails, every op in it gets the error.
//   - A deadlock or serialization failure anywhere in the batch rolls back
//     and retries the whole batch (commitBatch, up to maxAttempts with
//     jittered pauses), as write retries a single transaction. Each attempt
//     starts from nothing: the rows are locked and read again, and every
//     op's closure runs again with a new writeTx; wims.Tx's transitions keep
//     no state between runs, and the closures assign their results, read
//     only once the batch has answered. A caller sees a deadlock only if
//     every attempt ended in one.
//   - Statements run on the batch's own context, not a caller's: pgx closes
//     the connection when a statement's context ends, which would roll back
//     everyone else's write. A caller that gives up is skipped if its op has
//     not started; the batch's context ends only once every caller in it
//     has given up.
//
// # Group commit and lock order
//
// A batch holds every lock its ops took until it commits. Were its ops run
// one after the other, its lock order would be the concatenation of theirs:
// order o1, item A, order o2, item B, ... Two such batches (from two
// committers or two instances) could then lock items A and B in opposite
// orders and deadlock, which PostgreSQL breaks only after deadlock_timeout
// (1 s), on the hottest rows there are. Hence the two queues and the lock
// ahead:
//
//   - Within one instance, creation batches and transition batches never
//     wait for each other but at the counter, which each takes last,
//     holding nothing it still waits for. A creation inserts new rows,
//     which no locking read of another transaction waits for (they are
//     invisible to it until committed; only a concurrent insert of the same
//     id waits), and its foreign key check takes FOR KEY SHARE on the item,
//     which conflicts with none of the item locks the store takes (FOR NO
//     KEY UPDATE, plain UPDATEs of non-key columns). Transition batches run
//     one at a time, so they cannot wait for each other at all. A second
//     transition committer would gain little: every reservation of a SKU
//     waits for its item's lock, which a batch holds from its first round
//     trip to its commit, and the pipeline's orders share a few SKUs
//     (BenchmarkPipeline, 64 callers: 1.0-1.4k orders/s with two, 1.5-2.0k
//     with one).
//   - Across instances, and against the unbatched writes of any instance
//     (API cancels, restocks), a transition batch takes its locks in the
//     order every write keeps (orders, then items, then the counter), and
//     within each kind in key order, so two transition batches cannot
//     deadlock, nor can a batch and an unbatched write that locks one order
//     and then its items (every other transition). A creation batch of one instance
//     and a transition batch of another conflict no more than within one
//     instance. Payment attempts lock nothing; an execution upsert locks
//     only its own row, whose id one workflow run owns.
//   - What remains are the writes that lock an item before orders: a fill
//     of backorders (a restock through PutItem or AdjustStock, a cancel of a
//     BACKORDERED order, or a locked-ahead batch's miss) locks the item,
//     then the BACKORDERED orders. A transition batch of another instance
//     may hold one of those orders (it names it: a redelivered reservation
//     of a BACKORDERED order) while it waits for the item. Such a cycle
//     needs a batched op on a BACKORDERED order at the moment its SKU is
//     filled: rare, and PostgreSQL detects it, and the aborted transaction,
//     batch or not, is retried whole (see above).
//
// CreateOrder's batches can wait only for the same ids in another
// instance's batch (a client retrying one request on two instances at
// once), and even that cycle needs two such ids in opposite orders: rare,
// and retried too.
//
// # Change signal
//
// After every commit that appended changes, the Store signals its own
// ChangeSignal at once and asks its announcer goroutine to send NOTIFY on
// the channel wims_changes; commits that arrive while a NOTIFY is in flight
// share the next one. A NOTIFY lost to a crash between commit and announce
// only delays other instances' relays until their once-a-second poll, since
// the change log, not the notification, is what they read. Each Store keeps
// one connection that LISTENs
// on it (signal.go) and forwards notifications, coalesced, to ChangeSignal, so
// a commit by any instance wakes every instance's relay. The listener
// reconnects with backoff and signals once after reconnecting, since
// notifications sent while it was away are lost.
//
// # Schema and seeding
//
// Migrations are embedded numbered files (migrations/*.sql), applied in order
// under a session advisory lock, each in a transaction with its row in
// schema_migrations, so several instances starting at once apply each one
// exactly once. Seeding inserts a store_meta marker with ON CONFLICT DO
// NOTHING first, so of two instances seeding at once one waits for the other
// and then does nothing.
//
// # Times
//
// Every time is truncated to microseconds and kept in UTC, stored as
// TIMESTAMPTZ (which keeps microseconds) and returned in UTC, so what a write
// returns equals what a read returns, as with package sqlite.
//
// # Connections
//
// The store uses its own small connection pool (pool.go) over pgx.Conn: the
// module does not require github.com/jackc/puddle/v2, which pgxpool needs.
// Each pooled connection caches its prepared statements.
package postgres
