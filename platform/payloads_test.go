package platform_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
)

var retention = platform.PayloadRetention{Events: 7 * day, Delivery: day, DeadLetters: 30 * day}

const day = 24 * time.Hour

// TestPayloadHorizon: a payload outlives the event log, the longest
// archive, a delivery's retries and a dead letter's stay; an archive kept
// forever keeps every payload.
func TestPayloadHorizon(t *testing.T) {
	for _, tc := range []struct {
		name     string
		archives []wims.Archive
		want     time.Duration
		forever  bool
	}{
		{"no archive", nil, 38 * day, false},
		{"shorter archive", []wims.Archive{{Name: "a", RetentionDays: 3}}, 38 * day, false},
		{"longest archive wins", []wims.Archive{{Name: "a", RetentionDays: 30}, {Name: "b", RetentionDays: 90}}, 121 * day, false},
		{"one forever", []wims.Archive{{Name: "a", RetentionDays: 30}, {Name: "b", RetentionDays: 0}}, 0, true},
	} {
		got, forever := retention.Horizon(tc.archives)
		if got != tc.want || forever != tc.forever {
			t.Errorf("%s: Horizon = %v, %v; want %v, %v", tc.name, got, forever, tc.want, tc.forever)
		}
	}
}

// TestPayloadJanitor: a sweep at an injected time deletes the payloads
// past the horizon and keeps the younger ones, more than one delete batch
// of them; with an archive kept forever it deletes nothing.
func TestPayloadJanitor(t *testing.T) {
	ctx := context.Background()
	st := platformtest.Store(t)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var archives []wims.Archive
	j := &platform.PayloadJanitor{
		Payloads: st, Retention: retention, Now: func() time.Time { return now },
		Archives: func(context.Context) ([]wims.Archive, error) { return archives, nil },
	}
	put := func(id string, age time.Duration) {
		t.Helper()
		d := []byte(`{"n":1}`)
		mustNil(t, st.PutEventPayload(ctx, wims.EventPayload{ID: id, Bus: "b", Detail: d, SHA256: wims.NewClaimCheck(id, d).SHA256, CreatedAt: now.Add(-age)}))
	}
	const expired = 1200 // more than one batch
	for i := range expired {
		put(fmt.Sprintf("old-%d", i), 39*day+time.Duration(i)*time.Second)
	}
	put("young", 37*day)

	archives = []wims.Archive{{Name: "keep", RetentionDays: 0}}
	if n, err := j.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep with an archive kept forever: %d, %v; want 0", n, err)
	}
	archives = []wims.Archive{{Name: "short", RetentionDays: 3}} // horizon 7+1+30 days
	if n, err := j.Sweep(ctx); err != nil || n != expired {
		t.Fatalf("sweep: %d, %v; want %d", n, err, expired)
	}
	if _, err := st.GetEventPayload(ctx, "young"); err != nil {
		t.Fatalf("the payload inside the horizon: %v", err)
	}
	// A longer archive moves the horizon out: the young one is kept later too.
	archives = []wims.Archive{{Name: "quarter", RetentionDays: 90}}
	now = now.Add(10 * day)
	if n, err := j.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("sweep with a 90-day archive: %d, %v; want 0", n, err)
	}
	archives = nil
	if n, err := j.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep 10 days later without archives: %d, %v; want 1", n, err)
	}
}
