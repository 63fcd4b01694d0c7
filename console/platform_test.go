package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// fakeDLQ is a dead-letter queue in memory.
type fakeDLQ struct {
	mu       sync.Mutex
	letters  []*wims.Message // oldest first
	redriven []uint64
}

func newFakeDLQ() *fakeDLQ { return &fakeDLQ{} }

func (q *fakeDLQ) add(seq uint64, data string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.letters = append(q.letters, &wims.Message{Seq: seq, Data: []byte(data), Header: map[string]string{
		wims.HeaderDLQConsumer: "platform-deliveries", wims.HeaderDLQSubject: "wims.platform.deliveries", wims.HeaderDLQReason: "HTTP 500 <boom>",
		wims.HeaderDLQAttempts: "1", wims.HeaderRule: "crm-rule", wims.HeaderTarget: "crm", wims.HeaderBus: "default",
		wims.HeaderDLQTime: "2026-12-03T07:00:00Z",
	}})
}

func (q *fakeDLQ) DeadLetterPage(_ context.Context, before uint64, limit int, keep func(*wims.Message) bool) (wims.MessagePage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var page wims.MessagePage
	for _, m := range slices.Backward(q.letters) {
		if before != 0 && m.Seq >= before || !keep(m) {
			continue
		}
		if len(page.Messages) == limit {
			page.Prev = page.Messages[0].Seq
			break
		}
		page.Messages = append([]*wims.Message{m}, page.Messages...)
	}
	return page, nil
}

func (q *fakeDLQ) find(seq uint64) int {
	return slices.IndexFunc(q.letters, func(m *wims.Message) bool { return m.Seq == seq })
}

func (q *fakeDLQ) Redrive(_ context.Context, seq uint64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	i := q.find(seq)
	if i < 0 {
		return wims.Errorf(wims.ENOTFOUND, "no dead letter %d", seq)
	}
	q.letters = slices.Delete(q.letters, i, i+1)
	q.redriven = append(q.redriven, seq)
	return nil
}

func (q *fakeDLQ) DeadLetter(_ context.Context, seq uint64) (*wims.Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if i := q.find(seq); i >= 0 {
		return q.letters[i], nil
	}
	return nil, wims.Errorf(wims.ENOTFOUND, "no dead letter %d", seq)
}

func (q *fakeDLQ) PurgeDeadLetter(ctx context.Context, seq uint64) error { return q.Redrive(ctx, seq) }

// fakePlatform is the part of the event platform and the schema
// registry the console reads; the rest panics (nil embedded interfaces).
type fakePlatform struct {
	wims.EventPlatform
	wims.SchemaRegistry
	mu    sync.Mutex
	rules []wims.Rule
}

func newFakePlatform() *fakePlatform {
	return &fakePlatform{rules: []wims.Rule{
		{Name: "everything", EventBusName: "default", EventPattern: `{"source":[{"prefix":""}]}`, State: wims.RuleEnabled, ManagedBy: "wims"},
		{Name: "crm-rule", EventBusName: "default", EventPattern: `{"source":["<shop>"]}`, State: wims.RuleEnabled},
	}}
}

func (p *fakePlatform) ListEventBuses(context.Context, string) ([]wims.EventBus, error) {
	return []wims.EventBus{{Name: "default"}}, nil
}

func (p *fakePlatform) ListRules(_ context.Context, bus, _ string) ([]wims.Rule, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.rules), nil
}

func (p *fakePlatform) ListTargetsByRule(_ context.Context, bus, rule string) ([]wims.Target, error) {
	return []wims.Target{{Rule: rule, EventBusName: bus, ID: "t1", Arn: wims.APIDestinationARN("crm")}}, nil
}

func (p *fakePlatform) SetRuleState(_ context.Context, bus, name, state string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.rules {
		if p.rules[i].Name == name && p.rules[i].EventBusName == bus {
			p.rules[i].State = state
			return nil
		}
	}
	return wims.Errorf(wims.ENOTFOUND, "no rule %s", name)
}

func (p *fakePlatform) ListArchives(context.Context, wims.ArchiveFilter) ([]wims.Archive, error) {
	return []wims.Archive{{Name: "all-events", EventBus: "default", State: "ENABLED", EventCount: 1234}}, nil
}

func (p *fakePlatform) ListReplays(context.Context, wims.ReplayFilter) ([]wims.Replay, error) {
	return []wims.Replay{{Name: "replay-1", Archive: "all-events", State: "COMPLETED", Replayed: 17}}, nil
}

func (p *fakePlatform) ListSchemas(context.Context, wims.SchemaFilter) ([]wims.Schema, error) {
	return []wims.Schema{{Registry: wims.DiscoveredRegistry, Name: "shop@Sale", VersionCount: 3, LatestVersion: "3", Source: "shop", DetailType: "Sale"}}, nil
}

func (p *fakePlatform) DescribeSchema(_ context.Context, registry, name, _ string) (wims.Schema, error) {
	if name != "shop@Sale" {
		return wims.Schema{}, wims.Errorf(wims.ENOTFOUND, "no schema %s", name)
	}
	return wims.Schema{Registry: registry, Name: name, Version: "3", VersionCount: 3, Type: "OpenApi3", Content: `{"openapi":"3.0.0","x":"<script>"}`}, nil
}

func TestConsoleDeadLetters(t *testing.T) {
	srv, _, dlq, _ := newPlatformConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	dlq.add(7, `{"orderId":"o-1","customerId":"cust-42"}`)
	dlq.add(9, `{"orderId":"o-2","customerId":"cust-43"}`)

	reader := login(t, srv, "read-secret")
	resp, page := get(t, reader, srv.URL+"/ui/dead-letters")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-seq="7"`) || !strings.Contains(page, "HTTP 500 &lt;boom&gt;") || !strings.Contains(page, "crm-rule") {
		t.Fatalf("read's dead letters: %d\n%s", resp.StatusCode, page)
	}
	if strings.Contains(page, "cust-4") || !strings.Contains(page, "REDACTED") {
		t.Error("read sees a customer id in a dead letter")
	}
	if strings.Contains(page, "/redrive") {
		t.Error("read sees a redrive button")
	}
	if resp, _ := post(t, reader, srv.URL+"/ui/dead-letters/7/redrive", url.Values{"csrf": {csrfOf(t, page)}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read redrives: %d, want 403", resp.StatusCode)
	}

	admin := login(t, srv, "admin-secret")
	_, page = get(t, admin, srv.URL+"/ui/dead-letters")
	if !strings.Contains(page, `action="/ui/dead-letters/7/redrive"`) || !strings.Contains(page, "cust-42") {
		t.Fatalf("admin's dead letters:\n%s", page)
	}
	token := csrfOf(t, page)
	if resp, _ := post(t, admin, srv.URL+"/ui/dead-letters/7/redrive", url.Values{}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("redrive without CSRF: %d, want 403", resp.StatusCode)
	}
	resp, dry := post(t, admin, srv.URL+"/ui/dead-letters/7/redrive", url.Values{"csrf": {token}, "dry-run": {"1"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(dry, "Dry run: nothing changed") || !strings.Contains(dry, "wims.platform.deliveries") || len(dlq.redriven) != 0 {
		t.Errorf("dry run: %d, redriven %v\n%s", resp.StatusCode, dlq.redriven, dry)
	}
	resp, _ = post(t, admin, srv.URL+"/ui/dead-letters/7/redrive", url.Values{"csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther || !slices.Equal(dlq.redriven, []uint64{7}) {
		t.Fatalf("redrive: %d, redriven %v", resp.StatusCode, dlq.redriven)
	}
	_, page = get(t, admin, srv.URL+resp.Header.Get("Location"))
	if strings.Contains(page, `data-seq="7"`) || !strings.Contains(page, "Redrove dead letter 7") {
		t.Errorf("after redrive:\n%s", page)
	}
	if resp, _ := post(t, admin, srv.URL+"/ui/dead-letters/7/redrive", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("redrive again: %d, want 404", resp.StatusCode)
	}
}

func TestConsoleBuses(t *testing.T) {
	srv, _, _, plat := newPlatformConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	reader := login(t, srv, "read-secret")
	resp, page := get(t, reader, srv.URL+"/ui/buses")
	for _, want := range []string{`data-rule="crm-rule"`, "{&#34;source&#34;:[&#34;&lt;shop&gt;&#34;]}", "all-events", "1,234", "replay-1", "COMPLETED", `href="/ui/schema?name=shop%40Sale"`} {
		if !strings.Contains(page, want) {
			t.Errorf("buses page lacks %q", want)
		}
	}
	if resp.StatusCode != http.StatusOK || strings.Contains(page, "/ui/rules/state") {
		t.Errorf("read's buses page: %d, with a state form: %v", resp.StatusCode, strings.Contains(page, "/ui/rules/state"))
	}
	form := url.Values{"csrf": {csrfOf(t, page)}, "bus": {"default"}, "rule": {"crm-rule"}, "state": {wims.RuleDisabled}}
	if resp, _ := post(t, reader, srv.URL+"/ui/rules/state", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("read disables a rule: %d, want 403", resp.StatusCode)
	}
	_, schema := get(t, reader, srv.URL+"/ui/schema?name=shop%40Sale")
	if !strings.Contains(schema, "&#34;x&#34;: &#34;&lt;script&gt;&#34;") {
		t.Errorf("schema page:\n%s", schema)
	}

	admin := login(t, srv, "admin-secret")
	_, page = get(t, admin, srv.URL+"/ui/buses")
	form.Set("csrf", "nope")
	if resp, _ := post(t, admin, srv.URL+"/ui/rules/state", form); resp.StatusCode != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", resp.StatusCode)
	}
	form.Set("csrf", csrfOf(t, page))
	if resp, _ := post(t, admin, srv.URL+"/ui/rules/state", form); resp.StatusCode != http.StatusSeeOther || plat.rules[1].State != wims.RuleDisabled {
		t.Fatalf("disable: %d, state %s", resp.StatusCode, plat.rules[1].State)
	}
	form.Set("state", "MAYBE")
	if resp, _ := post(t, admin, srv.URL+"/ui/rules/state", form); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad state: %d, want 400", resp.StatusCode)
	}
	form.Set("state", wims.RuleEnabled)
	form.Set("rule", "nope")
	if resp, _ := post(t, admin, srv.URL+"/ui/rules/state", form); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing rule: %d, want 404", resp.StatusCode)
	}
}

func TestConsolePlatformPagesAndHeaders(t *testing.T) {
	srv, log, dlq, _ := newPlatformConsole(t)
	log.add("ev-1", "shop", "Sale", `{}`)
	dlq.add(1, `{}`)
	c := client(t)
	for path, want := range map[string]string{
		"/ui/events":                  `data-event-id="ev-1"`,
		"/ui/events/ev-1":             `id="event-json"`,
		"/ui/events/test":             `<textarea id="pattern"`,
		"/ui/dead-letters":            `data-seq="1"`,
		"/ui/buses":                   `data-rule="crm-rule"`,
		"/ui/schema?name=shop%40Sale": `id="schema-content"`,
		"/ui/events/test?pattern=%7B%22source%22%3A%5B%22shop%22%5D%7D": "1 of the latest 1 events match",
	} {
		resp, body := get(t, c, srv.URL+path)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d, want 200 containing %q:\n%s", path, resp.StatusCode, want, body)
		}
		if got := resp.Header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", path, got)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") {
			t.Errorf("GET %s: inline script or style", path)
		}
		for _, nav := range []string{`href="/ui/events"`, `href="/ui/dead-letters"`, `href="/ui/buses"`} {
			if !strings.Contains(body, nav) {
				t.Errorf("GET %s: no nav link %s", path, nav)
			}
		}
	}
	if resp, _ := get(t, c, srv.URL+"/ui/schema?name=nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing schema: %d, want 404", resp.StatusCode)
	}

	// Without the options, the pages say so.
	bare, _ := newConsole(t)
	for _, path := range []string{"/ui/events", "/ui/events/x", "/ui/events/test", "/ui/dead-letters", "/ui/buses", "/ui/schema?name=x"} {
		if resp, _ := get(t, c, bare.URL+path); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("GET %s without its option = %d, want 503", path, resp.StatusCode)
		}
	}
}

func TestConsoleDeadLettersPagination(t *testing.T) {
	srv, _, dlq, _ := newPlatformConsole(t)
	for i := range 55 {
		dlq.add(uint64(i+1), `{}`)
	}
	c := client(t)
	_, first := get(t, c, srv.URL+"/ui/dead-letters")
	if n := strings.Count(first, "<tr data-seq="); n != 50 || !strings.Contains(first, `data-seq="55"`) || strings.Contains(first, `data-seq="5"`) {
		t.Fatalf("first page: %d rows\n%s", n, first)
	}
	if !strings.Contains(first, `href="/ui/dead-letters?cursor=6" rel="next"`) {
		t.Fatalf("no next link:\n%s", first)
	}
	_, second := get(t, c, srv.URL+"/ui/dead-letters?cursor=6")
	if n := strings.Count(second, "<tr data-seq="); n != 5 || strings.Contains(second, `rel="next"`) || !strings.Contains(second, ">Newest<") {
		t.Errorf("second page: %d rows\n%s", n, second)
	}
	if resp, _ := get(t, c, srv.URL+"/ui/dead-letters?cursor=x"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d, want 400", resp.StatusCode)
	}
}

// TestConsoleOrdersRoleLogs: the orders role (the shop front end's key)
// may not read the event log or the dead letters, as in the API, but sees
// the platform.
func TestConsoleOrdersRoleLogs(t *testing.T) {
	srv, log, dlq, _ := newPlatformConsole(t, wimshttp.APIKey{Key: "orders-secret", Role: wimshttp.RoleOrders})
	log.add("ev-1", "shop", "Sale", `{}`)
	dlq.add(1, `{}`)
	c := login(t, srv, "orders-secret")
	for _, path := range []string{"/ui/events", "/ui/events/ev-1", "/ui/events/test?pattern=%7B%7D", "/ui/events/stream", "/ui/dead-letters"} {
		if resp, body := get(t, c, srv.URL+path); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "ev-1") {
			t.Errorf("orders GET %s = %d, want 403", path, resp.StatusCode)
		}
	}
	resp, page := get(t, c, srv.URL+"/ui/buses")
	if resp.StatusCode != http.StatusOK || strings.Contains(page, `href="/ui/events"`) || strings.Contains(page, `href="/ui/dead-letters"`) || !strings.Contains(page, `href="/ui/buses"`) {
		t.Errorf("orders' buses page: %d, nav:\n%s", resp.StatusCode, page)
	}
}
