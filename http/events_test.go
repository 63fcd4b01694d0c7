package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/eventlog"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/nats/natstest"
)

// eventEnv is the API over a real event log on an embedded bus.
type eventEnv struct {
	*testEnv
	log *eventlog.Log
}

func newEventEnv(t *testing.T) *eventEnv {
	t.Helper()
	bus := natstest.Open(t)
	log := &eventlog.Log{Bus: bus, Subject: bus.Subject("eventlog", "events"), ScanMax: 50,
		GroupSubject: func(g string) string { return bus.Subject("eventlog", "group", g) }}
	return &eventEnv{testEnv: newEnv(t, func(o *wimshttp.Options) { o.Events = log }), log: log}
}

// logEvent appends an event about an order and a SKU (either may be "").
func (e *eventEnv) logEvent(t *testing.T, id, source, order, sku string) {
	t.Helper()
	detail := map[string]any{}
	if order != "" {
		detail["orderId"] = order
	}
	if sku != "" {
		detail["sku"] = sku
	}
	b, _ := json.Marshal(map[string]any{"version": "0", "id": id, "source": source, "detail-type": "T", "account": "000000000000",
		"time": "2026-01-01T00:00:00Z", "region": "local", "resources": []string{}, "detail": detail})
	if err := e.log.Handle(context.Background(), &wims.Message{Data: b, Header: map[string]string{}, Delivered: 1}); err != nil {
		t.Fatal(err)
	}
}

// page is a decoded GET /events answer.
type page struct {
	Events []struct {
		ID     string `json:"id"`
		Source string `json:"source"`
	} `json:"events"`
	Next, Prev string
}

func (e *eventEnv) page(t *testing.T, query string) page {
	t.Helper()
	r := e.do("GET", "/events?"+query, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /events?%s = %d %s", query, r.status, r.body)
	}
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Next == "" {
		t.Fatalf("GET /events?%s has no next cursor: %s", query, r.body)
	}
	return p
}

func (p page) ids() string {
	var out []string
	for _, ev := range p.Events {
		out = append(out, ev.ID)
	}
	return strings.Join(out, ",")
}

func TestEventsQuery(t *testing.T) {
	e := newEventEnv(t)
	before := time.Now()
	e.logEvent(t, "e1", "wims.orders", "o-1", "WIDGET")
	e.logEvent(t, "e2", "shop", "", "")
	e.logEvent(t, "e3", "wims.payments", "o-1", "")
	mid := time.Now()
	e.logEvent(t, "e4", "wims.inventory", "", "WIDGET")
	e.logEvent(t, "e5", "wims.orders", "o-2", "sku.with dots/and space")

	t.Run("NewestInLogOrder", func(t *testing.T) {
		p := e.page(t, "limit=2")
		if p.ids() != "e4,e5" || p.Prev == "" {
			t.Fatalf("newest page = %s (prev %q), want e4,e5 with a cursor to older ones", p.ids(), p.Prev)
		}
		older := e.page(t, "limit=2&cursor="+p.Prev)
		oldest := e.page(t, "limit=2&cursor="+older.Prev)
		if older.ids() != "e2,e3" || oldest.ids() != "e1" || oldest.Prev != "" {
			t.Fatalf("older pages = %s, %s (prev %q)", older.ids(), oldest.ids(), oldest.Prev)
		}
	})
	t.Run("ForwardFromSince", func(t *testing.T) {
		var got []string
		p := e.page(t, "limit=2&since="+url.QueryEscape(before.Format(time.RFC3339Nano)))
		for len(p.Events) > 0 {
			got = append(got, p.ids())
			p = e.page(t, "limit=2&cursor="+p.Next)
		}
		if strings.Join(got, "|") != "e1,e2|e3,e4|e5" {
			t.Fatalf("forward pages = %v", got)
		}
		// The last next cursor follows the log: a new event shows up on it.
		e.logEvent(t, "e6", "shop", "", "")
		if again := e.page(t, "cursor="+p.Next); again.ids() != "e6" {
			t.Fatalf("polling the last cursor = %s, want e6", again.ids())
		}
	})
	t.Run("TimeRange", func(t *testing.T) {
		q := url.Values{"since": {before.Format(time.RFC3339Nano)}, "until": {mid.Format(time.RFC3339Nano)}}
		if p := e.page(t, q.Encode()); p.ids() != "e1,e2,e3" {
			t.Fatalf("[since, until) = %s", p.ids())
		}
		if p := e.page(t, "until="+url.QueryEscape(mid.Format(time.RFC3339Nano))); p.ids() != "e1,e2,e3" {
			t.Fatalf("until only = %s", p.ids())
		}
		if p := e.page(t, "since=1h&source=shop"); p.ids() != "e2,e6" {
			t.Fatalf("since a duration ago = %s", p.ids())
		}
	})
	t.Run("ByOrderAndSKU", func(t *testing.T) {
		for q, want := range map[string]string{
			"order=o-1":            "e1,e3",
			"sku=WIDGET":           "e1,e4",
			"order=o-1&sku=WIDGET": "e1",
			"sku=" + url.QueryEscape("sku.with dots/and space"): "e5",
			"order=o-9": "",
		} {
			if p := e.page(t, q); p.ids() != want {
				t.Errorf("%s = %s, want %s", q, p.ids(), want)
			}
		}
	})
	t.Run("ByPattern", func(t *testing.T) {
		q := "pattern=" + url.QueryEscape(`{"source":[{"prefix":"wims."}],"detail":{"orderId":[{"exists":true}]}}`)
		if p := e.page(t, q); p.ids() != "e1,e3,e5" {
			t.Fatalf("pattern = %s", p.ids())
		}
	})
	t.Run("BoundedScan", func(t *testing.T) {
		// ScanMax is 50: a filter matching only the first event, behind 60
		// others, answers without it and with a cursor that reaches it.
		for i := range 60 {
			e.logEvent(t, fmt.Sprintf("n%02d", i), "noise", "", "")
		}
		p := e.page(t, "source=wims.payments")
		if len(p.Events) != 0 || p.Prev == "" {
			t.Fatalf("bounded page = %s prev %q, want none yet and a cursor", p.ids(), p.Prev)
		}
		if p = e.page(t, "source=wims.payments&cursor="+p.Prev); p.ids() != "e3" {
			t.Fatalf("next bounded page = %s", p.ids())
		}
	})
	for q, field := range map[string]string{
		"since=yesterday": "since", "until=x": "until", "cursor=zzz": "cursor", "pattern=" + url.QueryEscape(`{"source":"x"}`): "pattern",
		"since=1h&cursor=" + e.page(t, "").Next: "since", "since=1h&until=2h": "until", "order=" + strings.Repeat("o", 257): "order",
		"limit=1&limit=2": "limit", "log-group=" + strings.Repeat("g", 513): "log-group", "nope=1": "nope",
	} {
		t.Run("ErrParam/"+field, func(t *testing.T) {
			e.do("GET", "/events?"+q, "").wantProblem(t, http.StatusBadRequest, "validation-error", field)
		})
	}
	for _, q := range []string{"limit=0", "limit=1001", "limit=-1", "limit=x", "limit=", "limit=1.5", "limit=99999999999999999999"} {
		t.Run("ErrLimit/"+q, func(t *testing.T) {
			e.do("GET", "/events?"+q, "").wantProblem(t, http.StatusBadRequest, "validation-error", "limit")
		})
	}
	t.Run("LogGroup", func(t *testing.T) {
		if p := e.page(t, "log-group=audit"); len(p.Events) != 0 {
			t.Fatalf("an empty log group = %s", p.ids())
		}
		if p := e.page(t, "log-group=wims-events&limit=1"); p.ids() != "n59" {
			t.Fatalf("wims-events is the default log: %s", p.ids())
		}
	})
}

// TestEventStream: GET /events/stream sends what is logged after it
// started, as server-sent events, filtered like GET /events.
func TestEventStream(t *testing.T) {
	e := newEventEnv(t)
	e.logEvent(t, "old", "shop", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/events/stream?order=o-7", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), ":") {
		t.Fatalf("first line %q, want the opening comment", lines.Text())
	}
	e.logEvent(t, "other", "shop", "o-8", "")
	e.logEvent(t, "live", "shop", "o-7", "")
	var got []string
	for lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			var ev struct{ ID string }
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev.ID)
			break
		}
	}
	if strings.Join(got, ",") != "live" {
		t.Fatalf("streamed %v (err %v), want only the new event about o-7", got, lines.Err())
	}
}

func TestEventsUnavailable(t *testing.T) {
	e := newEnv(t) // no event log
	e.do("GET", "/events", "").wantProblem(t, http.StatusServiceUnavailable, "unavailable", "")
	e.do("GET", "/events/stream", "").wantProblem(t, http.StatusServiceUnavailable, "unavailable", "")
}
