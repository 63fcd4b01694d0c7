package platform_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
)

// benchRig is the platform on an embedded bus whose fsync policy is the
// one wims serve defaults to (SyncAlways) unless sync is false.
func benchRig(b *testing.B, sync bool) *archiveRig {
	bus := natstest.OpenConfig(b, nats.Config{StoreDir: b.TempDir(), SyncAlways: sync})
	svc := platformtest.OnBus(b, platformtest.Store(b), bus)
	cat := platform.NewCatalog(svc, 0, nil)
	return &archiveRig{bus: bus, svc: svc, cat: cat,
		fan: &platform.Fanout{Catalog: cat, Bus: bus, Deliveries: bus.Subject("deliveries", "targets")}}
}

func benchEvent(bus *nats.Bus, i int) *wims.Message {
	id := fmt.Sprintf("ev-%08d", i)
	return &wims.Message{Subject: bus.Subject("events", "bus", "default"), ID: id, Header: map[string]string{},
		Data: fmt.Appendf(nil, `{"version":"0","id":%q,"source":"shop","detail-type":"Sale","account":"000000000000","time":"2026-12-02T00:00:00Z","region":"local","resources":[],"detail":{"orderId":"o-%d","amount":12.5,"sku":"WIDGET"}}`, id, i)}
}

// BenchmarkFanoutArchive is the fan-out's cost per event without an
// archive, and with one or two archives on the bus (the archive's
// overhead: one stored copy per archive that keeps the event). 16 events
// in flight, as the fan-out consumer runs them.
func BenchmarkFanoutArchive(b *testing.B) {
	for _, sync := range []bool{false, true} {
		for _, archives := range []int{0, 1, 2} {
			b.Run(fmt.Sprintf("sync=%v/archives=%d", sync, archives), func(b *testing.B) {
				ctx := context.Background()
				r := benchRig(b, sync)
				for i := range archives {
					if _, err := r.svc.CreateArchive(ctx, wims.Archive{Name: fmt.Sprintf("a%d", i), EventPattern: `{"source":["shop"]}`}); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := r.cat.Load(ctx); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.SetParallelism(8) // 16 goroutines on 2 cores
				var n atomicCounter
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := r.fan.Handle(ctx, benchEvent(r.bus, n.next())); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}

// BenchmarkReplay is a replay's rate: events read from the archive and
// handed, in order, to a log-group target (the recorder, so the target's
// own cost is not counted).
func BenchmarkReplay(b *testing.B) {
	ctx := context.Background()
	r := benchRig(b, false)
	if _, err := r.svc.PutRule(ctx, wims.Rule{Name: "r", EventPattern: `{"source":["shop"]}`}); err != nil {
		b.Fatal(err)
	}
	if _, err := r.svc.PutTargets(ctx, "", "r", []wims.Target{{ID: "log", Arn: wims.LogGroupARN("g")}}); err != nil {
		b.Fatal(err)
	}
	if _, err := r.svc.CreateArchive(ctx, wims.Archive{Name: "all"}); err != nil {
		b.Fatal(err)
	}
	if _, err := r.cat.Load(ctx); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := range b.N {
		if err := r.fan.Handle(ctx, benchEvent(r.bus, i)); err != nil {
			b.Fatal(err)
		}
	}
	rec := &logRecorder{events: map[string][]map[string]any{}}
	b.ReportAllocs()
	b.ResetTimer()
	if _, err := r.svc.StartReplay(ctx, wims.Replay{Name: "bench", Archive: "all", EventStartTime: start, EventEndTime: time.Now().Add(time.Hour),
		Destination: wims.ReplayDestination{Arn: wims.BusARN("default")}}); err != nil {
		b.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	rp := r.replayer(rec, nil)
	rp.Poll, rp.Batch = time.Millisecond, 256
	go func() { done <- rp.Run(rctx) }()
	for {
		got, err := r.svc.DescribeReplay(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if got.State == wims.ReplayCompleted {
			break
		}
		time.Sleep(time.Millisecond) // polling for the end of the measured work
	}
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if n := len(rec.ids("g")); n != b.N {
		b.Fatalf("replayed %d of %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// atomicCounter numbers events across benchmark goroutines.
type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() int { return int(c.n.Add(1)) }

// BenchmarkFanoutDiscovery is schema discovery's cost per event in the
// fan-out: without a discoverer, with one on a bus whose events all have
// one shape (the steady state: a fingerprint and a lookup), and with
// events of ever-new shapes (each is copied to the merge queue; when the
// queue is full the event is skipped).
func BenchmarkFanoutDiscovery(b *testing.B) {
	for _, mode := range []string{"off", "same-shape", "new-shapes"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			r := benchRig(b, false)
			if mode != "off" {
				disc := platform.NewDiscovery(r.svc, nil)
				r.fan.Discovery = disc
				runCtx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() { defer close(done); _ = disc.Run(runCtx) }()
				b.Cleanup(func() { cancel(); <-done })
				if err := r.svc.EnsureDefaultDiscoverer(ctx); err != nil {
					b.Fatal(err)
				}
			}
			if _, err := r.cat.Load(ctx); err != nil {
				b.Fatal(err)
			}
			event := benchEvent
			if mode == "new-shapes" {
				event = func(bus *nats.Bus, i int) *wims.Message {
					m := benchEvent(bus, i)
					m.Data = fmt.Appendf(nil, `{"version":"0","id":"x","source":"shop","detail-type":"Sale","detail":{"f%d":1}}`, i)
					return m
				}
			}
			// Warm up: the shape is merged once.
			if err := r.fan.Handle(ctx, event(r.bus, -1)); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(8)
			var n atomicCounter
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := r.fan.Handle(ctx, event(r.bus, n.next())); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkDiscoveryObserve is what discovery adds to each event of a
// known shape, alone: its fingerprint, key and lookup.
func BenchmarkDiscoveryObserve(b *testing.B) {
	r := benchRig(b, false)
	disc := platform.NewDiscovery(r.svc, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = disc.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	if err := r.svc.EnsureDefaultDiscoverer(context.Background()); err != nil {
		b.Fatal(err)
	}
	ev := benchEvent(r.bus, 1).Data
	disc.Observe(ev)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := r.svc.DescribeSchema(context.Background(), wims.DiscoveredRegistry, "shop@Sale", ""); err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the first event was not merged")
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(ev)))
	b.ResetTimer()
	for range b.N {
		disc.Observe(ev)
	}
}
