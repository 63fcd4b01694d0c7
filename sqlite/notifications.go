package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/wims/wims"
)

// MarkNotified records that notification id reached target; see
// wims.Tx.MarkNotified. Returns EINVALID for an empty id or target.
func (s *Store) MarkNotified(ctx context.Context, id, target string) (bool, error) {
	if err := wims.ValidateNotified(id, target); err != nil {
		return false, err
	}
	return transition(s, ctx, "mark notified", id, func(tx wims.Tx) (bool, error) { return tx.MarkNotified(id, target) })
}

// InsertNotified implements wims.TxRows.
func (r txRows) InsertNotified(id, target string, at time.Time) (bool, error) {
	res, err := r.w.exec(`INSERT OR IGNORE INTO notifications_sent (id, target, at) VALUES (?, ?, ?)`,
		id, target, toMicros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Notified reports whether notification id already reached target.
func (s *Store) Notified(ctx context.Context, id, target string) (bool, error) {
	var one int
	err := s.rdb.QueryRowContext(ctx, `SELECT 1 FROM notifications_sent WHERE id = ? AND target = ?`, id, target).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, wrap("notified "+id, err)
	}
	return true, nil
}
