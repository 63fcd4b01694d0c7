package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// TestRedriveDryRun dead-letters a real message on an embedded bus: a dry
// run shows it and changes nothing; the real redrive removes it.
func TestRedriveDryRun(t *testing.T) {
	b := natstest.Open(t)
	c, err := b.Consume(context.Background(), nats.ConsumerSpec{
		Stream: nats.Payments, Durable: "payments", FilterSubject: b.Subject("payments", ">"),
	}, func(context.Context, *wims.Message) error { return wims.Permanent(errors.New("no")) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if _, err := b.Publish(context.Background(), wims.Outgoing{Subject: b.Subject("payments", "o1"), ID: "p1", Data: []byte(`{"orderId":"o1"}`)}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *wimshttp.Options) { o.DeadLetters = b })
	var seq float64
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := e.do("GET", "/dead-letters", "").wantJSON(t, http.StatusOK)
		if dls := m["deadLetters"].([]any); len(dls) == 1 {
			seq = dls[0].(map[string]any)["seq"].(float64)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no dead letter")
		}
		time.Sleep(20 * time.Millisecond) // polling the API, not waiting for work
	}
	path := fmt.Sprintf("/dead-letters/%d/redrive", int(seq))
	m := e.do("POST", path+"?dry-run=true", "").wantJSON(t, http.StatusOK)
	if m["status"] != "would-redrive" || m["deadLetter"].(map[string]any)["consumer"] != "payments" {
		t.Fatalf("dry run = %v", m)
	}
	if dls := e.do("GET", "/dead-letters", "").wantJSON(t, http.StatusOK)["deadLetters"].([]any); len(dls) != 1 {
		t.Fatalf("dry run changed the dead letters: %v", dls)
	}
	for q, field := range map[string]string{"?dry-run=yes": "dry-run", "?dry-run=true&dry-run=false": "dry-run", "?dryrun=true": "dryrun", "?dry-run=": "dry-run"} {
		e.do("POST", path+q, "").wantProblem(t, http.StatusBadRequest, "validation-error", field)
	}
	e.do("POST", "/dead-letters/999/redrive?dry-run=true", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	e.do("POST", path, "").wantJSON(t, http.StatusAccepted)
	// The consumer fails again, so a new dead letter may appear; the
	// redriven one is gone.
	for _, dl := range e.do("GET", "/dead-letters", "").wantJSON(t, http.StatusOK)["deadLetters"].([]any) {
		if dl.(map[string]any)["seq"].(float64) == seq {
			t.Fatalf("redrive left dead letter %v", dl)
		}
	}
}

// TestDeadLettersBulk: dead letters of two consumers are listed by filter
// and page; a bulk purge and a bulk redrive touch only what their filter
// selects, and their dry runs change nothing.
func TestDeadLettersBulk(t *testing.T) {
	ctx := context.Background()
	b := natstest.Open(t)
	var redriven atomic.Int32
	for _, c := range []struct{ stream, durable, reason string }{
		{nats.Payments, "payments", "card declined"},
		{nats.Deliveries, "deliveries", "Timeout calling the endpoint"},
	} {
		cons, err := b.Consume(ctx, nats.ConsumerSpec{Stream: c.stream, Durable: c.durable, FilterSubject: b.Subject(strings.ToLower(c.stream), ">")},
			func(_ context.Context, m *wims.Message) error {
				if m.Header[wims.HeaderRedrivenAt] != "" {
					redriven.Add(1)
					return nil
				}
				return wims.Permanent(errors.New(c.reason))
			})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cons.Stop)
	}
	for i := range 3 {
		mustPublish(t, b, b.Subject("payments", "o"), fmt.Sprintf("p%d", i))
	}
	for i := range 2 {
		mustPublish(t, b, b.Subject("deliveries", "t"), fmt.Sprintf("d%d", i))
	}
	e := newEnv(t, func(o *wimshttp.Options) { o.DeadLetters = b })
	count := func(q string) int {
		return len(e.do("GET", "/dead-letters?"+q, "").wantJSON(t, http.StatusOK)["deadLetters"].([]any))
	}
	eventuallyAPI(t, func() bool { return count("") == 5 })

	if n := count("consumer=payments"); n != 3 {
		t.Fatalf("payments dead letters = %d", n)
	}
	if n := count("reason=TIMEOUT&since=1h"); n != 2 {
		t.Fatalf("dead letters with a timeout = %d", n)
	}
	first := e.do("GET", "/dead-letters?limit=3", "").wantJSON(t, http.StatusOK)
	cursor, _ := first["cursor"].(string)
	if len(first["deadLetters"].([]any)) != 3 || cursor == "" || count("limit=3&cursor="+cursor) != 2 {
		t.Fatalf("pages: %v", first)
	}

	dry := e.do("POST", "/dead-letters/purge?dry-run=true", `{"consumer":"payments"}`).wantJSON(t, http.StatusOK)
	if dry["status"] != "would-purge" || dry["count"].(float64) != 3 || count("") != 5 {
		t.Fatalf("purge dry run = %v (left %d)", dry, count(""))
	}
	purged := e.do("POST", "/dead-letters/purge", `{"consumer":"payments"}`).wantJSON(t, http.StatusOK)
	if purged["status"] != "purged" || purged["count"].(float64) != 3 || count("") != 2 || count("consumer=payments") != 0 {
		t.Fatalf("purge = %v (left %d)", purged, count(""))
	}
	re := e.do("POST", "/dead-letters/redrive", `{"reason":"timeout","limit":10}`).wantJSON(t, http.StatusOK)
	if re["status"] != "redriven" || re["count"].(float64) != 2 || re["more"] != false {
		t.Fatalf("bulk redrive = %v", re)
	}
	eventuallyAPI(t, func() bool { return redriven.Load() == 2 && count("") == 0 })

	e.do("DELETE", "/dead-letters/999", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	e.do("POST", "/dead-letters/redrive", `{"limit":5000}`).wantProblem(t, http.StatusBadRequest, "validation-error", "limit")
	e.do("POST", "/dead-letters/purge", `{"since":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "until")
	e.do("GET", "/dead-letters?since=x", "").wantProblem(t, http.StatusBadRequest, "validation-error", "since")
	e.do("GET", "/dead-letters?cursor=x", "").wantProblem(t, http.StatusBadRequest, "validation-error", "cursor")
}

func mustPublish(t *testing.T, b *nats.Bus, subject, id string) {
	t.Helper()
	if _, err := b.Publish(context.Background(), wims.Outgoing{Subject: subject, ID: id, Data: []byte(`{"id":"` + id + `"}`)}); err != nil {
		t.Fatal(err)
	}
}

// eventuallyAPI polls the API until ok holds (10 s at most).
func eventuallyAPI(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the API, not waiting for work
	}
}
