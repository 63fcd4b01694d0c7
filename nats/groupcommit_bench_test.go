package nats

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
)

// BenchmarkPublishConcurrent compares single publishes from 64 goroutines
// with and without group commit, with an fsync per stored write.
func BenchmarkPublishConcurrent(b *testing.B) {
	for _, grouped := range []bool{true, false} {
		b.Run("grouped="+strconv.FormatBool(grouped), func(b *testing.B) {
			ctx := context.Background()
			bus, err := Open(ctx, Config{StoreDir: b.TempDir(), SyncAlways: true, Namespace: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer bus.Close()
			if !grouped {
				bus.batchable.set(bus.Stream(EventLog), false)
			}
			subj := bus.Subject("eventlog", "events")
			var n atomic.Int64
			b.SetParallelism(32) // × GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					id := strconv.FormatInt(n.Add(1), 10)
					if _, err := bus.Publish(ctx, Outgoing{Subject: subj, ID: id, Data: []byte(`{"x":1}`)}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
