package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Atomic batch publishing (nats-server 2.12+, ADR-50) stores a batch of
// messages all or nothing, and, with SyncAlways, fsyncs the whole batch once
// before the ack instead of once per message. That one fsync per batch is
// what lets the bus keep up with the accept path while every acknowledged
// message is still on disk (BENCHMARKS "Pipeline burst").
const (
	hdrBatchID     = "Nats-Batch-Id"
	hdrBatchSeq    = "Nats-Batch-Sequence"
	hdrBatchCommit = "Nats-Batch-Commit"
	// maxAtomicBatch is the server's default limit of messages per batch.
	maxAtomicBatch = 1000
	// atomicCommitTimeout bounds the wait for a commit's ack when the
	// caller's context has no deadline: the client's default for a publish.
	atomicCommitTimeout = 5 * time.Second
)

// errBatchRejected is a batch the server refused as a whole; nothing of it
// was stored. The usual cause is a message id already in the stream (a
// republish after a restart), which atomic batches do not skip.
var errBatchRejected = errors.New("nats: atomic batch rejected")

// atomicStreams remembers which streams accept atomic batches: the server
// says so in the stream's configuration (older servers drop the field).
type atomicStreams struct {
	mu sync.RWMutex
	ok map[string]bool
}

func (a *atomicStreams) set(stream string, ok bool) {
	a.mu.Lock()
	if a.ok == nil {
		a.ok = make(map[string]bool)
	}
	a.ok[stream] = ok
	a.mu.Unlock()
}

func (a *atomicStreams) has(stream string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.ok[stream]
}

// atomicStream returns the stream every message of ms goes to, if they all
// go to the same one and it accepts atomic batches.
func (b *Bus) atomicStream(ms []Outgoing) (string, bool) {
	if len(ms) == 0 {
		return "", false
	}
	stream, err := b.streamFor(ms[0].Subject)
	if err != nil || !b.batchable.has(stream) {
		return "", false
	}
	for _, m := range ms[1:] {
		if s, err := b.streamFor(m.Subject); err != nil || s != stream {
			return "", false
		}
	}
	return stream, true
}

// batchAck is the server's answer to a batch commit.
type batchAck struct {
	Stream string              `json:"stream"`
	Seq    uint64              `json:"seq"`
	Count  int                 `json:"count"`
	Error  *jetstream.APIError `json:"error"`
}

// publishAtomic stores ms (at most maxAtomicBatch, all for one stream that
// accepts atomic batches) as one atomic batch. Every message but the last is
// sent without a reply subject (the server answers only the commit), on the
// one connection, so they reach the stream in order. On error nothing was
// stored, except after a lost commit ack, where the caller cannot tell:
// callers republish with the same message ids, which the stream drops.
func (b *Bus) publishAtomic(ctx context.Context, ms []Outgoing) error {
	id := nuid.Next()
	last := len(ms) - 1
	for i := range last {
		msg := b.toMsg(ms[i])
		msg.Header.Set(hdrBatchID, id)
		msg.Header.Set(hdrBatchSeq, strconv.Itoa(i+1))
		if err := b.pc.PublishMsg(msg); err != nil {
			return fmt.Errorf("nats: atomic batch %s: %w", ms[i].Subject, err)
		}
	}
	msg := b.toMsg(ms[last])
	msg.Header.Set(hdrBatchID, id)
	msg.Header.Set(hdrBatchSeq, strconv.Itoa(last+1))
	msg.Header.Set(hdrBatchCommit, "1")
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, atomicCommitTimeout)
		defer cancel()
	}
	reply, err := b.pc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		return fmt.Errorf("nats: atomic batch commit: %w", err)
	}
	var ack batchAck
	if err := json.Unmarshal(reply.Data, &ack); err != nil {
		return fmt.Errorf("nats: atomic batch commit: %w", err)
	}
	if ack.Error != nil {
		return fmt.Errorf("%w: %w", errBatchRejected, ack.Error)
	}
	if ack.Count != len(ms) {
		return fmt.Errorf("%w: stored %d of %d", errBatchRejected, ack.Count, len(ms))
	}
	return nil
}

// publishAtomicOrEach publishes ms as atomic batches of at most
// maxAtomicBatch and, from the first batch that fails, the rest one by one
// (publishEach), which stores what is new and reports duplicates as stored.
// It returns how many messages from the start are known to be stored.
func (b *Bus) publishAtomicOrEach(ctx context.Context, ms []Outgoing) (int, error) {
	done := 0
	for done < len(ms) {
		n := min(len(ms)-done, maxAtomicBatch)
		if err := b.publishAtomic(ctx, ms[done:done+n]); err != nil {
			if ctx.Err() != nil {
				b.publishResult("error")
				return done, err
			}
			b.met.batches.WithLabelValues("rejected").Inc()
			if !errors.Is(err, errBatchRejected) {
				b.log.Debug("atomic batch failed; publishing one by one", "err", err)
			}
			k, err := b.publishEach(ctx, ms[done:])
			return done + k, err
		}
		b.met.batches.WithLabelValues("stored").Inc()
		b.publishResults("ok", n)
		done += n
	}
	return done, nil
}
