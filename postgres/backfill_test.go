package postgres_test

import (
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
	"github.com/wims/wims/storetest"
)

// TestMigrate_OrderLinesBackfill runs 0011_order_lines_index again over a
// database whose order_lines table was dropped, as on a database migrated
// before it existed.
func TestMigrate_OrderLinesBackfill(t *testing.T) {
	storetest.RunLinesBackfill(t, func(t *testing.T) storetest.LinesDB {
		url := pgtest.URL(t)
		return storetest.LinesDB{
			Open: func() wims.Store {
				s, err := postgres.Open(t.Context(), postgres.Options{URL: url})
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Unindex: func() {
				c := rawConn(t, url)
				defer c.Close(t.Context())
				for _, q := range []string{`DROP TABLE order_lines`, `DELETE FROM schema_migrations WHERE version = 11`} {
					if _, err := c.Exec(t.Context(), q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			},
		}
	})
}
