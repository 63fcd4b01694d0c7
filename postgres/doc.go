// Package postgres implements wims.Store on PostgreSQL with
// github.com/jackc/pgx/v5, for running several wims instances against one
// shared database. It keeps the schema and behaviour of package sqlite (the
// contract suite storetest runs against both); only the SQL and the
// concurrency control differ.
//
// # Writes: real concurrency, row locks and guards
//
// SQLite allows one writer, so package sqlite funnels writes through one
// goroutine. PostgreSQL does not need that: every write runs in its own
// transaction on a connection from a small pool (pool.go), concurrently with
// the others, at READ COMMITTED. Correctness comes from locks and guards, not
// from the isolation level:
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
// The price is a serialisation point: appending changes and committing
// (including the commit's WAL flush) is one transaction at a time, so
// concurrent commits no longer share WAL flushes. The row work before it runs
// concurrently. pg_notify inside the transaction would be a second such
// point (PostgreSQL holds a database-wide lock from a notifying transaction's
// pre-commit until its commit is done), so notifications are sent after the
// commit instead (see Change signal), and the append and COMMIT are sent in
// one round trip, so the lock is held for the append and the commit's WAL
// flush only. BenchmarkCreateOrder on the 2-core reference machine, quiet:
// about 1.65k orders/s with append and COMMIT in two round trips, 2.1k in one
// (and, measured earlier under load, 0.9k with an in-transaction NOTIFY and
// 3.3k with no counter at all, which has no ordering guarantee).
//
// Alternatives considered: reading up to an xmin horizon (pg_snapshot_xmin
// with an xid8 column) avoids the serialisation but breaks the numeric
// cursor, since xid order is not commit order, so a plain seq > after read can
// still skip or reorder a row's changes. Logical decoding would need a
// replication slot per deployment and REPLICA IDENTITY FULL for old images.
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
