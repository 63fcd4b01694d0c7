package postgres_test

import (
	"path/filepath"
	"testing"

	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// migrationFiles counts the migration files the package embeds.
func migrationFiles(t *testing.T) int {
	t.Helper()
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("migration files: %v %v", files, err)
	}
	return len(files)
}

func TestMigrate_Idempotent(t *testing.T) {
	url := pgtest.URL(t)
	for range 3 {
		s := mustOpen(t, postgres.Options{URL: url})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	c := rawConn(t, url)
	if got, want := count(t, c, `SELECT count(*) FROM schema_migrations`), migrationFiles(t); got != want {
		t.Fatalf("%d migrations recorded, want %d", got, want)
	}
	if got := count(t, c, `SELECT count(*) FROM change_seq`); got != 1 {
		t.Fatalf("change_seq has %d rows, want 1", got)
	}
}
