package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/wims/wims/internal/migration"
	"log/slog"

	"github.com/wims/wims"
)

// migrationFS holds the schema as numbered SQL files, applied in order. A
// file, once released, is never edited: changes go in a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrations lists the embedded migrations by version.
func migrations() ([]migration.Migration, error) { return migration.Load(migrationFS, "migrations") }

// migrate applies every migration not yet recorded in schema_migrations, each
// in its own transaction together with its record, so a crash leaves the
// schema either before or after a migration, never half-way. It is safe to
// run on every open, and by several processes at once: BEGIN IMMEDIATE
// serialises them and each re-checks inside its transaction.
func migrate(ctx context.Context, db *sql.DB, log *slog.Logger) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		applied, err := applyMigration(ctx, db, m)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if applied {
			log.Info("sqlite: applied migration", "name", m.Name)
		}
	}
	return nil
}

// applyMigration applies m unless it is already recorded.
func applyMigration(ctx context.Context, db *sql.DB, m migration.Migration) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.Version).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, unixepoch('subsec') * 1000000)`,
		m.Version, m.Name); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// seedKey is the store_meta row recording that seeding was considered.
const seedKey = "seeded"

// seed stores wims.SeedItem() if the inventory is empty and this database
// has never been seeded. The decision is recorded either way, so deleting the
// item later, or opening a database that already had items, never seeds.
func (s *Store) seed(ctx context.Context) error {
	return s.write(ctx, func(w *writeTx) error {
		var one int
		err := w.QueryRowContext(w.ctx(), `SELECT 1 FROM store_meta WHERE key = ?`, seedKey).Scan(&one)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("seed: %w", err)
		}
		var n int64
		if err := w.QueryRowContext(w.ctx(), `SELECT count(*) FROM inventory`).Scan(&n); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		value := "skipped: inventory not empty"
		if n == 0 {
			if _, err := w.domain().PutItem(wims.SeedItem()); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			value = "seeded " + wims.DefaultSKU
		}
		_, err = w.exec(`INSERT INTO store_meta (key, value) VALUES (?, ?)`, seedKey, value)
		return err
	})
}
