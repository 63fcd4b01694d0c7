package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/sqlite"
	"github.com/wims/wims/storetest"
)

// TestMigrate_OrderLinesBackfill runs 0012_order_lines_index again over a
// database whose order_lines table was dropped, as on a database migrated
// before it existed.
func TestMigrate_OrderLinesBackfill(t *testing.T) {
	storetest.RunLinesBackfill(t, func(t *testing.T) storetest.LinesDB {
		path := filepath.Join(t.TempDir(), "wims.db")
		return storetest.LinesDB{
			Open: func() wims.Store {
				s, err := sqlite.Open(t.Context(), sqlite.Options{Path: path, Durable: true})
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Unindex: func() {
				db := rawDB(t, path)
				defer db.Close()
				for _, q := range []string{`DROP TABLE order_lines`, `DELETE FROM schema_migrations WHERE version = 12`} {
					if _, err := db.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			},
		}
	})
}
