package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/postgres/pgtest"
)

// TestReplayOfProcessedOrdersChangesNothing: the default bus's whole
// traffic is archived; replaying it (every rule, the order workflow's
// included) reaches the targets again, in archive order and marked with
// replay-name, but moves no stock and calls the payments API not once more.
// On both stores.
func TestReplayOfProcessedOrdersChangesNothing(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			mock, payURL := fastPayments(t, paymentsmock.Options{})
			a := startTestApp(t, func(c *Config) {
				c.PaymentsURL = payURL
				if store == "postgres" {
					c.Store = pgtest.URL(t)
				}
			})
			replayOrders(t, a, mock)
		})
	}
}

func replayOrders(t *testing.T, a *testApp, mock *paymentsmock.Server) {
	ctx := context.Background()
	p := a.platform
	_, err := p.CreateArchive(ctx, wims.Archive{Name: "everything", Description: "all of default"})
	mustNil(t, err)
	// The wire API carries times in milliseconds; the window the test
	// checks against must be the one the server gets, or a message stored
	// within a millisecond of an edge counts on one side only.
	start := time.Now().Truncate(time.Millisecond)
	a.putItem("RPL", 50, 5)
	var ids []string
	for range 12 {
		ids = append(ids, a.placeOrder("replayer", 2, "RPL").ID)
	}
	for _, id := range ids {
		waitStatus(t, a, id, wims.OrderPaid)
	}
	// The orders' events are archived (the window's end leaves out whatever
	// the pipeline still adds).
	eventually(t, 20*time.Second, func() error {
		arc, err := p.DescribeArchive(ctx, "everything")
		if err != nil {
			return err
		}
		if arc.EventCount < int64(3*len(ids)) {
			return fmt.Errorf("%d events archived", arc.EventCount)
		}
		return nil
	})
	end := time.Now().Truncate(time.Millisecond)
	stock := a.item("RPL").Quantity
	calls := mock.Stats().Accepted

	// A rule that only replayed events match, to see what a replay sends.
	_, err = p.PutRule(ctx, wims.Rule{Name: "replay-audit", EventPattern: `{"replay-name":[{"exists":true}]}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, "", "replay-audit", []wims.Target{{ID: "log", Arn: wims.LogGroupARN("replay-audit")}})
	mustNil(t, err)

	c := sdkClient(a, aws.AnonymousCredentials{})
	_, err = c.StartReplay(ctx, &eventbridge.StartReplayInput{
		ReplayName: aws.String("after-fix"), EventSourceArn: aws.String(wims.ArchiveARN("everything")),
		EventStartTime: aws.Time(start), EventEndTime: aws.Time(end),
		Destination: &types.ReplayDestination{Arn: aws.String(wims.BusARN("default"))},
	})
	mustNil(t, err)
	eventually(t, 60*time.Second, func() error {
		d, err := c.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String("after-fix")})
		if err != nil {
			return err
		}
		if d.State != types.ReplayStateCompleted {
			return fmt.Errorf("replay %s", d.State)
		}
		if d.EventLastReplayedTime == nil || d.ReplayEndTime == nil {
			return fmt.Errorf("completed replay without times: %+v", d)
		}
		return nil
	})

	if got := a.item("RPL").Quantity; got != stock {
		t.Fatalf("stock %d after the replay, %d before", got, stock)
	}
	if got := mock.Stats().Accepted; got != calls {
		t.Fatalf("the replay made %d payment calls", got-calls)
	}
	for _, id := range ids {
		if o := a.order(id); o.Status != wims.OrderPaid || mock.Charges(id) != 1 {
			t.Fatalf("order %s is %s with %d charges after the replay", id, o.Status, mock.Charges(id))
		}
	}

	// The audit log got every archived event of the window, in archive order.
	code, body := a.do("GET", "/events?log-group=replay-audit&limit=1000", nil)
	if code != 200 {
		t.Fatalf("GET /events = %d %s", code, body)
	}
	var logged struct {
		Events []map[string]any `json:"events"`
	}
	mustNil(t, json.Unmarshal(body, &logged))
	stats, err := a.bus.ArchiveStats(ctx, "everything")
	mustNil(t, err)
	msgs, err := a.bus.ReadArchive(ctx, "everything", 1, stats.LastSeq, int(stats.LastSeq))
	mustNil(t, err)
	var want, got []string
	for _, m := range msgs {
		if !m.Stored.Before(start) && m.Stored.Before(end) {
			var ev struct {
				ID string `json:"id"`
			}
			mustNil(t, json.Unmarshal(m.Data, &ev))
			want = append(want, ev.ID)
		}
	}
	for _, ev := range logged.Events {
		if ev["replay-name"] != "after-fix" {
			t.Fatalf("replayed event without replay-name: %v", ev)
		}
		got = append(got, ev["id"].(string))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		rp, _ := p.DescribeReplay(ctx, "after-fix")
		t.Fatalf("replayed in order %v\nwant archive order %v\nreplay %+v", got, want, rp)
	}
}

// TestReplaySurvivesRestart: a replay running when wims stops resumes from
// its checkpoint when wims starts again on the same data, and completes:
// the receiver gets every archived event, first arrivals in archive order.
func TestReplaySurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	onDir := func(c *Config) { c.DataDir = dir }
	a := startTestApp(t, onDir)
	p := a.platform
	rcv := newReceiver(t, nil)
	_, err := p.CreateEventBus(ctx, wims.EventBus{Name: "shop"})
	mustNil(t, err)
	_, err = p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: "slow", ConnectionName: "open",
		InvocationEndpoint: rcv.srv.URL, HTTPMethod: "POST", InvocationRateLimitPerSecond: 40})
	mustNil(t, err)
	_, err = p.CreateArchive(ctx, wims.Archive{Name: "shop", EventBus: "shop"})
	mustNil(t, err)
	start := time.Now()
	var want []string
	for range 8 {
		var batch []wims.PutEventsEntry
		for range 10 {
			batch = append(batch, wims.PutEventsEntry{EventBusName: "shop", Source: "shop", DetailType: "Sale", Detail: `{}`})
		}
		res, err := p.PutEvents(ctx, batch)
		mustNil(t, err)
		for _, r := range res {
			want = append(want, r.EventID)
		}
	}
	eventually(t, 20*time.Second, func() error {
		if arc, _ := p.DescribeArchive(ctx, "shop"); arc.EventCount != int64(len(want)) {
			return fmt.Errorf("%d of %d archived", arc.EventCount, len(want))
		}
		return nil
	})
	// The rule comes after the events, so only the replay delivers them.
	_, err = p.PutRule(ctx, wims.Rule{Name: "sales", EventBusName: "shop", EventPattern: `{"source":["shop"]}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, "shop", "sales", []wims.Target{{ID: "slow", Arn: wims.APIDestinationARN("slow")}})
	mustNil(t, err)
	_, err = p.StartReplay(ctx, wims.Replay{Name: "resume-me", Archive: "shop", EventStartTime: start, EventEndTime: time.Now().Add(time.Minute),
		Destination: wims.ReplayDestination{Arn: wims.BusARN("shop")}})
	mustNil(t, err)
	eventually(t, 20*time.Second, func() error {
		if n := len(rcv.got()); n < 20 {
			return fmt.Errorf("%d delivered", n)
		}
		return nil
	})
	mustNil(t, a.Close())
	if n := len(rcv.got()); n >= len(want) {
		t.Fatalf("the replay finished (%d deliveries) before wims stopped; slow the destination down", n)
	}

	b := startTestApp(t, onDir)
	eventually(t, 30*time.Second, func() error {
		rp, err := b.platform.DescribeReplay(ctx, "resume-me")
		if err != nil {
			return err
		}
		if rp.State != wims.ReplayCompleted {
			return fmt.Errorf("replay %s, %d replayed", rp.State, rp.Replayed)
		}
		return nil
	})
	// Archive order is the fan-out's (which runs concurrently), not
	// necessarily the order of PutEvents' entries.
	stats, err := b.bus.ArchiveStats(ctx, "shop")
	mustNil(t, err)
	archived, err := b.bus.ReadArchive(ctx, "shop", 1, stats.LastSeq, len(want))
	mustNil(t, err)
	want = want[:0]
	for _, m := range archived {
		want = append(want, m.Header[wims.HeaderEventID])
	}
	var firsts []string
	seen := map[string]bool{}
	for _, r := range rcv.got() {
		var ev struct {
			ID     string `json:"id"`
			Replay string `json:"replay-name"`
		}
		mustNil(t, json.Unmarshal([]byte(r.Body), &ev))
		if ev.Replay != "resume-me" {
			t.Fatalf("delivered without replay-name: %s", r.Body)
		}
		if !seen[ev.ID] {
			seen[ev.ID] = true
			firsts = append(firsts, ev.ID)
		}
	}
	if strings.Join(firsts, ",") != strings.Join(want, ",") {
		t.Fatalf("first arrivals %v\nwant archive order %v", firsts, want)
	}
}
