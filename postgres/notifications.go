package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
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
	tag, err := r.w.exec(`INSERT INTO notifications_sent (id, target, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		id, target, at)
	return tag.RowsAffected() == 1, err
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
