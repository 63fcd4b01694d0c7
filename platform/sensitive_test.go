package platform_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/eventcrypt"
	"github.com/wims/wims/pattern"
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

// TestPutEventsSeals: PutEvents encrypts a user event's customerId (and a
// --sensitive-field path) before it is published, after the bus's schema
// validation has seen it as put; an event put again keeps its encrypted
// value as it is; a claim-checked detail is stored sealed; TestEventPattern
// answers for a plain event as a rule does for it once put.
func TestPutEventsSeals(t *testing.T) {
	ctx := context.Background()
	k, err := eventcrypt.ParseKey("k1:" + strings.Repeat("0f", 32))
	mustNil(t, err)
	ring, err := eventcrypt.New([]eventcrypt.Key{k}, []string{"detail.contact.email"})
	mustNil(t, err)
	st := platformtest.Store(t)
	bus := &capture{}
	svc := platform.New(platform.Options{Store: st, Bus: bus, Payloads: st, Patterns: ring.RewritePattern, Seal: ring.SealDetail, Subjects: platform.Subjects{Events: "t.events"}})

	// Validation sees the detail as put: customerId is an integer there,
	// an encrypted string on the bus.
	_, err = svc.CreateRegistry(ctx, wims.Registry{Name: "shop"})
	mustNil(t, err)
	_, err = svc.CreateSchema(ctx, wims.Schema{Registry: "shop", Name: "shop@Order", Type: wims.SchemaTypeJSONSchemaDraft4,
		Content: `{"type":"object","required":["detail"],"properties":{"detail":{"type":"object","required":["customerId"],"properties":{"customerId":{"type":"integer"}}}}}`})
	mustNil(t, err)
	_, err = svc.UpdateEventBus(ctx, wims.EventBus{Name: wims.DefaultBus, SchemaValidation: &wims.SchemaValidation{Registry: "shop", Mode: wims.ValidateKnown}})
	mustNil(t, err)

	res, err := svc.PutEvents(ctx, []wims.PutEventsEntry{
		{Source: "shop", DetailType: "Order", Detail: `{"customerId":42,"total":250}`},
		{Source: "shop", DetailType: "Contact", Detail: `{"contact":{"email":"a@example.com"},"n":1}`},
		{Source: "shop", DetailType: "Plain", Detail: `{"n":1}`},
	})
	mustNil(t, err)
	if len(bus.out) != 3 {
		t.Fatalf("results %+v, %d published", res, len(bus.out))
	}
	for i, leak := range []string{`"customerId":42`, `a@example.com`} {
		data := string(bus.out[i].Data)
		if strings.Contains(data, leak) || !strings.Contains(data, `"wims:enc:k1:`) {
			t.Fatalf("published event %d holds %s, or nothing encrypted: %s", i, leak, data)
		}
	}
	if !strings.Contains(string(bus.out[2].Data), `"detail":{"n":1}`) {
		t.Fatalf("an event without sensitive fields was changed: %s", bus.out[2].Data)
	}

	var ev wims.Event
	mustNil(t, json.Unmarshal(bus.out[0].Data, &ev))
	for p, want := range map[string]bool{
		`{"detail":{"customerId":[42]}}`: true,
		`{"detail":{"customerId":[7]}}`:  false,
	} {
		rw, err := ring.RewritePattern([]byte(p))
		mustNil(t, err)
		compiled, err := pattern.Compile(rw)
		mustNil(t, err)
		if got, err := compiled.Match(bus.out[0].Data); err != nil || got != want {
			t.Errorf("rule %s on the published event: %v, %v; want %v", p, got, err, want)
		}
		plain := `{"source":"shop","detail-type":"Order","detail":{"customerId":42}}`
		for name, event := range map[string]string{"plain": plain, "as logged": string(bus.out[0].Data)} {
			if got, err := svc.TestEventPattern(ctx, p, event); err != nil || got != want {
				t.Errorf("TestEventPattern(%s, %s event) = %v, %v; want %v", p, name, got, err, want)
			}
		}
	}

	// Put again (a target that puts back what it got), on a bus without
	// validation: kept byte for byte, not encrypted twice.
	_, err = svc.CreateEventBus(ctx, wims.EventBus{Name: "other"})
	mustNil(t, err)
	res, err = svc.PutEvents(ctx, []wims.PutEventsEntry{{EventBusName: "other", Source: "shop", DetailType: "Order", Detail: string(ev.Detail)}})
	mustNil(t, err)
	if res[0].ErrorCode != "" || len(bus.out) != 4 {
		t.Fatalf("re-put: %+v", res)
	}
	var again wims.Event
	mustNil(t, json.Unmarshal(bus.out[3].Data, &again))
	if string(again.Detail) != string(ev.Detail) {
		t.Fatalf("re-put detail = %s, want %s as it was", again.Detail, ev.Detail)
	}

	// A claim-checked detail: its stored payload is sealed too.
	big := `{"customerId":"c-42","blob":"` + strings.Repeat("x", 300_000) + `"}`
	res, err = svc.PutEvents(ctx, []wims.PutEventsEntry{{EventBusName: "other", Source: "shop", DetailType: "Big", Detail: big}})
	mustNil(t, err)
	if res[0].ErrorCode != "" || len(bus.out) != 5 || bus.out[4].Header[wims.HeaderClaimCheck] != res[0].EventID {
		t.Fatalf("big entry: %+v", res)
	}
	payload, err := st.GetEventPayload(ctx, res[0].EventID)
	mustNil(t, err)
	if strings.Contains(string(payload.Detail), "c-42") || !strings.HasPrefix(string(payload.Detail), `{"customerId":"wims:enc:k1:`) ||
		payload.SHA256 != wims.NewClaimCheck(res[0].EventID, payload.Detail).SHA256 {
		t.Fatalf("stored payload starts %.80s (sha %s)", payload.Detail, payload.SHA256)
	}
}
