package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/console"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/pattern"
	"github.com/wims/wims/sqlite"
)

// fakeLog is an event log in memory: a cursor is an index into it.
type fakeLog struct {
	mu     sync.Mutex
	events []json.RawMessage
}

func (l *fakeLog) add(id, source, detailType, detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, json.RawMessage(fmt.Sprintf(`{"version":"0","id":%q,"source":%q,"detail-type":%q,"time":%q,"detail":%s}`,
		id, source, detailType, time.Now().UTC().Format(time.RFC3339Nano), detail)))
}

// addRaw logs an event as given.
func (l *fakeLog) addRaw(ev string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, json.RawMessage(ev))
}

func (l *fakeLog) Query(_ context.Context, q wims.EventQuery) (wims.EventPage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var p *pattern.Pattern
	if q.Pattern != "" {
		var err error
		if p, err = pattern.Compile([]byte(q.Pattern)); err != nil {
			return wims.EventPage{}, wims.FieldError("pattern", "is not valid")
		}
	}
	keep := func(ev json.RawMessage) bool {
		if q.OrderID != "" && !strings.Contains(string(ev), `"orderId":"`+q.OrderID+`"`) {
			return false
		}
		if p == nil {
			return true
		}
		ok, _ := p.Match(ev)
		return ok
	}
	if q.Cursor != "" && !strings.HasPrefix(q.Cursor, "before-") {
		from, _ := strconv.Atoi(q.Cursor)
		page := wims.EventPage{Next: strconv.Itoa(len(l.events))}
		for _, ev := range l.events[min(from, len(l.events)):] {
			if keep(ev) {
				page.Events = append(page.Events, ev)
			}
		}
		return page, nil
	}
	end := len(l.events)
	if q.Cursor != "" {
		end, _ = strconv.Atoi(strings.TrimPrefix(q.Cursor, "before-"))
	}
	page := wims.EventPage{Next: strconv.Itoa(len(l.events))}
	i := end - 1
	for ; i >= 0 && len(page.Events) < q.Limit; i-- {
		if keep(l.events[i]) {
			page.Events = append([]json.RawMessage{l.events[i]}, page.Events...)
		}
	}
	if i >= 0 {
		page.Prev = "before-" + strconv.Itoa(i+1)
	}
	return page, nil
}

// newPlatformConsole serves a console with an event log, a dead-letter
// queue and an event platform in memory.
func newPlatformConsole(t *testing.T, keys ...wimshttp.APIKey) (*httptest.Server, *fakeLog, *fakeDLQ, *fakePlatform) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	log, dlq, plat := &fakeLog{}, newFakeDLQ(), newFakePlatform()
	srv := httptest.NewServer(console.New(console.Options{Store: db, APIKeys: keys, StreamInterval: 50 * time.Millisecond,
		Events: log, DeadLetters: dlq, Platform: plat, Schemas: plat}))
	t.Cleanup(srv.Close)
	return srv, log, dlq, plat
}

func TestConsoleEvents(t *testing.T) {
	srv, log, _, _ := newPlatformConsole(t, wimshttp.APIKey{Key: "admin-secret", Role: wimshttp.RoleAdmin}, wimshttp.APIKey{Key: "read-secret", Role: wimshttp.RoleRead})
	for i := range 60 {
		log.add(fmt.Sprintf("ev-%02d", i), "shop", "Sale", fmt.Sprintf(`{"n":%d,"customerId":"cust-<i>%d</i>"}`, i, i))
	}
	admin := login(t, srv, "admin-secret")
	resp, page := get(t, admin, srv.URL+"/ui/events")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-event-id="ev-59"`) || strings.Contains(page, `data-event-id="ev-09"`) {
		t.Fatalf("events page: %d\n%s", resp.StatusCode, page)
	}
	if strings.Index(page, `"ev-59"`) > strings.Index(page, `"ev-58"`) {
		t.Error("events are not newest first")
	}
	if !strings.Contains(page, `data-stream="/ui/events/stream?cursor=60"`) || !strings.Contains(page, `rel="next"`) {
		t.Errorf("events page lacks its stream or its next link:\n%s", page)
	}
	_, older := get(t, admin, srv.URL+"/ui/events?cursor=before-10")
	if !strings.Contains(older, `"ev-09"`) || strings.Contains(older, `"ev-10"`) || strings.Contains(older, "data-stream") {
		t.Errorf("older page:\n%s", older)
	}
	if !strings.Contains(older, `href="/ui/events?cursor=60" rel="prev">Newer<`) || !strings.Contains(older, `href="/ui/events">Newest<`) {
		t.Errorf("older page's links:\n%s", older)
	}
	if strings.Contains(page, ">Newer<") {
		t.Error("the newest page links a newer one")
	}
	_, filtered := get(t, admin, srv.URL+"/ui/events?"+url.Values{"pattern": {`{"detail":{"n":[7]}}`}}.Encode())
	if !strings.Contains(filtered, `"ev-07"`) || strings.Contains(filtered, `"ev-08"`) {
		t.Errorf("filtered page:\n%s", filtered)
	}
	if resp, _ := get(t, admin, srv.URL+"/ui/events?since=yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad since: %d, want 400", resp.StatusCode)
	}

	// The detail: the whole event, pretty-printed and escaped.
	resp, detail := get(t, admin, srv.URL+"/ui/events/ev-07")
	if resp.StatusCode != http.StatusOK || !strings.Contains(detail, "cust-&lt;i&gt;7&lt;/i&gt;") || !strings.Contains(detail, "\n  &#34;detail&#34;: {") {
		t.Errorf("event page: %d\n%s", resp.StatusCode, detail)
	}
	if resp, _ := get(t, admin, srv.URL+"/ui/events/nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing event: %d", resp.StatusCode)
	}

	// Test a pattern.
	_, tested := get(t, admin, srv.URL+"/ui/events/test?"+url.Values{"pattern": {`{"detail":{"n":[{"numeric":[">=",98]}]}}`}}.Encode())
	if !strings.Contains(tested, "0 of the latest 60 events match") {
		t.Errorf("test a pattern, no match:\n%s", tested)
	}
	_, tested = get(t, admin, srv.URL+"/ui/events/test?"+url.Values{"pattern": {`{"detail":{"n":[{"numeric":[">=",58]}]}}`}}.Encode())
	if !strings.Contains(tested, "2 of the latest 60 events match") || !strings.Contains(tested, `"ev-58"`) {
		t.Errorf("test a pattern:\n%s", tested)
	}
	if resp, body := get(t, admin, srv.URL+"/ui/events/test?pattern=nope"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) {
		t.Errorf("invalid pattern: %d", resp.StatusCode)
	}

	// read sees no customer ids, and may not select by one.
	reader := login(t, srv, "read-secret")
	_, detail = get(t, reader, srv.URL+"/ui/events/ev-07")
	if strings.Contains(detail, "cust-") || !strings.Contains(detail, "REDACTED") {
		t.Errorf("read's event page:\n%s", detail)
	}
	customer := url.Values{"pattern": {`{"detail":{"customerId":["cust-<i>7</i>"]}}`}}.Encode()
	for _, path := range []string{"/ui/events?", "/ui/events/test?"} {
		if resp, body := get(t, reader, srv.URL+path+customer); resp.StatusCode != http.StatusForbidden || strings.Contains(body, `"ev-07"`) {
			t.Errorf("read selects by customer at %s: %d", path, resp.StatusCode)
		}
	}
}

func TestConsoleEventStream(t *testing.T) {
	srv, log, _, _ := newPlatformConsole(t)
	log.add("ev-0", "shop", "Sale", `{"customerId":"c"}`)
	c := client(t)
	get(t, c, srv.URL+"/ui/") // the session
	resp, err := c.Get(srv.URL + "/ui/events/stream?cursor=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	log.add("ev-1", "shop", "Refund", `{}`)
	buf := make([]byte, 64<<10)
	var got strings.Builder
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(got.String(), "id: 2\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no ev-1 in the stream:\n%s", got.String())
		}
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(buf[:n])
	}
	if !strings.Contains(got.String(), `event: event`+"\n"+`data: {"id":"ev-1","href":"/ui/events/ev-1"`) || strings.Contains(got.String(), `"ev-0"`) {
		t.Errorf("stream:\n%s", got.String())
	}
}
