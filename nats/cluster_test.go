package nats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

func TestCluster_SurvivesNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	urls, servers := natstest.Cluster(t, 3)
	b := natstest.OpenConfig(t, nats.Config{URLs: urls, Replicas: 3})
	ctx := ctxT(t)
	subj := b.Subject("events", "cdc")
	mustPublish(t, b, nats.Outgoing{Subject: subj, ID: "before", Data: []byte("1")})

	s, err := b.JetStream().Stream(ctx, b.Stream(nats.Events))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.Replicas; got != 3 {
		t.Fatalf("replicas %d", got)
	}
	// Kill the stream leader: the hardest node to lose.
	leader := s.CachedInfo().Cluster.Leader
	idx := -1
	for i, srv := range servers {
		if srv.Name() == leader {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("leader %q not among the servers", leader)
	}
	servers[idx].Shutdown()
	servers[idx].WaitForShutdown()

	waitFor(t, 20*time.Second, func() error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, err := b.Publish(pctx, nats.Outgoing{Subject: subj, ID: "after", Data: []byte("2")})
		return err
	})
	m, err := b.LastMessage(ctx, subj)
	if err != nil || m == nil || m.ID != "after" {
		t.Fatalf("last message after node loss: %+v, %v", m, err)
	}

	// The node comes back and catches up.
	servers[idx] = natstest.Restart(t, servers[idx])
	waitFor(t, 20*time.Second, func() error {
		if !servers[idx].JetStreamIsStreamCurrent("$G", b.Stream(nats.Events)) {
			return fmt.Errorf("restarted node not current")
		}
		return nil
	})
}
