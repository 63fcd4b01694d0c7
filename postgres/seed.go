package postgres

import (
	"context"
	"fmt"

	"github.com/wims/wims"
)

// seedKey is the store_meta row recording that seeding was considered.
const seedKey = "seeded"

// seed stores wims.SeedItem() if the inventory is empty and this database
// has never been seeded. The decision is recorded either way, so deleting the
// item later, or opening a database that already had items, never seeds.
//
// The marker is inserted first, with ON CONFLICT DO NOTHING: of two instances
// seeding at once, the second's insert waits for the first's transaction and
// then inserts nothing, so it leaves the seeding to the first (or takes it
// over if the first rolled back).
func (s *Store) seed(ctx context.Context) error {
	err := s.write(ctx, func(w *writeTx) error {
		tag, err := w.exec(`INSERT INTO store_meta (key, value) VALUES ($1, 'seeding') ON CONFLICT DO NOTHING`, seedKey)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		var n int64
		if err := w.tx.QueryRow(w.ctx, `SELECT count(*) FROM inventory`).Scan(&n); err != nil {
			return err
		}
		value := "skipped: inventory not empty"
		if n == 0 {
			if _, err := w.domain().PutItem(wims.SeedItem()); err != nil {
				return err
			}
			value = "seeded " + wims.DefaultSKU
		}
		_, err = w.exec(`UPDATE store_meta SET value = $2 WHERE key = $1`, seedKey, value)
		return err
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	return nil
}
