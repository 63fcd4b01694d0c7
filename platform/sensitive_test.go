package platform_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/eventcrypt"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
)

// TestPatternsOnSensitiveFields: with the keyring's rewrite, a rule on a
// plain customerId matches the encrypted event (TestEventPattern answers
// as the rule would), and a prefix on it is refused as an invalid pattern.
func TestPatternsOnSensitiveFields(t *testing.T) {
	ctx := context.Background()
	k, err := eventcrypt.ParseKey("k1:" + strings.Repeat("0f", 32))
	mustNil(t, err)
	ring, err := eventcrypt.New([]eventcrypt.Key{k}, nil)
	mustNil(t, err)
	st := platformtest.Store(t)
	svc := platform.New(platform.Options{Store: st, Bus: &capture{}, Patterns: ring.RewritePattern, Subjects: platform.Subjects{Events: "t.events"}})

	detail, err := ring.SealDetail([]byte(`{"data":{"table":"orders","NewImage":{"orderId":"o-1","customerId":"c-42"}}}`))
	mustNil(t, err)
	event := `{"version":"0","id":"1","source":"wims.cdc","detail-type":"x","account":"000000000000","time":"2025-01-01T00:00:00Z","region":"local","resources":[],"detail":` + string(detail) + `}`
	for p, want := range map[string]bool{
		`{"detail":{"data":{"NewImage":{"customerId":["c-42"]}}}}`: true,
		`{"detail":{"data":{"NewImage":{"customerId":["c-7"]}}}}`:  false,
	} {
		got, err := svc.TestEventPattern(ctx, p, event)
		if err != nil || got != want {
			t.Errorf("TestEventPattern(%s) = %v, %v; want %v", p, got, err, want)
		}
	}
	_, err = svc.PutRule(ctx, wims.Rule{Name: "r", EventPattern: `{"detail":{"data":{"NewImage":{"customerId":[{"prefix":"c-"}]}}}}`})
	if wims.ErrorCode(err) != wims.EINVALID || !strings.Contains(wims.ErrorMessage(err), "sensitive") {
		t.Fatalf("PutRule with a prefix on customerId: %v, want EINVALID naming the sensitive field", err)
	}
}
