package platform_test

import (
	"context"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// TestCatalogSeesOtherInstancesWrites: two instances on one PostgreSQL
// database, each with its own store pool, service and catalog. A rule put
// through instance A reaches instance B's catalog by B's own polling (B is
// never told), and so does its removal.
func TestCatalogSeesOtherInstancesWrites(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	open := func() *postgres.Store {
		st, err := postgres.Open(ctx, postgres.Options{URL: url})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a := platformtest.New(t, open())
	b := platformtest.New(t, open())
	catB := platform.NewCatalog(b, 100*time.Millisecond, nil)
	if _, err := catB.Load(ctx); err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go catB.Run(runCtx)

	_, err := a.PutRule(ctx, wims.Rule{Name: "r", EventPattern: `{"source":["x"]}`})
	mustNil(t, err)
	_, err = a.PutTargets(ctx, "", "r", []wims.Target{{ID: "log", Arn: wims.LogGroupARN("audit")}})
	mustNil(t, err)
	key := wims.TargetKey(wims.DefaultBus, "r", "log")
	waitCatalog(t, catB, func(s *platform.Snapshot) bool { return s.Target(key) != nil })
	mustNil(t, a.SetRuleState(ctx, "", "r", wims.RuleDisabled))
	waitCatalog(t, catB, func(s *platform.Snapshot) bool { return s.Target(key) == nil })
}

func waitCatalog(t *testing.T, c *platform.Catalog, ok func(*platform.Snapshot) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(c.Snapshot()) {
		if time.Now().After(deadline) {
			t.Fatalf("catalog at generation %d never showed the change", c.Snapshot().Generation)
		}
		time.Sleep(10 * time.Millisecond) // polling the snapshot, not waiting for work
	}
}
