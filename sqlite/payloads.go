package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/wims/wims"
)

// PutEventPayload stores a claim-checked payload; see
// wims.EventPayloadStore. It goes through the writer like every write, so it
// is fsynced before PutEvents publishes the event that refers to it.
func (s *Store) PutEventPayload(ctx context.Context, p wims.EventPayload) error {
	if err := wims.ValidateEventPayload(p); err != nil {
		return err
	}
	err := s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(`INSERT OR IGNORE INTO event_payloads (id, bus, sha256, detail, created_at) VALUES (?, ?, ?, ?, ?)`,
			p.ID, p.Bus, p.SHA256, p.Detail, toMicros(p.CreatedAt))
		return err
	})
	return wrap("put event payload "+p.ID, err)
}

// GetEventPayload returns ENOTFOUND for an unknown id.
func (s *Store) GetEventPayload(ctx context.Context, id string) (wims.EventPayload, error) {
	p := wims.EventPayload{ID: id}
	var at int64
	err := s.rdb.QueryRowContext(ctx, `SELECT bus, sha256, detail, created_at FROM event_payloads WHERE id = ?`, id).
		Scan(&p.Bus, &p.SHA256, &p.Detail, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return wims.EventPayload{}, wims.Errorf(wims.ENOTFOUND, "Event %s has no claim-checked payload.", id)
	}
	if err != nil {
		return wims.EventPayload{}, wrap("get event payload "+id, err)
	}
	p.CreatedAt = fromMicros(at)
	return p, nil
}

// DeleteEventPayloads deletes the oldest payloads created before olderThan,
// at most limit of them in one write (so a large backlog does not hold the
// writer); see wims.EventPayloadStore.
func (s *Store) DeleteEventPayloads(ctx context.Context, olderThan time.Time, limit int) (int64, error) {
	var n int64
	err := s.write(ctx, func(w *writeTx) error {
		res, err := w.exec(`DELETE FROM event_payloads WHERE id IN
			(SELECT id FROM event_payloads WHERE created_at < ? ORDER BY created_at LIMIT ?)`, toMicros(olderThan), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil { // n may still be written by a writer the caller gave up on
		return 0, wrap("delete event payloads", err)
	}
	return n, nil
}
