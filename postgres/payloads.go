package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// PutEventPayload stores a claim-checked payload; see
// wims.EventPayloadStore. It is committed before PutEvents publishes the
// event that refers to it.
func (s *Store) PutEventPayload(ctx context.Context, p wims.EventPayload) error {
	if err := wims.ValidateEventPayload(p); err != nil {
		return err
	}
	err := s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT INTO event_payloads (id, bus, sha256, detail, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (id) DO NOTHING`, p.ID, p.Bus, p.SHA256, p.Detail, p.CreatedAt)
		return err
	})
	return wrap("put event payload "+p.ID, err)
}

// GetEventPayload returns ENOTFOUND for an unknown id.
func (s *Store) GetEventPayload(ctx context.Context, id string) (wims.EventPayload, error) {
	p := wims.EventPayload{ID: id}
	err := s.read(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT bus, sha256, detail, created_at FROM event_payloads WHERE id = $1`, id).
			Scan(&p.Bus, &p.SHA256, &p.Detail, &p.CreatedAt)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return wims.EventPayload{}, wims.Errorf(wims.ENOTFOUND, "Event %s has no claim-checked payload.", id)
	}
	if err != nil {
		return wims.EventPayload{}, wrap("get event payload "+id, err)
	}
	p.CreatedAt = p.CreatedAt.UTC()
	return p, nil
}

// DeleteEventPayloads deletes the oldest payloads created before olderThan,
// at most limit of them in one transaction; see wims.EventPayloadStore.
func (s *Store) DeleteEventPayloads(ctx context.Context, olderThan time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, func(w *writeTx) error {
		tag, err := w.exec(`DELETE FROM event_payloads WHERE id IN
			(SELECT id FROM event_payloads WHERE created_at < $1 ORDER BY created_at LIMIT $2)`, olderThan, limit)
		n = tag.RowsAffected()
		return err
	})
	if err != nil { // n may still be written by a writer the caller gave up on
		return 0, wrap("delete event payloads", err)
	}
	return n, nil
}
