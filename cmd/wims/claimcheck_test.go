package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/wims/wims"
	"github.com/wims/wims/postgres/pgtest"
)

// TestClaimCheckEndToEnd: a 300 KB entry put through POST /events is
// stored, goes on the bus as a claim-check reference (a rule matches the
// reference's size), reaches a real HTTP target with Wims-Claim-Check, and
// the target fetches the payload from wims, byte for byte as its sha256
// says. The event log shows the reference. On both stores.
func TestClaimCheckEndToEnd(t *testing.T) {
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			a := startTestApp(t, func(c *Config) {
				if store == "postgres" {
					c.Store = pgtest.URL(t)
				}
			})
			testClaimCheck(t, a)
		})
	}
}

func testClaimCheck(t *testing.T, a *testApp) {
	ctx := t.Context()
	// The target: on a claim-checked event it fetches the payload, as a
	// real consumer would, and keeps what it got.
	var (
		mu      sync.Mutex
		events  []wims.Event
		fetched []string
		header  []string
	)
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev wims.Event
		_ = json.NewDecoder(r.Body).Decode(&ev)
		var body []byte
		if href := r.Header.Get(wims.HeaderClaimCheck); href != "" {
			resp, err := http.Get(a.url + href)
			if err != nil || resp.StatusCode != http.StatusOK {
				w.WriteHeader(http.StatusBadGateway) // retried
				return
			}
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		mu.Lock()
		events, fetched, header = append(events, ev), append(fetched, string(body)), append(header, r.Header.Get(wims.HeaderClaimCheck))
		mu.Unlock()
	}))
	t.Cleanup(target.Close)

	p := a.platform
	_, err := p.CreateConnection(ctx, wims.Connection{Name: "open", AuthorizationType: wims.AuthNone})
	mustNil(t, err)
	_, err = p.CreateAPIDestination(ctx, wims.APIDestination{Name: "warehouse", ConnectionName: "open", InvocationEndpoint: target.URL, HTTPMethod: "POST"})
	mustNil(t, err)
	_, err = p.PutRule(ctx, wims.Rule{Name: "big-manifests", EventPattern: `{"source":["shop.web"],"detail":{"claimCheck":{"size":[{"numeric":[">",262144]}]}}}`})
	mustNil(t, err)
	_, err = p.PutTargets(ctx, wims.DefaultBus, "big-manifests", []wims.Target{{ID: "warehouse", Arn: wims.APIDestinationARN("warehouse")}})
	mustNil(t, err)

	detail := `{"manifest":"` + strings.Repeat("pallet-", 300_000/7) + `","lines":[1,2,3]}`
	code, body := a.do("POST", "/events", map[string]any{"entries": []any{
		map[string]any{"source": "shop.web", "detailType": "Manifest", "detail": detail},
	}})
	var put struct {
		FailedEntryCount int
		Entries          []wims.PutEventsResult
	}
	if err := json.Unmarshal(body, &put); code != http.StatusOK || err != nil || put.FailedEntryCount != 0 {
		t.Fatalf("POST /events = %d %.300s", code, body)
	}
	id := put.Entries[0].EventID

	code, payload := a.do("GET", "/events/"+id+"/payload", nil)
	if code != http.StatusOK || string(payload) != detail {
		t.Fatalf("GET /events/%s/payload = %d, %d bytes; want the %d bytes put", id, code, len(payload), len(detail))
	}
	if code, _ := a.do("GET", "/events/no-such-event/payload", nil); code != http.StatusNotFound {
		t.Fatalf("unknown payload: %d, want 404", code)
	}

	eventually(t, 20*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(events) == 0 {
			return fmt.Errorf("the target has not been called")
		}
		return nil
	})
	mu.Lock()
	ev, got, href := events[0], fetched[0], header[0]
	mu.Unlock()
	ref, ok := wims.ParseClaimCheck(ev.Detail)
	sum := sha256.Sum256([]byte(got))
	if !ok || ev.ID != id || ref.ID != id || ref.Size != len(detail) || href != "/events/"+id+"/payload" {
		t.Fatalf("target got event %s detail %.200s, header %q", ev.ID, ev.Detail, href)
	}
	if got != detail || hex.EncodeToString(sum[:]) != ref.SHA256 {
		t.Fatalf("target fetched %d bytes (sha256 %x), want %d (sha256 %s)", len(got), sum, len(detail), ref.SHA256)
	}

	// The AWS SDK's PutEvents (the wire API) takes a large entry too, and
	// its payload resolves.
	sdk := sdkClient(a, aws.AnonymousCredentials{})
	wire, err := sdk.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		Source: aws.String("shop.sdk"), DetailType: aws.String("Manifest"), Detail: aws.String(detail),
	}}})
	if err != nil || wire.FailedEntryCount != 0 {
		t.Fatalf("SDK PutEvents of %d bytes: %v %+v", len(detail), err, wire)
	}
	if code, p := a.do("GET", "/events/"+aws.ToString(wire.Entries[0].EventId)+"/payload", nil); code != http.StatusOK || string(p) != detail {
		t.Fatalf("payload of the SDK's entry: %d, %d bytes", code, len(p))
	}

	// The event log keeps the reference, not the payload.
	eventually(t, 20*time.Second, func() error {
		code, body := a.do("GET", "/events?source=shop.web", nil)
		if code != http.StatusOK || !strings.Contains(string(body), `"claimCheck"`) {
			return fmt.Errorf("GET /events = %d %.200s", code, body)
		}
		if len(body) > 4096 {
			return fmt.Errorf("the event log holds %d bytes for one event", len(body))
		}
		return nil
	})
}
