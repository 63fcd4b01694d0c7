package postgres

import (
	"context"
	"embed"
	"fmt"
	"github.com/wims/wims/internal/migration"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// migrationFS holds the schema as numbered SQL files, applied in order. A
// file, once released, is never edited: changes go in a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migrationLockKey is the advisory lock key that serialises migrations of one
// database across processes (advisory locks are per database).
const migrationLockKey int64 = 0x77696d735f6d6967 // "wims_mig"

// migrations lists the embedded migrations by version.
func migrations() ([]migration.Migration, error) { return migration.Load(migrationFS, "migrations") }

// migrate applies every migration not yet recorded in schema_migrations, each
// in its own transaction together with its record, so a crash leaves the
// schema either before or after a migration, never half-way. It holds a
// session advisory lock on its own connection throughout, so processes
// starting together apply each migration once: the others wait, then find it
// recorded.
func migrate(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	// Closing the session also releases the advisory lock, whatever happened.
	defer closeConn(c)
	if _, err := c.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("migrate: lock: %w", err)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INT PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		applied, err := applyMigration(ctx, c, m)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.Name, err)
		}
		if applied {
			log.Info("postgres: applied migration", "name", m.Name)
		}
	}
	if _, err := c.Exec(ctx, `SELECT pg_advisory_unlock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("migrate: unlock: %w", err)
	}
	return nil
}

// applyMigration applies m unless it is already recorded.
func applyMigration(ctx context.Context, c *pgx.Conn, m migration.Migration) (applied bool, err error) {
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`,
			m.Version).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		// No arguments: pgx sends the file with the simple protocol, which
		// allows several statements.
		if _, err := tx.Exec(ctx, m.SQL); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}
