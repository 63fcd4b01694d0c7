package nats_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// A consumer with FilterSubjects gets only their messages, also when it was
// created before with FilterSubject alone (a wims upgrade keeps the durable
// consumer and its position).
func TestConsume_FilterSubjectsNarrowTheFilter(t *testing.T) {
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir()})
	wide := b.Subject("events", ">")
	cdc, def, other := b.Subject("events", "cdc"), b.Subject("events", "bus", "default"), b.Subject("events", "bus", "other")

	// Before: the whole stream.
	var before recorder
	c := consume(t, b, nats.ConsumerSpec{Stream: nats.Events, Durable: "lane", FilterSubject: wide}, before.handle)
	mustPublish(t, b, nats.Outgoing{Subject: other, ID: "o1", Data: []byte("{}")})
	waitCalls(t, &before, 1)
	c.Stop()

	var after recorder
	consume(t, b, nats.ConsumerSpec{Stream: nats.Events, Durable: "lane", FilterSubject: wide, FilterSubjects: []string{cdc, def}}, after.handle)
	for i, subj := range []string{other, cdc, other, def, other} {
		mustPublish(t, b, nats.Outgoing{Subject: subj, ID: fmt.Sprint("m", i), Data: []byte("{}")})
	}
	waitCalls(t, &after, 2)
	info, err := b.JetStream().Consumer(ctxT(t), b.Stream(nats.Events), b.Namespace()+"_lane")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := info.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ci.Config.FilterSubjects, []string{cdc, def}) || ci.NumPending != 0 {
		t.Fatalf("consumer filters %v, %d pending; want [%s %s], none", ci.Config.FilterSubjects, ci.NumPending, cdc, def)
	}
	// The events after the last wanted one were skipped by the server, not
	// handed to the handler.
	waitBacklogEmpty(t, b, nats.Events, "lane")
	calls, _ := after.snapshot()
	var got []string
	for _, m := range calls {
		got = append(got, m.Subject)
	}
	if !slices.Equal(got, []string{cdc, def}) {
		t.Fatalf("handled %v, want [%s %s]", got, cdc, def)
	}
}
