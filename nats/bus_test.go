package nats_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

func TestOpen_RestartKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	cfg := nats.Config{StoreDir: dir, SyncAlways: true, Namespace: "wims"}
	b, err := nats.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	subj := b.Subject("events", "cdc")
	if got, want := subj, "wims.events.cdc"; got != want {
		t.Fatalf("Subject=%q, want %q", got, want)
	}
	if got, want := b.Stream(nats.Events), "WIMS_EVENTS"; got != want {
		t.Fatalf("Stream=%q, want %q", got, want)
	}
	mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "e1", Data: []byte("one"), Header: map[string]string{"K": "v"}})
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil { // idempotent
		t.Fatal(err)
	}

	b, err = nats.Open(ctx, cfg) // same store, streams updated in place
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := b.LastMessage(ctx, subj)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || string(m.Data) != "one" || m.ID != "e1" || m.Header["K"] != "v" || m.Seq != 1 {
		t.Fatalf("after restart: %+v", m)
	}
	// The dedupe table survives the restart too.
	dup, err := b.Publish(ctx, nats.Outgoing{Subject: subj, ID: "e1", Data: []byte("one")})
	if err != nil || !dup {
		t.Fatalf("republish after restart: dup=%v err=%v", dup, err)
	}
}

func TestOpen_InvalidConfig(t *testing.T) {
	ctx := ctxT(t)
	for name, cfg := range map[string]nats.Config{
		"NoStoreDir":       {},
		"BadNamespace":     {StoreDir: t.TempDir(), Namespace: "a.b"},
		"EmbeddedReplicas": {StoreDir: t.TempDir(), Replicas: 3},
	} {
		t.Run(name, func(t *testing.T) {
			if b, err := nats.Open(ctx, cfg); err == nil {
				b.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
}

func TestPublish_Dedupe(t *testing.T) {
	b := natstest.Open(t)
	ctx := ctxT(t)
	subj := b.Subject("events", "cdc")
	for i, want := range []bool{false, true, true} {
		dup, err := b.Publish(ctx, nats.Outgoing{Subject: subj, ID: "same", Data: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		if dup != want {
			t.Fatalf("publish %d: duplicate=%v, want %v", i, dup, want)
		}
	}
	if got := streamMsgs(t, b, nats.Events); got != 1 {
		t.Fatalf("stream has %d messages, want 1", got)
	}
	// Without an id there is no dedupe.
	mustPublish(t, b, nats.Outgoing{Subject: subj, Data: []byte("x")})
	mustPublish(t, b, nats.Outgoing{Subject: subj, Data: []byte("x")})
	if got := streamMsgs(t, b, nats.Events); got != 3 {
		t.Fatalf("stream has %d messages, want 3", got)
	}
}

func TestPublish_NoStream(t *testing.T) {
	b := natstest.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := b.Publish(ctx, nats.Outgoing{Subject: "nowhere.at.all", Data: []byte("x")}); err == nil {
		t.Fatal("publish to a subject without a stream succeeded")
	}
}

func TestPublishBatch_OrderAndCount(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := natstest.OpenConfig(t, nats.Config{StoreDir: t.TempDir(), Registry: reg})
	ctx := ctxT(t)
	subj := b.Subject("events", "cdc")
	const n = 5000 // more than the in-flight window
	ms := make([]nats.Outgoing, n)
	for i := range ms {
		ms[i] = nats.Outgoing{Subject: subj, ID: "id-" + strconv.Itoa(i), Data: []byte(strconv.Itoa(i))}
	}
	start := time.Now()
	got, err := b.PublishBatch(ctx, ms)
	if err != nil || got != n {
		t.Fatalf("PublishBatch = %d, %v; want %d, nil", got, err, n)
	}
	t.Logf("PublishBatch: %d messages in %s", n, time.Since(start))

	// Stored in order: sequence i+1 holds message i.
	recent, err := b.Recent(ctx, subj, n, n, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recent) != n {
		t.Fatalf("Recent returned %d, want %d", len(recent), n)
	}
	for j, m := range recent {
		i := n - 1 - j
		if string(m.Data) != strconv.Itoa(i) || m.Seq != uint64(i+1) || m.ID != "id-"+strconv.Itoa(i) {
			t.Fatalf("recent[%d] = seq %d %q (%s), want message %d", j, m.Seq, m.Data, m.ID, i)
		}
	}

	// A replay of the same batch is all duplicates, and counts as stored.
	got, err = b.PublishBatch(ctx, ms[:100])
	if err != nil || got != 100 {
		t.Fatalf("replay = %d, %v", got, err)
	}
	if got := streamMsgs(t, b, nats.Events); got != n {
		t.Fatalf("stream has %d messages, want %d", got, n)
	}
	if got := counter(t, reg, "wims_bus_publish_total", map[string]string{"result": "duplicate"}); got != 100 {
		t.Fatalf("duplicate publishes = %v, want 100", got)
	}

	// A failure stops the count at the first message not stored.
	bad := append([]nats.Outgoing{}, ms[:3]...)
	bad = append(bad, nats.Outgoing{Subject: "nowhere.at.all", Data: []byte("x")})
	bad = append(bad, ms[4:6]...)
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err = b.PublishBatch(short, bad)
	if err == nil || got != 3 {
		t.Fatalf("batch with a bad subject = %d, %v; want 3 and an error", got, err)
	}
}

// counter returns the value of the counter name with the given labels in reg
// (0 if absent).
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func TestLastMessage(t *testing.T) {
	b := natstest.Open(t)
	ctx := ctxT(t)
	a, c := b.Subject("events", "a"), b.Subject("events", "c")
	if m, err := b.LastMessage(ctx, a); err != nil || m != nil {
		t.Fatalf("empty stream: %v, %v", m, err)
	}
	mustPublish(t, b, nats.Outgoing{Subject: a, ID: "1", Data: []byte("a1")})
	mustPublish(t, b, nats.Outgoing{Subject: c, ID: "2", Data: []byte("c1")})
	mustPublish(t, b, nats.Outgoing{Subject: a, ID: "3", Data: []byte("a2")})
	mustPublish(t, b, nats.Outgoing{Subject: c, ID: "4", Data: []byte("c2")})
	m, err := b.LastMessage(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if m == nil || string(m.Data) != "a2" || m.Seq != 3 || m.ID != "3" || m.Subject != a {
		t.Fatalf("LastMessage = %+v", m)
	}
	if _, err := b.LastMessage(ctx, b.Subject("events", ">")); err == nil {
		t.Fatal("wildcard accepted")
	}
	if _, err := b.LastMessage(ctx, "other.events.a"); err == nil {
		t.Fatal("foreign subject accepted")
	}
}

func TestRecent_FilterAndLimit(t *testing.T) {
	b := natstest.Open(t)
	ctx := ctxT(t)
	x, y := b.Subject("eventlog", "x"), b.Subject("eventlog", "y")
	var ms []nats.Outgoing
	for i := range 300 {
		s := x
		if i%3 != 0 {
			s = y
		}
		ms = append(ms, nats.Outgoing{Subject: s, Data: []byte(strconv.Itoa(i)), Header: map[string]string{"N": strconv.Itoa(i)}})
	}
	if n, err := b.PublishBatch(ctx, ms); err != nil || n != len(ms) {
		t.Fatal(n, err)
	}

	t.Run("SubjectNewestFirst", func(t *testing.T) {
		got, err := b.Recent(ctx, x, 5, 10_000, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertData(t, got, 297, 294, 291, 288, 285)
		if got[0].Subject != x || got[0].Header["N"] != "297" {
			t.Fatalf("first = %+v", got[0])
		}
		if _, ok := got[0].Header["Nats-Sequence"]; ok {
			t.Fatal("direct-get headers leak into Header")
		}
	})
	t.Run("Wildcard", func(t *testing.T) {
		got, err := b.Recent(ctx, b.Subject("eventlog", ">"), 3, 10_000, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertData(t, got, 299, 298, 297)
	})
	t.Run("Keep", func(t *testing.T) {
		keep := func(m *wims.Message) bool { n, _ := strconv.Atoi(string(m.Data)); return n%10 == 0 }
		got, err := b.Recent(ctx, b.Subject("eventlog", ">"), 4, 10_000, keep)
		if err != nil {
			t.Fatal(err)
		}
		assertData(t, got, 290, 280, 270, 260)
	})
	t.Run("ScanMax", func(t *testing.T) {
		// scanMax bounds the messages read, whatever keep makes of them:
		// the last 10 (290..299) hold one multiple of 10.
		keep := func(m *wims.Message) bool { n, _ := strconv.Atoi(string(m.Data)); return n%10 == 0 }
		got, err := b.Recent(ctx, b.Subject("eventlog", ">"), 100, 10, keep)
		if err != nil {
			t.Fatal(err)
		}
		assertData(t, got, 290)
		// On a subject the server filters, only its messages count.
		got, err = b.Recent(ctx, x, 100, 3, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertData(t, got, 297, 294, 291)
	})
	t.Run("All", func(t *testing.T) {
		got, err := b.Recent(ctx, x, 1000, 10_000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 100 {
			t.Fatalf("got %d, want 100", len(got))
		}
	})
	t.Run("Empty", func(t *testing.T) {
		got, err := b.Recent(ctx, b.Subject("dlq", ">"), 10, 100, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("%v, %v", got, err)
		}
	})
}

func assertData(t *testing.T, got []*wims.Message, want ...int) {
	t.Helper()
	var g []string
	for _, m := range got {
		g = append(g, string(m.Data))
	}
	var w []string
	for _, n := range want {
		w = append(w, strconv.Itoa(n))
	}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Fatalf("got %v, want %v", g, w)
	}
}

func BenchmarkRecent(b *testing.B) {
	bus := natstest.Open(b)
	ctx := context.Background()
	subj := bus.Subject("eventlog", "cdc")
	ms := make([]nats.Outgoing, 20_000)
	for i := range ms {
		ms[i] = nats.Outgoing{Subject: subj, Data: make([]byte, 1024)}
	}
	if _, err := bus.PublishBatch(ctx, ms); err != nil {
		b.Fatal(err)
	}
	b.Run("Limit100", func(b *testing.B) {
		for b.Loop() {
			if got, err := bus.Recent(ctx, subj, 100, 10_000, nil); err != nil || len(got) != 100 {
				b.Fatal(len(got), err)
			}
		}
	})
	b.Run("Limit100Keep1pct", func(b *testing.B) {
		n := 0
		keep := func(*wims.Message) bool { n++; return n%100 == 0 }
		for b.Loop() {
			if _, err := bus.Recent(ctx, subj, 100, 10_000, keep); err != nil {
				b.Fatal(err)
			}
		}
	})
}
