package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestListResources_UsesPrimaryKey checks that prefix listing is a range
// search on the primary key, in its order: no scan of the kind's rows, no
// sort.
func TestListResources_UsesPrimaryKey(t *testing.T) {
	s, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "wims.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for prefix, want := range map[string]string{
		"bus|a%_": "(kind=? AND name>? AND name<?)",
		"":        "(kind=? AND name>?)",
	} {
		q, args := listResourcesQuery("rules", prefix)
		rows, err := s.rdb.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "SEARCH resources USING INDEX sqlite_autoindex_resources_1 "+want) || strings.Contains(got, "B-TREE") {
			t.Errorf("ListResources(%q) plan %q, want a search of the primary key %s without a sort", prefix, got, want)
		}
	}
}
