package platform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
)

// archiveRig is the platform on a real bus with a fan-out that the test
// drives by hand.
type archiveRig struct {
	bus *nats.Bus
	svc *platform.Service
	cat *platform.Catalog
	fan *platform.Fanout
}

func newArchiveRig(t *testing.T) *archiveRig {
	t.Helper()
	bus := natstest.Open(t)
	svc := platformtest.OnBus(t, platformtest.Store(t), bus)
	cat := platform.NewCatalog(svc, 0, nil)
	return &archiveRig{bus: bus, svc: svc, cat: cat,
		fan: &platform.Fanout{Catalog: cat, Bus: bus, Deliveries: bus.Subject("deliveries", "targets")}}
}

// put routes an event through the fan-out as the events consumer would.
func (r *archiveRig) put(t *testing.T, id, source string, header map[string]string) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.cat.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if header == nil {
		header = map[string]string{}
	}
	m := &wims.Message{Subject: r.bus.Subject("events", "bus", "default"), ID: id, Header: header,
		Data: fmt.Appendf(nil, `{"id":%q,"source":%q,"detail-type":"t","detail":{"n":%q}}`, id, source, id)}
	mustNil(t, r.fan.Handle(ctx, m))
}

// TestArchiveKeepsMatchingEventsOnce: an archive keeps every event of its
// bus that matches its pattern, once even when the fan-out sees it twice,
// and never a replayed event; describe reports the count and size.
func TestArchiveKeepsMatchingEventsOnce(t *testing.T) {
	ctx := context.Background()
	r := newArchiveRig(t)
	_, err := r.svc.CreateArchive(ctx, wims.Archive{Name: "orders.v1", EventBus: wims.BusARN("default"), EventPattern: `{"source":["shop"]}`, RetentionDays: 7})
	mustNil(t, err)
	_, err = r.svc.CreateArchive(ctx, wims.Archive{Name: "all"})
	mustNil(t, err)
	r.put(t, "e1", "shop", nil)
	r.put(t, "e1", "shop", nil) // a redelivery
	r.put(t, "e2", "other", nil)
	r.put(t, "e3", "shop", map[string]string{wims.HeaderReplayName: "some-replay"})

	a, err := r.svc.DescribeArchive(ctx, "orders.v1")
	mustNil(t, err)
	if a.EventCount != 1 || a.SizeBytes <= 0 || a.State != wims.ArchiveEnabled || a.EventBus != "default" || a.RetentionDays != 7 {
		t.Fatalf("archive orders.v1 = %+v, want 1 event", a)
	}
	all, err := r.svc.ListArchives(ctx, wims.ArchiveFilter{})
	mustNil(t, err)
	if len(all) != 2 || all[0].Name != "all" || all[0].EventCount != 2 {
		t.Fatalf("archives = %+v, want all with 2 events (no replayed one)", all)
	}

	// Deleting the archive deletes its events.
	mustNil(t, r.svc.DeleteArchive(ctx, wims.ArchiveARN("orders.v1")))
	if _, err := r.svc.DescribeArchive(ctx, "orders.v1"); wims.ErrorCode(err) != wims.ENOTFOUND {
		t.Fatalf("describe deleted archive: %v", err)
	}
	mustNil(t, err)
	if _, err := r.svc.CreateArchive(ctx, wims.Archive{Name: "orders.v1", EventPattern: `{"source":["shop"]}`}); err != nil {
		t.Fatal(err)
	}
	if a, _ := r.svc.DescribeArchive(ctx, "orders.v1"); a.EventCount != 0 {
		t.Fatalf("a re-created archive holds %d events of the deleted one", a.EventCount)
	}
}

// TestArchiveRejectsBadInput: each bad request fails with its field and
// code and creates nothing.
func TestArchiveRejectsBadInput(t *testing.T) {
	ctx := context.Background()
	r := newArchiveRig(t)
	_, err := r.svc.CreateArchive(ctx, wims.Archive{Name: "keep"})
	mustNil(t, err)
	_, err = r.svc.CreateEventBus(ctx, wims.EventBus{Name: "shop"})
	mustNil(t, err)
	_, err = r.svc.CreateArchive(ctx, wims.Archive{Name: "shop-all", EventBus: "shop"})
	mustNil(t, err)
	cases := []struct {
		name  string
		a     wims.Archive
		code  string
		field string
	}{
		{"bad name", wims.Archive{Name: "no spaces"}, wims.EINVALID, "ArchiveName"},
		{"long name", wims.Archive{Name: string(make([]byte, 49))}, wims.EINVALID, "ArchiveName"},
		{"unknown bus", wims.Archive{Name: "x", EventBus: "nope"}, wims.ENOTFOUND, ""},
		{"bad pattern", wims.Archive{Name: "x", EventPattern: `{"source":"shop"}`}, wims.EINVALID, "EventPattern"},
		{"negative retention", wims.Archive{Name: "x", RetentionDays: -1}, wims.EINVALID, "RetentionDays"},
		{"exists", wims.Archive{Name: "keep"}, wims.ECONFLICT, ""},
	}
	for _, c := range cases {
		_, err := r.svc.CreateArchive(ctx, c.a)
		if wims.ErrorCode(err) != c.code || wims.ErrorField(err) != c.field {
			t.Errorf("%s: err = %v (code %s field %q), want %s %q", c.name, err, wims.ErrorCode(err), wims.ErrorField(err), c.code, c.field)
		}
	}
	all, err := r.svc.ListArchives(ctx, wims.ArchiveFilter{})
	mustNil(t, err)
	if len(all) != 2 {
		t.Fatalf("archives after bad requests = %+v", all)
	}
	if only, _ := r.svc.ListArchives(ctx, wims.ArchiveFilter{EventBus: wims.BusARN("shop")}); len(only) != 1 || only[0].Name != "shop-all" {
		t.Fatalf("archives of bus shop = %+v", only)
	}
	if err := r.svc.DeleteEventBus(ctx, "shop"); wims.ErrorCode(err) != wims.ECONFLICT {
		t.Fatalf("deleting a bus with an archive: %v, want a conflict", err)
	}
	if _, err := r.svc.UpdateArchive(ctx, wims.Archive{Name: "keep", EventPattern: "{"}); wims.ErrorField(err) != "EventPattern" {
		t.Fatalf("update with a bad pattern: %v", err)
	}
	if a, _ := r.svc.DescribeArchive(ctx, "keep"); a.EventPattern != "" {
		t.Fatalf("a failed update changed the archive: %+v", a)
	}
}

// logRecorder is a log-group target that remembers what reached it.
type logRecorder struct {
	mu     sync.Mutex
	events map[string][]map[string]any // by log group
	after  func(n int)                 // called after each event
}

func (l *logRecorder) handler(group string) wims.Handler {
	return func(ctx context.Context, m *wims.Message) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ev map[string]any
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return err
		}
		l.mu.Lock()
		l.events[group] = append(l.events[group], ev)
		n := len(l.events[group])
		l.mu.Unlock()
		if l.after != nil {
			l.after(n)
		}
		return nil
	}
}

func (l *logRecorder) ids(group string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, ev := range l.events[group] {
		out = append(out, ev["id"].(string))
	}
	return out
}

func (r *archiveRig) replayer(rec *logRecorder, now wims.Clock) *platform.Replayer {
	d := &platform.Deliverer{Catalog: r.cat, Bus: r.bus, LogGroup: rec.handler}
	return &platform.Replayer{Service: r.svc, Catalog: r.cat, Deliver: d.Handle, Queue: r.bus,
		Deliveries: r.bus.Subject("deliveries", "targets"), Poll: 10 * time.Millisecond, Batch: 7, Now: now}
}

// waitReplay polls until the replay reaches state.
func waitReplay(t *testing.T, svc *platform.Service, name, state string) wims.Replay {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rp, err := svc.DescribeReplay(context.Background(), name)
		mustNil(t, err)
		if rp.State == state {
			return rp
		}
		if time.Now().After(deadline) {
			t.Fatalf("replay %s is %s (%+v), want %s", name, rp.State, rp, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestReplayInArchiveOrder: a replay sends the window's archived events, in
// archive order and with replay-name set, to the rules named by
// FilterArns; a rule that excludes replays by pattern gets none, events
// archived before the window are skipped, and the ids are kept.
func TestReplayInArchiveOrder(t *testing.T) {
	ctx := context.Background()
	r := newArchiveRig(t)
	for _, rule := range []struct{ name, pattern string }{
		{"r1", `{"source":["shop"]}`},
		{"r2", `{"source":["shop"]}`},
		{"live-only", `{"source":["shop"],"replay-name":[{"exists":false}]}`},
	} {
		_, err := r.svc.PutRule(ctx, wims.Rule{Name: rule.name, EventPattern: rule.pattern})
		mustNil(t, err)
		_, err = r.svc.PutTargets(ctx, "", rule.name, []wims.Target{{ID: "log", Arn: wims.LogGroupARN("g-" + rule.name)}})
		mustNil(t, err)
	}
	_, err := r.svc.CreateArchive(ctx, wims.Archive{Name: "shop", EventPattern: `{"source":["shop"]}`})
	mustNil(t, err)
	r.put(t, "before", "shop", nil)
	start := time.Now()
	var want []string
	for i := range 30 {
		id := fmt.Sprintf("e%02d", i)
		want = append(want, id)
		r.put(t, id, "shop", nil)
	}
	end := time.Now()
	r.put(t, "after", "shop", nil)

	rule1, err := r.svc.DescribeRule(ctx, "", "r1")
	mustNil(t, err)
	live, err := r.svc.DescribeRule(ctx, "", "live-only")
	mustNil(t, err)
	_, err = r.svc.StartReplay(ctx, wims.Replay{Name: "fix-1", Archive: wims.ArchiveARN("shop"), EventStartTime: start, EventEndTime: end,
		Destination: wims.ReplayDestination{Arn: wims.BusARN("default"), FilterArns: []string{rule1.ARN(), live.ARN()}}})
	mustNil(t, err)
	rec := &logRecorder{events: map[string][]map[string]any{}}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.replayer(rec, nil).Run(rctx) }()
	rp := waitReplay(t, r.svc, "fix-1", wims.ReplayCompleted)
	cancel()
	mustNil(t, <-done)

	if got := rec.ids("g-r1"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("r1 got %v, want %v in archive order", got, want)
	}
	for _, ev := range rec.events["g-r1"] {
		if ev["replay-name"] != "fix-1" {
			t.Fatalf("replayed event without replay-name: %v", ev)
		}
	}
	if n := len(rec.ids("g-r2")) + len(rec.ids("g-live-only")); n != 0 {
		t.Fatalf("rules outside FilterArns or excluding replays got %d events", n)
	}
	if rp.Replayed != 30 || rp.EventLastReplayedTime.IsZero() || rp.ReplayEndTime.IsZero() || rp.ReplayStartTime.IsZero() {
		t.Fatalf("completed replay = %+v", rp)
	}
	// Replayed events are not archived again.
	if a, _ := r.svc.DescribeArchive(ctx, "shop"); a.EventCount != 32 {
		t.Fatalf("archive holds %d events after the replay, want 32", a.EventCount)
	}
	if _, err := r.svc.CancelReplay(ctx, "fix-1"); wims.ErrorCode(err) != wims.ECONFLICT {
		t.Fatalf("cancelling a completed replay: %v", err)
	}
	if _, err := r.svc.StartReplay(ctx, wims.Replay{Name: "fix-1", Archive: "shop", EventStartTime: start, EventEndTime: end,
		Destination: wims.ReplayDestination{Arn: wims.BusARN("default")}}); wims.ErrorCode(err) != wims.ECONFLICT {
		t.Fatalf("a second replay named fix-1: %v", err)
	}
}

// TestReplayResumesAfterInterruption: a replay whose worker stops half way
// (a crash, a leader change) continues from its checkpoint under the next
// worker: every event arrives, in order, and at most the one in flight
// twice.
func TestReplayResumesAfterInterruption(t *testing.T) {
	ctx := context.Background()
	r := newArchiveRig(t)
	_, err := r.svc.PutRule(ctx, wims.Rule{Name: "r1", EventPattern: `{"source":["shop"]}`})
	mustNil(t, err)
	_, err = r.svc.PutTargets(ctx, "", "r1", []wims.Target{{ID: "log", Arn: wims.LogGroupARN("g")}})
	mustNil(t, err)
	_, err = r.svc.CreateArchive(ctx, wims.Archive{Name: "shop"})
	mustNil(t, err)
	start := time.Now()
	var want []string
	for i := range 40 {
		id := fmt.Sprintf("e%02d", i)
		want = append(want, id)
		r.put(t, id, "shop", nil)
	}
	_, err = r.svc.StartReplay(ctx, wims.Replay{Name: "again", Archive: "shop", EventStartTime: start, EventEndTime: time.Now().Add(time.Hour),
		Destination: wims.ReplayDestination{Arn: wims.BusARN("default")}})
	mustNil(t, err)

	// A clock that moves 2 s per reading makes the worker checkpoint after
	// every event.
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(2 * time.Second); return clock }
	rctx, cancel := context.WithCancel(ctx)
	rec := &logRecorder{events: map[string][]map[string]any{}, after: func(n int) {
		if n == 15 {
			cancel()
		}
	}}
	mustNil(t, r.replayer(rec, now).Run(rctx))
	if rp, _ := r.svc.DescribeReplay(ctx, "again"); rp.State != wims.ReplayRunning || rp.Checkpoint == 0 {
		t.Fatalf("interrupted replay = %+v, want RUNNING with a checkpoint", rp)
	}
	rec.after = nil
	rctx, cancel = context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.replayer(rec, now).Run(rctx) }()
	waitReplay(t, r.svc, "again", wims.ReplayCompleted)
	cancel()
	mustNil(t, <-done)

	got := rec.ids("g")
	var firsts []string
	seen := map[string]bool{}
	for _, id := range got {
		if !seen[id] {
			seen[id] = true
			firsts = append(firsts, id)
		}
	}
	if fmt.Sprint(firsts) != fmt.Sprint(want) || len(got) > len(want)+1 {
		t.Fatalf("got %v, want each of %v in order, at most one twice", got, want)
	}
}

// TestCancelReplay: a cancelled replay stops and ends CANCELLED.
func TestCancelReplay(t *testing.T) {
	ctx := context.Background()
	r := newArchiveRig(t)
	_, err := r.svc.PutRule(ctx, wims.Rule{Name: "r1", EventPattern: `{"source":["shop"]}`})
	mustNil(t, err)
	_, err = r.svc.PutTargets(ctx, "", "r1", []wims.Target{{ID: "log", Arn: wims.LogGroupARN("g")}})
	mustNil(t, err)
	_, err = r.svc.CreateArchive(ctx, wims.Archive{Name: "shop"})
	mustNil(t, err)
	start := time.Now()
	for i := range 40 {
		r.put(t, fmt.Sprintf("e%02d", i), "shop", nil)
	}
	_, err = r.svc.StartReplay(ctx, wims.Replay{Name: "stop-me", Archive: "shop", EventStartTime: start, EventEndTime: time.Now().Add(time.Hour),
		Destination: wims.ReplayDestination{Arn: wims.BusARN("default")}})
	mustNil(t, err)
	cancelled := make(chan struct{})
	rec := &logRecorder{events: map[string][]map[string]any{}}
	rec.after = func(n int) {
		if n == 5 {
			if _, err := r.svc.CancelReplay(ctx, "stop-me"); err != nil {
				t.Error(err)
			}
			close(cancelled)
		}
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.replayer(rec, nil).Run(rctx) }()
	<-cancelled
	rp := waitReplay(t, r.svc, "stop-me", wims.ReplayCancelled)
	stop()
	mustNil(t, <-done)
	if n := len(rec.ids("g")); n >= 40 || rp.Replayed >= 40 {
		t.Fatalf("a cancelled replay delivered %d of 40 events", n)
	}
}
