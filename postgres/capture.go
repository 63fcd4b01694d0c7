package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wims/wims"
)

// changeChannel is the LISTEN/NOTIFY channel every change-appending commit
// notifies.
const changeChannel = "wims_changes"

// pendingChange is one change record built during a write, waiting to be
// appended to the change log at the end of the transaction. It carries its
// own time and traceparent because one transaction may hold the writes of
// many callers (see batch.go).
type pendingChange struct {
	eventID, table, eventType, key, columns string
	newImage, oldImage                      *string // nil for none (SQL NULL)
	at                                      time.Time
	traceParent                             string
}

// addChange adds a change record built by wims.NewChange or
// wims.NewDocChange to w's records, for flushing at commit.
func addChange(w *writeTx, c wims.Change) error {
	cols, err := json.Marshal(c.ChangedColumns)
	if err != nil {
		return err
	}
	w.changes = append(w.changes, pendingChange{
		eventID: c.EventID, table: c.Table, eventType: c.EventType, key: string(c.Key), columns: string(cols),
		newImage: text(c.NewImage), oldImage: text(c.OldImage), at: w.now, traceParent: w.traceParent,
	})
	return nil
}

// qAppendChanges takes len(changes) seqs from the counter and appends the
// changes with them, in one statement. Other instances are told after the
// commit, by the announcer (NOTIFY inside the transaction would take
// PostgreSQL's global notify lock through the commit's flush and serialize
// every committing writer: 930 against 1,290 orders/s measured).
// Updating change_seq locks its row until the transaction ends, which is
// what makes seq order commit order (see the package doc); so this runs as
// the transaction's last statement, to hold that lock as briefly as possible.
//
// Parameters: $1..$9 the records' columns as parallel arrays (the last two
// their times and traceparents), $10 how many there are.
const qAppendChanges = `WITH s AS (
	UPDATE change_seq SET seq = seq + $10::bigint WHERE id = 1 RETURNING seq
), c AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::timestamptz[], $9::text[])
		WITH ORDINALITY AS c (event_id, tbl, event_type, key_json, changed_columns_json, new_image, old_image,
			at, traceparent, ord)
), ins AS (
	INSERT INTO change_log (seq, event_id, tbl, event_type, key_json, changed_columns_json, new_image, old_image, at, traceparent)
	SELECT s.seq - $10::bigint + c.ord, c.event_id, c.tbl, c.event_type, c.key_json, c.changed_columns_json,
		c.new_image, c.old_image, c.at, c.traceparent
	FROM s CROSS JOIN c
	RETURNING seq
)
SELECT count(*), max(seq) FROM ins`

// appendAndCommit sends writes (queued by a batch that locked ahead, see
// ahead.go; they may begin the transaction), appends changes to the change
// log (see qAppendChanges) and commits the transaction open on c, in one
// round trip: the counter's
// lock, which serialises every change-appending commit of the database, is
// then held for the append and the commit's WAL flush only, not for a round
// trip to this process as well (which, with the process waiting for a CPU,
// could be milliseconds). extra, if not "", is sent between the two (tests).
// It checks that every record got its seq and that the transaction
// committed.
func appendAndCommit(ctx context.Context, c *pgx.Conn, writes []aheadWrite, changes []pendingChange, extra string) error {
	n := len(changes)
	var (
		ids, tables, types, keys, cols = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		newImages, oldImages           = make([]*string, n), make([]*string, n)
		ats, traces                    = make([]time.Time, n), make([]string, n)
	)
	for i, c := range changes {
		ids[i], tables[i], types[i], keys[i], cols[i] = c.eventID, c.table, c.eventType, c.key, c.columns
		newImages[i], oldImages[i] = c.newImage, c.oldImage
		ats[i], traces[i] = c.at, c.traceParent
	}
	b := &pgx.Batch{}
	queueWrites(b, writes)
	b.Queue(qAppendChanges, ids, tables, types, keys, cols, newImages, oldImages, ats, traces, int64(n))
	if extra != "" {
		b.Queue(extra)
	}
	b.Queue("COMMIT")
	br := c.SendBatch(ctx, b)
	var count, last int64
	err := readWrites(br, writes)
	if err == nil {
		err = br.QueryRow().Scan(&count, &last)
	}
	if err == nil && extra != "" {
		_, err = br.Exec()
	}
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return fmt.Errorf("append %d changes and commit: %w", n, err)
	case count != int64(n):
		return fmt.Errorf("append %d changes: %d appended", n, count)
	case tag.String() != "COMMIT":
		return fmt.Errorf("commit: %s", tag)
	}
	return nil
}

// text stores a missing image as NULL rather than "null" or "".
func text(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}

// Record implements wims.TxRows: the change waits in w for commit (see
// appendAndCommit).
func (r txRows) Record(c wims.Change) error { return addChange(r.w, c) }
