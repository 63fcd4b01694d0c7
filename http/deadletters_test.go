package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
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
