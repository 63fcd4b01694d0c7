package nats

import (
	"context"
	"errors"
	"fmt"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/wims/wims"
)

// Outgoing is a message to publish: the domain's type, so that components
// depend on wims, not on this package.
type Outgoing = wims.Outgoing

// publishWindow bounds the async publishes PublishBatch keeps in flight. It
// stays below the client's limit (4,000) so a batch never stalls in the
// client, and is far above what hides the round trip.
const publishWindow = 2048

func (b *Bus) toMsg(m Outgoing) *natsgo.Msg {
	msg := natsgo.NewMsg(m.Subject)
	msg.Data = m.Data
	for k, v := range m.Header {
		msg.Header.Set(k, v)
	}
	if m.ID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, m.ID)
	}
	return msg
}

// Publish stores m and waits for the stream's ack. duplicate reports that the
// stream already had a message with m.ID, so nothing new was stored; that is
// success for an at-least-once publisher. Without a deadline in ctx the
// client's default timeout (5 s) applies. Concurrent Publish calls for a
// stream that accepts atomic batches share one batch, and so one fsync
// (groupcommit.go).
//
// Under SyncInterval a message that is not Rebuildable is on disk before
// Publish returns (storesync.go).
func (b *Bus) Publish(ctx context.Context, m Outgoing) (duplicate bool, err error) {
	if stream, serr := b.streamFor(m.Subject); serr == nil && b.batchable.has(stream) {
		duplicate, err = b.publishGrouped(ctx, stream, m)
	} else {
		duplicate, err = b.publishOne(ctx, m)
	}
	if err == nil {
		err = b.durable(ctx, m)
	}
	return duplicate, err
}

// streamCreated tells the store's group commit to look for the new stream.
func (b *Bus) streamCreated() {
	if b.stored != nil {
		b.stored.streamCreated()
	}
}

// durable waits, when the embedded store is group-committed, until what the
// server has acknowledged is on disk, unless every one of ms is Rebuildable.
func (b *Bus) durable(ctx context.Context, ms ...Outgoing) error {
	for _, m := range ms {
		if !m.Rebuildable {
			return b.syncStored(ctx)
		}
	}
	return nil
}

// syncStored waits, when the embedded store is group-committed, until what
// the server has acknowledged is on disk.
func (b *Bus) syncStored(ctx context.Context) error {
	if b.stored == nil {
		return nil
	}
	return b.stored.wait(ctx)
}

// PublishBatch publishes ms in order and returns how many messages from the
// start are known to be stored before the first failure, so a caller such as
// the CDC relay can advance its cursor by exactly that much and retry the
// rest: messages after a failure may have been stored too, which is harmless
// when they carry ids. Duplicates count as stored.
//
// Messages for one stream that accepts atomic batches go as atomic batches
// (one fsync per batch, see atomic.go) when there are at least minGroup of
// them; others, and a batch the server refuses (it holds a duplicate id), go
// one by one (publishEach). What counts as stored is durable as Publish
// says.
func (b *Bus) PublishBatch(ctx context.Context, ms []Outgoing) (int, error) {
	var n int
	var err error
	if _, ok := b.atomicStream(ms); ok && len(ms) >= minGroup {
		n, err = b.publishAtomicOrEach(ctx, ms)
	} else {
		n, err = b.publishEach(ctx, ms)
	}
	if n > 0 {
		if serr := b.durable(ctx, ms[:n]...); serr != nil {
			return 0, serr
		}
	}
	return n, err
}

// publishEach publishes ms in order on the one connection without waiting
// for each ack in turn (a sliding window of async publishes), then waits for
// every ack, with PublishBatch's result.
func (b *Bus) publishEach(ctx context.Context, ms []Outgoing) (int, error) {
	futures := make([]jetstream.PubAckFuture, 0, min(len(ms), publishWindow))
	done := 0 // acks collected, in order
	var firstErr error

	// wait collects the ack of futures[done] and reports whether it is stored.
	wait := func() bool {
		if _, err := b.awaitAck(ctx, futures[done], ms[done].Subject); err != nil {
			firstErr = err
			return false
		}
		futures[done] = nil // let the future be collected
		done++
		return true
	}

	for i := range ms {
		if i-done >= publishWindow && !wait() {
			return done, firstErr
		}
		f, err := b.pjs.PublishMsgAsync(b.toMsg(ms[i]))
		if err != nil {
			b.publishResult("error")
			firstErr = fmt.Errorf("nats: publish %s: %w", ms[i].Subject, err)
			break
		}
		futures = append(futures, f)
	}
	for done < len(futures) {
		if !wait() {
			return done, firstErr
		}
	}
	if firstErr == nil && done < len(ms) {
		firstErr = errors.New("nats: publish batch: not all messages sent")
	}
	return done, firstErr
}

// awaitAck waits for the ack of an async publish to subject and counts it
// (duplicate, ok or error). The end of ctx is returned, not counted: the
// message may be stored all the same.
func (b *Bus) awaitAck(ctx context.Context, f jetstream.PubAckFuture, subject string) (duplicate bool, err error) {
	select {
	case ack := <-f.Ok():
		b.countStored(ack.Duplicate)
		return ack.Duplicate, nil
	case err := <-f.Err():
		b.publishResult("error")
		return false, fmt.Errorf("nats: publish %s: %w", subject, err)
	case <-ctx.Done():
		return false, fmt.Errorf("nats: publish %s: %w", subject, ctx.Err())
	}
}

// countStored counts a message the stream acknowledged: new or duplicate.
func (b *Bus) countStored(duplicate bool) {
	if duplicate {
		b.publishResult("duplicate")
	} else {
		b.publishResult("ok")
	}
}
