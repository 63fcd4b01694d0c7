package nats

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A consumer's pull request sometimes vanishes from the server while the
// client still counts it as open: the consumer then has messages pending,
// none in flight and no waiting request, and nothing arrives until the
// missed heartbeat (two intervals, a second) restarts the iterator. It
// happens about twice per 4,000-order burst (BENCHMARKS.md, "Pipeline
// burst"); nats.go issue 1622 reports the same state. The stall watch
// notices it sooner: while the iterator has waited in vain for
// stallAfter, it asks the server, and restarts the iterator if the server
// holds no pull request of the consumer but has messages for it.

// stallAfter is how long the iterator may wait for a message before the
// server is asked whether it still holds the pull request; far above the
// round trip of a new pull request, far below the heartbeat's second.
const stallAfter = 150 * time.Millisecond

// stallActive bounds the watch to consumers that received a message this
// recently: an idle consumer waits legitimately, and is left to the
// heartbeat.
const stallActive = 5 * time.Second

// stallWatch is one consumer's view of its iterator for the watch.
type stallWatch struct {
	waitingSince atomic.Int64 // unix ns the iterator started waiting, 0 while it is not
	lastMsg      atomic.Int64 // unix ns of the last message
	iter         atomic.Pointer[jetstream.MessagesContext]
	cons         atomic.Pointer[jetstream.Consumer]
	stopped      atomic.Bool // the watch stopped the iterator: restart at once
}

// set records the iterator (and its consumer) that run is reading.
func (w *stallWatch) set(cons jetstream.Consumer, it jetstream.MessagesContext) {
	w.cons.Store(&cons)
	w.iter.Store(&it)
}

// next calls it.Next, recording the wait.
func (w *stallWatch) next(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	w.waitingSince.Store(time.Now().UnixNano())
	msg, err := it.Next(jetstream.NextContext(ctx))
	w.waitingSince.Store(0)
	if msg != nil {
		w.lastMsg.Store(time.Now().UnixNano())
	}
	return msg, err
}

// watch checks the consumer every stallAfter/2 until ctx ends and stops an
// iterator whose pull request the server lost, which makes run restart it.
func (c *Consumer) watch(ctx context.Context) {
	t := time.NewTicker(stallAfter / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if c.stalled(ctx) {
			c.b.log.Debug("consumer's pull request lost by the server, restarting", "consumer", c.spec.Durable)
			c.b.met.stalls.WithLabelValues(c.spec.Durable).Inc()
			if it := c.sw.iter.Load(); it != nil {
				c.sw.stopped.Store(true)
				(*it).Stop()
			}
		}
	}
}

// stalled reports whether the iterator has been waiting for stallAfter,
// after recent messages, while the server has messages for the consumer
// and no pull request from it.
func (c *Consumer) stalled(ctx context.Context) bool {
	now := time.Now().UnixNano()
	since := c.sw.waitingSince.Load()
	if since == 0 || now-since < int64(stallAfter) || now-c.sw.lastMsg.Load() > int64(stallActive) {
		return false
	}
	cons := c.sw.cons.Load()
	if cons == nil {
		return false
	}
	ictx, cancel := context.WithTimeout(ctx, readTimeout)
	defer cancel()
	info, err := (*cons).Info(ictx)
	if err != nil {
		return false // the heartbeat still covers it
	}
	// Checked again: a message may have come while the server answered.
	return info.NumWaiting == 0 && info.NumPending > 0 && c.sw.waitingSince.Load() == since
}
