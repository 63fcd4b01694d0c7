package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// fixedEventLog is an EventLog returning fixed envelopes, newest first, and
// remembering the last filter it was asked for.
type fixedEventLog struct {
	mu     sync.Mutex
	last   wims.EventFilter
	events []json.RawMessage
}

func (l *fixedEventLog) RecentEvents(ctx context.Context, f wims.EventFilter) ([]json.RawMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last = f
	return l.events[:min(f.Limit, len(l.events))], nil
}

func (l *fixedEventLog) lastFilter() wims.EventFilter {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

var envelopes = []json.RawMessage{
	json.RawMessage(`{"version":"0","id":"e2","detail-type":"cdcEvent","source":"wims.cdc","account":"000000000000","time":"2026-01-01T00:00:02Z","region":"local","resources":[],"detail":{"n":2}}`),
	json.RawMessage(`{"version":"0","id":"e1","detail-type":"cdcEvent","source":"wims.cdc","account":"000000000000","time":"2026-01-01T00:00:01Z","region":"local","resources":[],"detail":{"n":1}}`),
}

func TestEvents(t *testing.T) {
	log := &fixedEventLog{events: envelopes}
	e := newEnv(t, func(o *wimshttp.Options) { o.Events = log })

	t.Run("Defaults", func(t *testing.T) {
		m := e.do("GET", "/events", "").wantJSON(t, http.StatusOK)
		wantKeys(t, m, "events")
		evs := m["events"].([]any)
		if len(evs) != 2 {
			t.Fatalf("events = %v", evs)
		}
		first := evs[0].(map[string]any)
		wantKeys(t, first, "version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
		if first["id"] != "e2" || evs[1].(map[string]any)["id"] != "e1" {
			t.Fatalf("order = %v, want newest first as the log gave them", evs)
		}
		if f := log.lastFilter(); f != (wims.EventFilter{Limit: 100}) {
			t.Fatalf("filter = %+v", f)
		}
	})
	t.Run("Filter", func(t *testing.T) {
		m := e.do("GET", "/events?limit=1&source=wims.cdc&detail-type=cdcEvent", "").wantJSON(t, http.StatusOK)
		if evs := m["events"].([]any); len(evs) != 1 {
			t.Fatalf("events = %v", evs)
		}
		want := wims.EventFilter{Limit: 1, Source: "wims.cdc", DetailType: "cdcEvent"}
		if f := log.lastFilter(); f != want {
			t.Fatalf("filter = %+v, want %+v", f, want)
		}
	})
	t.Run("MaxLimit", func(t *testing.T) {
		e.do("GET", "/events?limit=1000", "").wantJSON(t, http.StatusOK)
	})
	for q, field := range map[string]string{"since=1": "since", "limit=1&limit=2": "limit", "source=a&source=b": "source", "log-group=" + strings.Repeat("g", 513): "log-group"} {
		t.Run("ErrParam/"+field, func(t *testing.T) {
			e.do("GET", "/events?"+q, "").wantProblem(t, http.StatusBadRequest, "validation-error", field)
		})
	}
	t.Run("LogGroup", func(t *testing.T) {
		e.do("GET", "/events?log-group=audit", "").wantJSON(t, http.StatusOK)
		if f := log.lastFilter(); f.LogGroup != "audit" {
			t.Fatalf("filter = %+v", f)
		}
		e.do("GET", "/events?log-group=wims-events", "").wantJSON(t, http.StatusOK)
		if f := log.lastFilter(); f.LogGroup != "" {
			t.Fatalf("wims-events is the default log: filter = %+v", f)
		}
	})
	for _, q := range []string{"limit=0", "limit=1001", "limit=-1", "limit=x", "limit=", "limit=1.5", "limit=99999999999999999999"} {
		t.Run("ErrLimit/"+q, func(t *testing.T) {
			e.do("GET", "/events?"+q, "").wantProblem(t, http.StatusBadRequest, "validation-error", "limit")
		})
	}
}

func TestEventsEmpty(t *testing.T) {
	e := newEnv(t, func(o *wimshttp.Options) { o.Events = &fixedEventLog{} })
	m := e.do("GET", "/events", "").wantJSON(t, http.StatusOK)
	if evs, ok := m["events"].([]any); !ok || len(evs) != 0 {
		t.Fatalf("events = %#v, want []", m["events"])
	}
}

func TestEventsUnavailable(t *testing.T) {
	e := newEnv(t) // no event log
	e.do("GET", "/events", "").wantProblem(t, http.StatusServiceUnavailable, "unavailable", "")
}
