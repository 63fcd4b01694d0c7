package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims/postgres/pgtest"
)

// TestListResources_UsesPrimaryKey checks that prefix listing can be an
// index range scan on the primary key, in its order (no sort): COLLATE "C"
// on the column and a range instead of LIKE are what make that possible.
// Sequential scans are disabled because on a small table the planner would
// rightly prefer one.
func TestListResources_UsesPrimaryKey(t *testing.T) {
	url := pgtest.URL(t)
	s, err := Open(t.Context(), Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(t.Context()) })
	if _, err := c.Exec(t.Context(), `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"bus|a%_", ""} {
		q, args := listResourcesQuery("rules", prefix)
		rows, err := c.Query(t.Context(), "EXPLAIN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(plan, "\n")
		if !strings.Contains(got, "Index Scan using resources_pkey") || !strings.Contains(got, "name >=") || strings.Contains(got, "Sort") {
			t.Errorf("ListResources(%q) plan:\n%s\nwant an index scan of resources_pkey on the name range, without a sort", prefix, got)
		}
	}
}
