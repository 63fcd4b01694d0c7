package relay_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/sqlite"
)

// BenchmarkRelayPublish measures how fast the relay drains a backlog of
// b.N order inserts from the change log to an embedded JetStream bus:
// changes/s is the relay's ceiling, which must stay well above the rate of
// changes the accept path and the workflow make, or end-to-end latency
// grows without bound. "fast" is the tests' bus (no fsync); "durable" is
// `wims serve`'s default, SyncAlways, which fsyncs every message.
func BenchmarkRelayPublish(b *testing.B) {
	b.Run("fast", func(b *testing.B) { benchRelayPublish(b, false) })
	b.Run("durable", func(b *testing.B) { benchRelayPublish(b, true) })
}

func benchRelayPublish(b *testing.B, durable bool) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(b.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	bus := natstest.OpenConfig(b, nats.Config{StoreDir: b.TempDir(), SyncAlways: durable})
	subject := bus.Subject("events", "cdc")

	// The backlog: b.N order inserts, written by 16 concurrent callers.
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < b.N; i += 16 {
				o := wims.Order{ID: fmt.Sprintf("o-%d", i), CustomerID: "c", SKU: wims.DefaultSKU, Quantity: 1, Status: wims.OrderPending}
				if _, _, err := store.CreateOrder(ctx, o); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	changes, err := store.ReadChanges(ctx, 0, 1<<30)
	if err != nil || len(changes) == 0 {
		b.Fatalf("read changes: %d, %v", len(changes), err)
	}
	last := changes[len(changes)-1].Seq

	b.ResetTimer()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.New(relay.Options{Log: store, Bus: bus, Subject: subject}).Run(rctx) }()
	for {
		m, err := bus.LastMessage(ctx, subject)
		if err != nil {
			b.Fatal(err)
		}
		if m != nil {
			if seq, _ := strconv.ParseInt(m.Header[wims.HeaderChangeSeq], 10, 64); seq >= last {
				break
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	<-done
	b.ReportMetric(float64(len(changes))/b.Elapsed().Seconds(), "changes/s")
}
