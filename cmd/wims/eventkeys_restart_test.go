package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// TestEventKeyRotationAcrossRestart rotates the event key of a real `wims
// serve` on one data dir: [k1] → [k1 k2] → [k2]. Orders placed under k1
// carry k1, those placed after the first restart k2; a rule on the
// customer made before the restart matches both (live, and replayed from
// an archive); the event log keeps both. With [k2] only the k1 events stay
// in the event log, encrypted, but no pattern on the customer matches them
// any more (README "Key rotation"). A ring without the key that encrypted
// last, or with another secret under a known id, is a clear startup error.
func TestEventKeyRotationAcrossRestart(t *testing.T) {
	bin := buildWims(t)
	_, payURL := fastPayments(t, paymentsmock.Options{})
	p := newWimsProc(t, bin, payURL)
	base := slices.Clone(p.args)
	k1 := "k1:" + strings.Repeat("a1", 32)
	k2 := "k2:" + strings.Repeat("b2", 32)
	withKeys := func(keys ...string) {
		p.args = slices.Clone(base)
		for _, k := range keys {
			p.args = append(p.args, "--event-key", k)
		}
	}
	ctx := context.Background()
	c := newCrashClient(p.url)
	eb := eventbridge.New(eventbridge.Options{Region: "local", BaseEndpoint: aws.String(p.url), Credentials: aws.AnonymousCredentials{}, RetryMaxAttempts: 1})
	rcv := newReceiver(t, nil)
	const custPattern = `{"source":["wims.cdc"],"detail":{"data":{"table":["orders"],"eventType":["INSERT"],"NewImage":{"customerId":["c-42"]}}}}`

	placeOrder := func(customer string) string {
		t.Helper()
		resp, body, err := c.do(ctx, "POST", "/orders", []byte(`{"customerId":"`+customer+`","quantity":1}`))
		if err != nil || resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /orders: %v %v %s", resp, err, body)
		}
		var o struct{ OrderID string }
		mustNil(t, json.Unmarshal(body, &o))
		return o.OrderID
	}
	// delivered returns the ids of the orders whose INSERT reached the
	// rule's target, with the key id of their customerId, live or replayed.
	delivered := func(replayed bool) map[string]string {
		out := map[string]string{}
		for _, r := range rcv.got() {
			if strings.Contains(r.Body, `"replay-name"`) != replayed {
				continue
			}
			var ev struct {
				Detail struct {
					Data struct {
						NewImage struct{ OrderID, CustomerID string }
					}
				}
			}
			if err := json.Unmarshal([]byte(r.Body), &ev); err != nil {
				t.Fatalf("delivered %s: %v", r.Body, err)
			}
			img := ev.Detail.Data.NewImage
			key, _, _ := strings.Cut(strings.TrimPrefix(img.CustomerID, "wims:enc:"), ":")
			if !strings.HasPrefix(img.CustomerID, "wims:enc:") {
				t.Fatalf("delivered a plain customerId: %s", r.Body)
			}
			out[img.OrderID] = key
		}
		return out
	}
	waitDelivered := func(replayed bool, want map[string]string) {
		t.Helper()
		eventually(t, 30*time.Second, func() error {
			got := delivered(replayed)
			for id, key := range want {
				if got[id] != key {
					return fmt.Errorf("replayed=%v: deliveries %v, want %v", replayed, got, want)
				}
			}
			return nil
		})
	}
	// logged returns the orders an event-log query on the customer finds,
	// and the whole log's text.
	logged := func() (map[string]bool, string) {
		t.Helper()
		resp, body, err := c.do(ctx, "GET", "/events?limit=1000&pattern="+url.QueryEscape(custPattern), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /events?pattern: %v %v %s", resp, err, body)
		}
		found := map[string]bool{}
		var page struct {
			Events []struct {
				Detail struct {
					Data struct{ NewImage struct{ OrderID string } }
				}
			}
		}
		mustNil(t, json.Unmarshal(body, &page))
		for _, e := range page.Events {
			found[e.Detail.Data.NewImage.OrderID] = true
		}
		resp, all, err := c.do(ctx, "GET", "/events?limit=1000", nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /events: %v %v", resp, err)
		}
		return found, string(all)
	}
	replay := func(name string) {
		t.Helper()
		_, err := eb.StartReplay(ctx, &eventbridge.StartReplayInput{
			ReplayName: aws.String(name), EventSourceArn: aws.String(wims.ArchiveARN("orders")),
			EventStartTime: aws.Time(time.Now().Add(-time.Hour)), EventEndTime: aws.Time(time.Now().Add(time.Minute)),
			Destination: &types.ReplayDestination{Arn: aws.String(wims.BusARN(wims.DefaultBus)), FilterArns: []string{wims.RuleARN(wims.DefaultBus, "vip")}},
		})
		mustNil(t, err)
		eventually(t, 30*time.Second, func() error {
			d, err := eb.DescribeReplay(ctx, &eventbridge.DescribeReplayInput{ReplayName: aws.String(name)})
			if err != nil || d.State != types.ReplayStateCompleted {
				return fmt.Errorf("replay %s: %+v, %v", name, d, err)
			}
			return nil
		})
	}

	// Run 1: [k1]. The rule and the archive are made now, before any
	// rotation.
	withKeys(k1)
	p.start()
	_, err := eb.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("open"), AuthorizationType: types.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &types.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &types.CreateConnectionApiKeyAuthRequestParameters{ApiKeyName: aws.String("X-Key"), ApiKeyValue: aws.String("v")}}})
	mustNil(t, err)
	_, err = eb.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("crm"), ConnectionArn: aws.String(wims.ConnectionARN("open")),
		InvocationEndpoint: aws.String(rcv.srv.URL), HttpMethod: types.ApiDestinationHttpMethodPost})
	mustNil(t, err)
	_, err = eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("vip"), EventPattern: aws.String(custPattern)})
	mustNil(t, err)
	_, err = eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("vip"), Targets: []types.Target{{Id: aws.String("crm"), Arn: aws.String(wims.APIDestinationARN("crm"))}}})
	mustNil(t, err)
	_, err = eb.CreateArchive(ctx, &eventbridge.CreateArchiveInput{ArchiveName: aws.String("orders"), EventSourceArn: aws.String(wims.BusARN(wims.DefaultBus)),
		EventPattern: aws.String(`{"source":["wims.cdc"],"detail":{"data":{"table":["orders"]}}}`)})
	mustNil(t, err)
	old := placeOrder("c-42")
	placeOrder("c-7")
	waitDelivered(false, map[string]string{old: "k1"})
	p.kill()

	// Run 2: [k1 k2]. New events carry k2; the rule matches both keys.
	withKeys(k1, k2)
	p.start()
	fresh := placeOrder("c-42")
	waitDelivered(false, map[string]string{old: "k1", fresh: "k2"})
	if got := delivered(false); len(got) != 2 {
		t.Fatalf("deliveries %v: c-7's order matched the rule on c-42", got)
	}
	eventually(t, 30*time.Second, func() error {
		if found, _ := logged(); !found[old] || !found[fresh] || len(found) != 2 {
			return fmt.Errorf("the event log query on c-42 finds %v, want %s and %s", found, old, fresh)
		}
		return nil
	})
	replay("both-keys")
	waitDelivered(true, map[string]string{old: "k1", fresh: "k2"})
	p.kill()

	// Run 3: [k2]. k1 is dropped: its events stay, encrypted, in the event
	// log, but no pattern on the customer matches them any more.
	withKeys(k2)
	p.start()
	found, all := logged()
	if !found[fresh] || found[old] || !strings.Contains(all, old) || !strings.Contains(all, "wims:enc:k1:") || strings.Contains(all, `"c-42"`) {
		t.Fatalf("with [k2] the query on c-42 finds %v (want only %s); the log holds the k1 events: %v", found, fresh, strings.Contains(all, "wims:enc:k1:"))
	}
	before := len(rcv.got())
	replay("k2-only")
	eventually(t, 30*time.Second, func() error {
		if n := len(rcv.got()); n < before+1 {
			return fmt.Errorf("%d deliveries of the second replay", n-before)
		}
		return nil
	})
	var keys []string
	for _, r := range rcv.got()[before:] {
		if strings.Contains(r.Body, `"replay-name":"k2-only"`) {
			keys = append(keys, r.Body[strings.Index(r.Body, "wims:enc:"):][:12])
		}
	}
	if !slices.Equal(keys, []string{"wims:enc:k2:"}) {
		t.Fatalf("the replay with [k2] delivered events of keys %v, want only k2's", keys)
	}
	p.kill()

	// A ring that does not fit the store is refused at start, with a
	// message that says why and names no secret.
	for _, tc := range []struct {
		keys []string
		want string
	}{
		{[]string{k1}, "encrypted with event key k2, which the key ring [k1] lacks"},
		{[]string{"k2:" + strings.Repeat("c3", 32)}, "event key k2 is not the key k2 this store's events were encrypted with"},
		{nil, "encrypted with event key k2, which the key ring [default] lacks"}, // the data dir's own key file
	} {
		withKeys(tc.keys...)
		runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		cmd := exec.CommandContext(runCtx, p.bin, p.args...)
		cmd.Env = childEnv()
		out, err := cmd.CombinedOutput()
		timedOut := runCtx.Err() != nil
		cancel()
		if err == nil || timedOut || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), strings.Repeat("c3", 32)) {
			t.Fatalf("start with %d keys: %v\n%s\nwant a failure saying %q", len(tc.keys), err, out, tc.want)
		}
	}
}
