package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/platform/platformtest"
)

// newPlatformServer serves the real API with the real event platform:
// SQLite in a temp dir and an embedded JetStream bus.
func newPlatformServer(t *testing.T) string {
	t.Helper()
	store := platformtest.Store(t)
	svc := platformtest.New(t, store)
	srv := httptest.NewServer(wimshttp.NewServer(wimshttp.Options{Store: store, Platform: svc}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestClientPlatformRoundTrips(t *testing.T) {
	c := client.New(newPlatformServer(t), "")
	ctx := context.Background()
	notFound := func(err error) bool {
		var ce *client.Error
		return errors.As(err, &ce) && ce.Status == http.StatusNotFound
	}

	b, err := c.CreateEventBus(ctx, "team/shop", "shop events")
	if err != nil || b.Name != "team/shop" || b.Description != "shop events" {
		t.Fatalf("CreateEventBus = %+v, %v", b, err)
	}
	if b, err = c.GetEventBus(ctx, "team/shop"); err != nil || b.Name != "team/shop" {
		t.Fatalf("GetEventBus = %+v, %v", b, err)
	}
	buses, err := c.ListEventBuses(ctx, "")
	if err != nil || len(buses) != 2 {
		t.Fatalf("ListEventBuses = %+v, %v", buses, err)
	}

	pattern := `{"source":["shop"]}`
	r, err := c.PutRule(ctx, wims.Rule{Name: "orders", EventBusName: "team/shop", EventPattern: pattern})
	if err != nil || r.State != wims.RuleEnabled || r.EventBusName != "team/shop" {
		t.Fatalf("PutRule = %+v, %v", r, err)
	}
	if r, err = c.DisableRule(ctx, "team/shop", "orders"); err != nil || r.State != wims.RuleDisabled {
		t.Fatalf("DisableRule = %+v, %v", r, err)
	}
	if r, err = c.EnableRule(ctx, "team/shop", "orders"); err != nil || r.State != wims.RuleEnabled {
		t.Fatalf("EnableRule = %+v, %v", r, err)
	}
	if r, err = c.GetRule(ctx, "team/shop", "orders"); err != nil || r.EventPattern == "" {
		t.Fatalf("GetRule = %+v, %v", r, err)
	}
	rules, err := c.ListRules(ctx, "team/shop", "ord")
	if err != nil || len(rules) != 1 {
		t.Fatalf("ListRules = %+v, %v", rules, err)
	}

	retries := 2
	failed, err := c.PutTargets(ctx, "team/shop", "orders", []wims.Target{
		{ID: "fwd", Arn: wims.BusARN(wims.DefaultBus), InputPath: "$.detail", RetryPolicy: &wims.RetryPolicy{MaximumRetryAttempts: &retries}},
		{ID: "gone", Arn: wims.BusARN("nope")},
	})
	if err != nil || len(failed) != 1 || failed[0].TargetID != "gone" {
		t.Fatalf("PutTargets = %+v, %v", failed, err)
	}
	targets, err := c.ListTargets(ctx, "team/shop", "orders")
	if err != nil || len(targets) != 1 || targets[0].RetryPolicy.Attempts() != 2 || targets[0].InputPath != "$.detail" {
		t.Fatalf("ListTargets = %+v, %v", targets, err)
	}
	if err := c.RemoveTarget(ctx, "team/shop", "orders", "fwd"); err != nil {
		t.Fatalf("RemoveTarget: %v", err)
	}
	if err := c.RemoveTarget(ctx, "team/shop", "orders", "fwd"); !notFound(err) {
		t.Fatalf("RemoveTarget again = %v, want 404", err)
	}

	conn, err := c.CreateConnection(ctx, wims.Connection{Name: "key", AuthorizationType: wims.AuthAPIKey, APIKeyName: "X-Key", Secret: "v"})
	if err != nil || conn.APIKeyName != "X-Key" || conn.Secret != "" {
		t.Fatalf("CreateConnection = %+v, %v", conn, err)
	}
	if conn, err = c.UpdateConnection(ctx, wims.Connection{Name: "key", AuthorizationType: wims.AuthBasic, Username: "u", Secret: "p"}); err != nil || conn.Username != "u" {
		t.Fatalf("UpdateConnection = %+v, %v", conn, err)
	}
	if conn, err = c.GetConnection(ctx, "key"); err != nil || conn.AuthorizationType != wims.AuthBasic {
		t.Fatalf("GetConnection = %+v, %v", conn, err)
	}
	if cs, err := c.ListConnections(ctx, ""); err != nil || len(cs) != 1 {
		t.Fatalf("ListConnections = %+v, %v", cs, err)
	}
	d, err := c.CreateAPIDestination(ctx, wims.APIDestination{Name: "hook", ConnectionName: "key", InvocationEndpoint: "https://example.com", HTTPMethod: "POST"})
	if err != nil || d.InvocationRateLimitPerSecond != wims.DefaultInvocationRate {
		t.Fatalf("CreateAPIDestination = %+v, %v", d, err)
	}
	d.InvocationRateLimitPerSecond = 7
	if d, err = c.UpdateAPIDestination(ctx, d); err != nil || d.InvocationRateLimitPerSecond != 7 {
		t.Fatalf("UpdateAPIDestination = %+v, %v", d, err)
	}
	if d, err = c.GetAPIDestination(ctx, "hook"); err != nil || d.ConnectionName != "key" {
		t.Fatalf("GetAPIDestination = %+v, %v", d, err)
	}
	if ds, err := c.ListAPIDestinations(ctx, "h"); err != nil || len(ds) != 1 {
		t.Fatalf("ListAPIDestinations = %+v, %v", ds, err)
	}

	results, err := c.PutEvents(ctx, []wims.PutEventsEntry{
		{Source: "shop", DetailType: "OrderPlaced", Detail: `{"orderId":"o1"}`, EventBusName: "team/shop"},
		{Source: "shop", DetailType: "OrderPlaced", Detail: `{}`, EventBusName: "nope"},
	})
	if err != nil || len(results) != 2 || results[0].EventID == "" || results[1].ErrorCode != "ResourceNotFoundException" {
		t.Fatalf("PutEvents = %+v, %v", results, err)
	}
	ok, err := c.TestEventPattern(ctx, pattern, `{"source":"shop"}`)
	if err != nil || !ok {
		t.Fatalf("TestEventPattern = %v, %v", ok, err)
	}
	var ce *client.Error
	if _, err := c.TestEventPattern(ctx, `{"source":"shop"}`, `{}`); !errors.As(err, &ce) || ce.Field != "eventPattern" {
		t.Fatalf("TestEventPattern(invalid) = %v, want a 400 on eventPattern", err)
	}

	for _, del := range []func() error{
		func() error { return c.DeleteAPIDestination(ctx, "hook") },
		func() error { return c.DeleteConnection(ctx, "key") },
		func() error { return c.DeleteRule(ctx, "team/shop", "orders", true) },
		func() error { return c.DeleteEventBus(ctx, "team/shop") },
	} {
		if err := del(); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	if _, err := c.GetEventBus(ctx, "team/shop"); !notFound(err) {
		t.Fatalf("GetEventBus after delete = %v, want 404", err)
	}
}
