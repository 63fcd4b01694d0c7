package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// publishResult counts a publish and remembers whether the last one
// failed: JetStream answers its API while it cannot store a message (a
// full disk), so only writes tell that it is failing.
func (b *Bus) publishResult(result string) { b.publishResults(result, 1) }

// publishResults is publishResult for n messages with the same result.
func (b *Bus) publishResults(result string, n int) {
	b.met.publish.WithLabelValues(result).Add(float64(n))
	if result == "error" {
		b.pubFailed.Store(true)
	} else {
		b.pubFailed.Store(false)
	}
}

// Check reports whether the bus can take messages: connected, JetStream
// answering, and, if the last publish failed, a probe write to the leaders
// bucket succeeding (within 2 s each). The embedded server shuts its
// JetStream down on some storage failures; superviseJetStream brings it
// back.
func (b *Bus) Check(ctx context.Context) error {
	if b.srv != nil && !b.srv.server().JetStreamEnabled() {
		return errors.New("nats: the embedded JetStream is shut down (out of disk space?); wims restarts it when space is back")
	}
	for _, c := range []*natsgo.Conn{b.nc, b.pc} {
		if st := c.Status(); st != natsgo.CONNECTED {
			return fmt.Errorf("nats: connection %s %s", c.Opts.Name, st)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := b.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("nats: jetstream: %w", err)
	}
	if !b.pubFailed.Load() {
		return nil
	}
	if err := b.probe(); err != nil {
		return fmt.Errorf("nats: publishes fail (disk full?): probe write: %w", err)
	}
	b.pubFailed.Store(false)
	return nil
}

// recoverEvery is how often a shut-down embedded JetStream is retried.
const recoverEvery = 2 * time.Second

// minFreeToRecover is the free space the store's file system needs before
// JetStream is started again: started on a full disk, it sizes its store
// limit from the little space there is and stays unusable after space
// comes back.
const minFreeToRecover = 16 << 20

// superviseJetStream keeps the embedded server's JetStream usable after
// the disk filled up, until the bus closes. Two failures need it: the
// server may shut JetStream down on a storage error and never start it
// again; and, more often, a file store that hit ENOSPC keeps failing every
// write after space is back (the error sticks to the open block). So once
// the store's file system has room, the embedded server is restarted if
// its JetStream is shut down or its writes still fail (a probe to the
// leaders bucket), which reopens every store. The connections reconnect to
// the new server, streams and consumers come back from disk, consumers'
// pull loops recreate their subscriptions, and the relay and the
// reconciler republish from the database whatever the outage kept off the
// bus.
func (b *Bus) superviseJetStream() {
	t := time.NewTicker(recoverEvery)
	defer t.Stop()
	down := false
	for {
		select {
		case <-b.closed:
			return
		case <-b.stopSupervisor:
			return
		case <-t.C:
		}
		enabled := b.srv.server().JetStreamEnabled()
		if enabled && !b.pubFailed.Load() {
			if down {
				b.log.Info("embedded JetStream stores messages again")
				down = false
			}
			continue
		}
		if free, ok := freeBytes(b.cfg.StoreDir); ok && free < minFreeToRecover {
			if !down {
				b.log.Error("embedded JetStream cannot store messages: the disk is full; wims restarts it when there is room", "store", b.cfg.StoreDir)
				down = true
			}
			continue
		}
		if enabled {
			if b.probe() == nil {
				b.pubFailed.Store(false)
				continue
			}
			b.log.Warn("embedded JetStream still fails to store with room on disk; restarting it")
		}
		down = true
		if err := b.srv.restart(); err != nil {
			b.log.Warn("embedded JetStream did not restart; retrying", "err", err)
		}
	}
}

// probe writes to the leaders bucket, the one write that changes nothing
// anyone reads.
func (b *Bus) probe() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	kv, err := b.js.KeyValue(ctx, b.leadersBucket())
	if err == nil {
		_, err = kv.Put(ctx, "health-probe", []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	}
	return err
}
