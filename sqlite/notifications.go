package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/wims/wims"
)

// MarkNotified records that notification id reached target and reports
// whether this call recorded it (false: it was already recorded). Returns
// EINVALID for an empty id or target.
func (s *Store) MarkNotified(ctx context.Context, id, target string) (bool, error) {
	if id == "" {
		return false, wims.FieldError("id", "is required")
	}
	if target == "" {
		return false, wims.FieldError("target", "is required")
	}
	var inserted bool
	err := s.write(ctx, func(w *writeTx) error {
		res, err := w.exec(`INSERT OR IGNORE INTO notifications_sent (id, target, at) VALUES (?, ?, ?)`,
			id, target, toMicros(w.now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		inserted = n == 1
		return err
	})
	if err != nil {
		return false, wrap("mark notified "+id, err)
	}
	return inserted, nil
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
