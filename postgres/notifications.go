package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// MarkNotified records that notification id reached target and reports
// whether this call recorded it (false: it was already recorded, possibly by
// a concurrent call, which this one waited for). Returns EINVALID for an
// empty id or target.
func (s *Store) MarkNotified(ctx context.Context, id, target string) (bool, error) {
	if id == "" {
		return false, wims.FieldError("id", "is required")
	}
	if target == "" {
		return false, wims.FieldError("target", "is required")
	}
	var inserted bool
	err := s.write(ctx, func(w *writeTx) error {
		tag, err := w.exec(`INSERT INTO notifications_sent (id, target, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			id, target, w.now)
		inserted = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return false, wrap("mark notified "+id, err)
	}
	return inserted, nil
}

// Notified reports whether notification id already reached target.
func (s *Store) Notified(ctx context.Context, id, target string) (bool, error) {
	var found bool
	err := s.read(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notifications_sent WHERE id = $1 AND target = $2)`,
			id, target).Scan(&found)
	})
	if err != nil {
		return false, wrap("notified "+id, err)
	}
	return found, nil
}
