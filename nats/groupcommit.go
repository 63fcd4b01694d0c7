package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Group commit for single publishes. Under --bus-sync always the server
// fsyncs every message it stores, and handlers that publish one message each
// (the event log's copies, the workflow's payment requests) wait for one
// fsync apiece. Publish therefore queues a message for an atomic-capable
// stream and one flusher per stream sends whatever has queued as one atomic
// batch: an idle bus sends a message at once, a busy one sends many per
// fsync, and every caller still returns only once its message is stored.

// groupCommit is the queue of one stream.
type groupCommit struct {
	mu       sync.Mutex
	pending  []*pubReq
	flushing bool // a flusher goroutine is running
}

// pubReq is one queued Publish and, once done is closed, its result.
type pubReq struct {
	m    Outgoing
	done chan struct{}
	dup  bool
	err  error
}

func (r *pubReq) finish(dup bool, err error) {
	r.dup, r.err = dup, err
	close(r.done)
}

// group returns the queue of stream.
func (b *Bus) group(stream string) *groupCommit {
	if g, ok := b.groups.Load(stream); ok {
		return g.(*groupCommit)
	}
	g, _ := b.groups.LoadOrStore(stream, &groupCommit{})
	return g.(*groupCommit)
}

// publishGrouped queues m for stream and waits for its result. If ctx ends
// first it returns ctx's error; m may be stored all the same, which a
// caller that retries with the same id cannot tell from a first store.
func (b *Bus) publishGrouped(ctx context.Context, stream string, m Outgoing) (bool, error) {
	req := &pubReq{m: m, done: make(chan struct{})}
	g := b.group(stream)
	g.mu.Lock()
	g.pending = append(g.pending, req)
	if !g.flushing {
		g.flushing = true
		go b.flush(g)
	}
	g.mu.Unlock()
	select {
	case <-req.done:
		return req.dup, req.err
	case <-ctx.Done():
		return false, fmt.Errorf("nats: publish %s: %w", m.Subject, ctx.Err())
	}
}

// flush sends g's queue in batches until it is empty, then ends.
func (b *Bus) flush(g *groupCommit) {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxAtomicBatch)
		if n == 0 {
			g.flushing = false
			g.mu.Unlock()
			return
		}
		batch := g.pending[:n:n]
		g.pending = append([]*pubReq(nil), g.pending[n:]...)
		g.mu.Unlock()
		b.commit(batch)
	}
}

// commit stores batch: a lone message by a plain publish (whose ack tells
// a duplicate), more as one atomic batch, and, if the server refuses the
// batch (it holds an id the stream has), each message on its own.
func (b *Bus) commit(batch []*pubReq) {
	ctx, cancel := context.WithTimeout(context.Background(), atomicCommitTimeout)
	defer cancel()
	if len(batch) < minGroup {
		b.publishConcurrently(ctx, batch)
		return
	}
	ms := make([]Outgoing, len(batch))
	for i, r := range batch {
		ms[i] = r.m
	}
	err := b.publishAtomic(ctx, ms)
	if err == nil {
		b.met.batches.WithLabelValues("stored").Inc()
		b.publishResults("ok", len(batch))
		for _, r := range batch {
			r.finish(false, nil)
		}
		return
	}
	if !errors.Is(err, errBatchRejected) {
		// A lost commit ack: the batch may be stored or not. Callers retry
		// with the same ids, which the stream then drops as duplicates.
		b.publishResults("error", len(batch))
		for _, r := range batch {
			r.finish(false, err)
		}
		return
	}
	b.met.batches.WithLabelValues("rejected").Inc()
	ctx, cancel = context.WithTimeout(context.Background(), atomicCommitTimeout)
	defer cancel()
	b.publishConcurrently(ctx, batch)
}

// minGroup is the smallest queue sent as an atomic batch. The server stages
// a batch in a store of its own, created and synced per batch, which costs
// about what a few plain publishes do; below this size they are cheaper.
const minGroup = 8

// publishConcurrently stores each message of batch with a plain publish,
// all in flight at once, as the callers would have without the queue.
func (b *Bus) publishConcurrently(ctx context.Context, batch []*pubReq) {
	futures := make([]jetstream.PubAckFuture, len(batch))
	for i, r := range batch {
		f, err := b.js.PublishMsgAsync(b.toMsg(r.m))
		if err != nil {
			b.publishResult("error")
			r.finish(false, fmt.Errorf("nats: publish %s: %w", r.m.Subject, err))
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		dup, err := b.awaitAck(ctx, f, batch[i].m.Subject)
		if err != nil && ctx.Err() != nil {
			b.publishResult("error")
		}
		batch[i].finish(dup, err)
	}
}

// publishOne stores m with a plain publish and counts the result.
func (b *Bus) publishOne(ctx context.Context, m Outgoing) (duplicate bool, err error) {
	ack, err := b.js.PublishMsg(ctx, b.toMsg(m))
	if err != nil {
		b.publishResult("error")
		return false, fmt.Errorf("nats: publish %s: %w", m.Subject, err)
	}
	b.countStored(ack.Duplicate)
	return ack.Duplicate, nil
}
