package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
	"github.com/wims/wims/rules"
	"github.com/wims/wims/sqlite"
)

// newService is the platform over a SQLite store in a temp dir and an
// embedded JetStream bus, as wims serve wires it.
func newService(t *testing.T) (*platform.Service, *sqlite.Store) {
	t.Helper()
	st := platformtest.Store(t)
	return platformtest.New(t, st), st
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestReconcile: the built-ins and --config rules become managed rules; a
// second start with the same config writes nothing; a config rule that is
// gone is deleted; a webhook target becomes an API destination; a rule a
// user created is never touched.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	svc, st := newService(t)
	cfg := rules.Config{Rules: []rules.Rule{
		{Name: "everything", Disabled: true, Pattern: json.RawMessage(`{"source":[{"prefix":""}]}`), Targets: []rules.Target{{Type: rules.TargetEventLog}}},
		{Name: "hook", Pattern: json.RawMessage(`{"source":["wims.cdc"]}`), Targets: []rules.Target{{Type: rules.TargetWebhook, URL: "http://127.0.0.1:9/h"}}},
	}}
	mustNil(t, svc.Reconcile(ctx, rules.Merge(rules.Defaults(), cfg)))
	_, err := svc.PutRule(ctx, wims.Rule{Name: "mine", EventPattern: `{"source":["me"]}`})
	mustNil(t, err)

	rs, err := svc.ListRules(ctx, "", "")
	mustNil(t, err)
	byName := map[string]wims.Rule{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	if len(rs) != 7 || byName["everything"].State != wims.RuleDisabled || byName["order-placed"].ManagedBy != wims.ManagedByWims || byName["mine"].ManagedBy != "" {
		t.Fatalf("rules = %+v", rs)
	}
	dest := platform.WebhookDestination("http://127.0.0.1:9/h")
	d, err := svc.DescribeAPIDestination(ctx, dest)
	mustNil(t, err)
	if d.InvocationEndpoint != "http://127.0.0.1:9/h" {
		t.Fatalf("webhook destination = %+v", d)
	}
	targets, err := svc.ListTargetsByRule(ctx, "", "hook")
	mustNil(t, err)
	if len(targets) != 1 || targets[0].Arn != wims.APIDestinationARN(dest) {
		t.Fatalf("hook targets = %+v", targets)
	}

	gen, err := st.ResourceGeneration(ctx)
	mustNil(t, err)
	mustNil(t, svc.Reconcile(ctx, rules.Merge(rules.Defaults(), cfg)))
	if again, _ := st.ResourceGeneration(ctx); again != gen {
		t.Fatalf("a restart with the same config wrote %d times", again-gen)
	}

	mustNil(t, svc.Reconcile(ctx, rules.Defaults()))
	if _, err := svc.DescribeRule(ctx, "", "hook"); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("rule gone from the config still there: %v", err)
	}
	if r, err := svc.DescribeRule(ctx, "", "everything"); err != nil || r.State != wims.RuleEnabled {
		t.Fatalf("everything = %+v, %v: back to the built-in", r, err)
	}
	if _, err := svc.DescribeRule(ctx, "", "mine"); err != nil {
		t.Fatalf("user rule touched: %v", err)
	}
}

// TestConnectionSecretsNeverLeave: a connection's secret is sealed in the
// store, absent from its change image and from every answer.
func TestConnectionSecretsNeverLeave(t *testing.T) {
	ctx := context.Background()
	svc, st := newService(t)
	c, err := svc.CreateConnection(ctx, wims.Connection{Name: "c", AuthorizationType: wims.AuthAPIKey, APIKeyName: "X-K", Secret: "super-secret-value"})
	mustNil(t, err)
	if c.Secret != "" {
		t.Fatal("CreateConnection returned the secret")
	}
	r, err := st.GetResource(ctx, wims.KindConnection, "c")
	mustNil(t, err)
	if len(r.Secret) == 0 || contains(r.Secret, "super-secret-value") || contains(r.Doc, "super-secret-value") {
		t.Fatalf("stored resource: doc %s, secret sealed=%v", r.Doc, !contains(r.Secret, "super-secret-value"))
	}
	changes, err := st.ReadChanges(ctx, 0, 1000)
	mustNil(t, err)
	for _, ch := range changes {
		if contains(ch.NewImage, "super-secret-value") || contains(ch.OldImage, "super-secret-value") {
			t.Fatalf("change %d carries the secret", ch.Seq)
		}
	}
	// Update without a secret keeps the sealed one; the catalog opens it.
	_, err = svc.UpdateConnection(ctx, wims.Connection{Name: "c", AuthorizationType: wims.AuthAPIKey, APIKeyName: "X-K2"})
	mustNil(t, err)
	_, err = svc.CreateAPIDestination(ctx, wims.APIDestination{Name: "d", ConnectionName: "c", InvocationEndpoint: "http://127.0.0.1:9/", HTTPMethod: "POST"})
	mustNil(t, err)
	cat := platform.NewCatalog(svc, 0, nil)
	snap, err := cat.Load(ctx)
	mustNil(t, err)
	_, conn, ok := snap.Destination("d")
	if !ok || conn.Secret != "super-secret-value" || conn.APIKeyName != "X-K2" {
		t.Fatalf("catalog connection = %+v, %v", conn, ok)
	}
	// A wrong key cannot open it.
	other, _ := platform.NewSealer("another-secrets-key-0123456789ab")
	if _, err := other.Open(r.Secret, "connections/c"); err == nil {
		t.Fatal("a different key opened the secret")
	}
}

func contains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }

// TestPutEventsValidation: per-entry errors with EventBridge's codes, the
// 256 KB rule counted as EventBridge does, and nothing stored for a
// refused request.
func TestPutEventsValidation(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	res, err := svc.PutEvents(ctx, []wims.PutEventsEntry{
		{Source: "a", DetailType: "t", Detail: `{"ok":true}`},
		{DetailType: "t", Detail: `{}`},
		{Source: "a", Detail: `{}`},
		{Source: "a", DetailType: "t", Detail: `[]`},
		{Source: "aws.ec2", DetailType: "t", Detail: `{}`},
		{Source: "a", DetailType: "t", Detail: `{}`, EventBusName: "nope"},
	})
	mustNil(t, err)
	want := []string{"", "InvalidArgument", "InvalidArgument", "MalformedDetail", "NotAuthorizedForSourceException", "ResourceNotFoundException"}
	for i, w := range want {
		if res[i].ErrorCode != w || (w == "") != (res[i].EventID != "") {
			t.Errorf("entry %d = %+v, want error %q", i, res[i], w)
		}
	}
	big := make([]byte, wims.MaxPutEventsBytes)
	for i := range big {
		big[i] = 'x'
	}
	e := wims.PutEventsEntry{Source: "s", DetailType: "d", Detail: `{"x":"` + string(big[:wims.MaxPutEventsBytes-len(`{"x":""}`)-2]) + `"}`}
	if n := platform.EntrySize(e); n != wims.MaxPutEventsBytes {
		t.Fatalf("EntrySize = %d, want exactly the limit", n)
	}
	if _, err := svc.PutEvents(ctx, []wims.PutEventsEntry{e}); err != nil {
		t.Fatalf("an entry of exactly 256 KB: %v", err)
	}
	e.Source = "s2"
	if _, err := svc.PutEvents(ctx, []wims.PutEventsEntry{e}); wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("one byte over: %v, want EINVALID", err)
	}
	if _, err := svc.PutEvents(ctx, make([]wims.PutEventsEntry, 11)); wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("11 entries: %v", err)
	}
}
