package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wims/wims"
)

// ReadChanges returns up to limit changes with Seq > after, in Seq order, from
// a read connection. A limit above 10,000 is lowered to it. Returns EINVALID
// for limit <= 0 or after < 0.
//
// Seq order is commit order and has no gaps that fill in later, because a
// single writer assigns seqs and commits them in one transaction at a time.
func (s *Store) ReadChanges(ctx context.Context, after int64, limit int) ([]wims.Change, error) {
	limit, err := wims.ReadChangesLimit(after, limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT seq, event_id, tbl, event_type, key_json, changed_columns_json,
		new_image, old_image, at, traceparent
		FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("read changes", err)
	}
	defer rows.Close()
	var out []wims.Change
	for rows.Next() {
		var (
			c                  wims.Change
			key, cols          string
			newImage, oldImage sql.NullString
			at                 int64
		)
		if err := rows.Scan(&c.Seq, &c.EventID, &c.Table, &c.EventType, &key, &cols,
			&newImage, &oldImage, &at, &c.TraceParent); err != nil {
			return nil, wrap("read changes", err)
		}
		c.Key = json.RawMessage(key)
		if err := json.Unmarshal([]byte(cols), &c.ChangedColumns); err != nil {
			return nil, fmt.Errorf("read changes: seq %d: changed columns: %w", c.Seq, err)
		}
		if newImage.Valid {
			c.NewImage = json.RawMessage(newImage.String)
		}
		if oldImage.Valid {
			c.OldImage = json.RawMessage(oldImage.String)
		}
		c.Time = fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read changes", err)
	}
	return out, nil
}

// PruneChanges deletes change-log rows that are both published and old: seq
// <= upToSeq (the relay's confirmed cursor) and recorded before olderThan
// (kept a while for debugging and replay). It returns how many rows it
// deleted. Seqs are never reused after a prune.
func (s *Store) PruneChanges(ctx context.Context, upToSeq int64, olderThan time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(w *writeTx) error {
		res, err := w.exec(`DELETE FROM change_log WHERE seq <= ? AND at < ?`, upToSeq, toMicros(olderThan))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("prune changes", err)
	}
	return n, nil
}
