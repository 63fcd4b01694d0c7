package nats

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// migrateRetention recreates the stream sc names, and reports so, if it
// exists with another retention policy, which JetStream cannot change in
// place (the payments
// queue was a WorkQueue stream before it had Limits retention). The
// messages still in it are read first and published again, with their
// headers and ids, into the new stream; its consumers are deleted with it
// and created again by whoever consumes. A crash between the delete and the
// last publish loses the requests not yet put back: their orders stay
// RESERVED (or REFUND_PENDING) with nothing queued, which the reconciler
// repairs after its grace period, as it does for any lost request.
func (b *Bus) migrateRetention(ctx context.Context, sc jetstream.StreamConfig) (bool, error) {
	s, err := b.js.Stream(ctx, sc.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("nats: stream %s: %w", sc.Name, err)
	}
	info := s.CachedInfo()
	if info.Config.Retention == sc.Retention {
		return false, nil
	}
	var kept []*nats.Msg
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("nats: migrate stream %s: read %d: %w", sc.Name, seq, err)
		}
		msg := nats.NewMsg(m.Subject)
		msg.Header, msg.Data = m.Header, m.Data
		kept = append(kept, msg)
	}
	if err := b.js.DeleteStream(ctx, sc.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return false, fmt.Errorf("nats: migrate stream %s: delete: %w", sc.Name, err)
	}
	if _, err := b.js.CreateOrUpdateStream(ctx, sc); err != nil {
		return false, fmt.Errorf("nats: migrate stream %s: create: %w", sc.Name, err)
	}
	for _, msg := range kept {
		if _, err := b.js.PublishMsg(ctx, msg); err != nil {
			return false, fmt.Errorf("nats: migrate stream %s: publish %s: %w", sc.Name, msg.Subject, err)
		}
	}
	if err := b.syncStored(ctx); err != nil {
		return false, fmt.Errorf("nats: migrate stream %s: %w", sc.Name, err)
	}
	b.log.Warn("stream recreated with a new retention policy",
		"stream", sc.Name, "from", info.Config.Retention.String(), "to", sc.Retention.String(), "messages_kept", len(kept))
	return true, nil
}

// Queued reports whether the last message on subject is still waiting for
// the durable consumer: stored, and after the consumer's acknowledgement
// floor. On a stream with Limits retention a handled message stays stored,
// so being stored is not being queued. A message after the floor may have
// been acknowledged out of order; it counts as queued until the floor
// passes it, which errs on the side of not enqueueing again. Without the
// consumer (nobody has consumed yet) a stored message is queued.
func (b *Bus) Queued(ctx context.Context, durable, subject string) (bool, error) {
	m, err := b.LastMessage(ctx, subject)
	if err != nil || m == nil {
		return false, err
	}
	stream, err := b.streamFor(subject)
	if err != nil {
		return false, err
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cons, err := b.js.Consumer(ctx, stream, b.durableName(durable))
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("nats: queued %s: consumer %s: %w", subject, durable, err)
	}
	return m.Seq > cons.CachedInfo().AckFloor.Stream, nil
}

// Queue is one durable consumer's view of what is queued for it (Queued).
type Queue struct {
	Bus     *Bus
	Durable string
}

// Queued reports whether the last message on subject still waits for the
// queue's consumer; see Bus.Queued.
func (q Queue) Queued(ctx context.Context, subject string) (bool, error) {
	return q.Bus.Queued(ctx, q.Durable, subject)
}
