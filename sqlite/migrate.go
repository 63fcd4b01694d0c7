package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/wims/wims"
)

// migrationFS holds the schema as numbered SQL files, applied in order. A
// file, once released, is never edited: changes go in a new file.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations by version. File names start with
// the version number, e.g. 0001_init.sql.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		base := path.Base(name)
		num, _, _ := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number", base)
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, base, v)
		}
		seen[v] = base
		b, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

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
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		if applied {
			log.Info("sqlite: applied migration", "name", m.name)
		}
	}
	return nil
}

// applyMigration applies m unless it is already recorded.
func applyMigration(ctx context.Context, db *sql.DB, m migration) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.version).Scan(&one)
	if err == nil {
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, unixepoch('subsec') * 1000000)`,
		m.version, m.name); err != nil {
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
			if _, err := putItem(w, wims.SeedItem()); err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			value = "seeded " + wims.DefaultSKU
		}
		_, err = w.exec(`INSERT INTO store_meta (key, value) VALUES (?, ?)`, seedKey, value)
		return err
	})
}
