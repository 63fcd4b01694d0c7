package nats_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// TestConcurrentStartOnFreshCluster starts two instances' buses at the same
// moment against a new 3-node cluster and namespace, as a deployment does:
// stream, bucket and consumer creation race and meet a cluster still electing
// leaders, and both must come up (they used to fail with a timeout).
func TestConcurrentStartOnFreshCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	urls, _ := natstest.Cluster(t, 3)
	ns := natstest.Namespace()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := nats.Open(ctx, nats.Config{URLs: urls, Namespace: ns, Replicas: 3})
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(func() { b.Close() })
			if _, err := b.Leadership(ctx, "instance-"+string(rune('a'+i)), time.Second); err != nil {
				errs[i] = err
				return
			}
			c, err := b.Consume(ctx, nats.ConsumerSpec{
				Stream: nats.Events, Durable: "shared", FilterSubject: b.Subject("events", ">"),
			}, func(context.Context, *wims.Message) error { return nil })
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(c.Stop)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
}
