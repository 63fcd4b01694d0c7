package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// ReadChanges returns up to limit changes with Seq > after, in Seq order. A
// limit above 10,000 is lowered to it. Returns EINVALID for limit <= 0 or
// after < 0.
//
// Seq order is commit order, and a change is visible only once every change
// with a lower seq is (see the package doc), so a reader that continues after
// the last seq it got never skips a change.
func (s *Store) ReadChanges(ctx context.Context, after int64, limit int) ([]wims.Change, error) {
	limit, err := wims.ReadChangesLimit(after, limit)
	if err != nil {
		return nil, err
	}
	var out []wims.Change
	err = s.read(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, `SELECT seq, event_id, tbl, event_type, key_json, changed_columns_json,
			new_image, old_image, at, traceparent
			FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c                  wims.Change
				key, cols          string
				newImage, oldImage *string
				at                 time.Time
			)
			if err := rows.Scan(&c.Seq, &c.EventID, &c.Table, &c.EventType, &key, &cols,
				&newImage, &oldImage, &at, &c.TraceParent); err != nil {
				return err
			}
			c.Key = json.RawMessage(key)
			if err := json.Unmarshal([]byte(cols), &c.ChangedColumns); err != nil {
				return fmt.Errorf("seq %d: changed columns: %w", c.Seq, err)
			}
			if newImage != nil {
				c.NewImage = json.RawMessage(*newImage)
			}
			if oldImage != nil {
				c.OldImage = json.RawMessage(*oldImage)
			}
			c.Time = at.UTC()
			out = append(out, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("read changes", err)
	}
	return out, nil
}

// PruneChanges deletes change-log rows that are both published and old: seq
// <= upToSeq (the relay's confirmed cursor) and recorded before olderThan
// (kept a while for debugging and replay). It returns how many rows it
// deleted. Seqs are never reused after a prune: they come from change_seq,
// which pruning leaves alone.
func (s *Store) PruneChanges(ctx context.Context, upToSeq int64, olderThan time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(w *writeTx) error {
		tag, err := w.exec(`DELETE FROM change_log WHERE seq <= $1 AND at < $2`, upToSeq, olderThan)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, wrap("prune changes", err)
	}
	return n, nil
}
