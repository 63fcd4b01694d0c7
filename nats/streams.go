package nats

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Stream kinds. Pass them to Bus.Stream for the namespaced stream name, and
// as ConsumerSpec.Stream.
const (
	// Events is the bus: every change event, kept 7 days.
	Events = "EVENTS"
	// Payments holds payments waiting for the dispatcher.
	Payments = "PAYMENTS"
	// EventLog is the browsable log of recent events (GET /events).
	EventLog = "EVENTLOG"
	// DeadLetter holds messages that could not be handled, for 30 days.
	DeadLetter = "DEADLETTER"
	// Deliveries is the work queue of the event platform's rule targets:
	// one message per (event, target) the fan-out matched.
	Deliveries = "DELIVERIES"
)

// Subject roots (the token after the namespace) of each stream.
const (
	eventsRoot     = "events"
	paymentsRoot   = "payments"
	eventLogRoot   = "eventlog"
	deadLetterRoot = "dlq"
	deliveriesRoot = "deliveries"
)

// Retention and dedupe windows. Why these values:
//   - The default duplicates window (2 min) covers a publisher retrying after
//     a lost ack or a relay restarting, which is what Nats-Msg-Id is for.
//   - Payments get 1 h: a payment enqueued twice minutes apart (a workflow
//     step retried after a crash) must still be dropped. The server allows
//     longer windows (there is no hard cap unless an account limit is set),
//     but the window is an in-memory map of ids: at the 2,000 orders/s budget
//     24 h would hold ~170 M ids. Beyond the window, the dispatcher's
//     idempotency key and the payment row in the database dedupe.
//   - Payment requests are kept 24 h, handled or not (the stream has Limits
//     retention: acknowledging one costs no write). A request still not
//     handled after a day (the payments API down that long) expires; the
//     reconciler then finds its order RESERVED with nothing queued and
//     enqueues it again. A 4,000-order burst with the work queue's delete
//     per acknowledgement: payment batches of 48 took 43 ms to store; without:
//     31 in 24 ms, and accept-to-RESERVED p50 2.7 s against 0.15 s at 1,000
//     orders/s (BENCHMARKS.md).
//   - Dead letters stay 30 days so someone can look at them and redrive.
const (
	dedupeWindow         = 2 * time.Minute
	paymentsDedupeWindow = time.Hour
	paymentsMaxAge       = 24 * time.Hour
	eventsMaxAge         = 7 * 24 * time.Hour
	eventLogMaxAge       = 7 * 24 * time.Hour
	eventLogMaxMsgs      = 1_000_000
	deadLetterMaxAge     = 30 * 24 * time.Hour
)

// roots maps a subject root to its stream kind.
var roots = map[string]string{
	eventsRoot:     Events,
	paymentsRoot:   Payments,
	eventLogRoot:   EventLog,
	deadLetterRoot: DeadLetter,
	deliveriesRoot: Deliveries,
}

// Stream returns the namespaced name of a stream kind: b.Stream(Events) is
// "WIMS_EVENTS". A name that already carries the namespace is returned as is.
func (b *Bus) Stream(kind string) string {
	if strings.HasPrefix(kind, b.nsUp+"_") {
		return kind
	}
	return b.nsUp + "_" + kind
}

// streamConfigs returns the configuration of every stream. All use file
// storage. AllowDirect lets Recent read batches of messages straight from the
// store (and from any replica) without going through the stream leader.
func (b *Bus) streamConfigs() []jetstream.StreamConfig {
	r := b.cfg.Replicas
	return []jetstream.StreamConfig{
		{
			Name:        b.Stream(Events),
			Description: "wims event bus: change events",
			Subjects:    []string{b.Subject(eventsRoot, ">")},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      eventsMaxAge,
			Duplicates:  dedupeWindow,
			Storage:     jetstream.FileStorage,
			Replicas:    r,
			AllowDirect: true,
			// One fsync per batch instead of per message (atomic.go).
			AllowAtomicPublish: true,
		},
		{
			Name:        b.Stream(Payments),
			Description: "wims payments queue",
			Subjects:    []string{b.Subject(paymentsRoot, ">")},
			// Limits, not WorkQueue: a work queue deletes each message as it
			// is acknowledged, and the server writes and fsyncs a tombstone
			// per delete, which took most of the stream's time (see
			// paymentsMaxAge). What is still queued is what the dispatcher has
			// not acknowledged (Bus.Queued), not what is in the stream.
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      paymentsMaxAge,
			Duplicates:  paymentsDedupeWindow,
			Storage:     jetstream.FileStorage,
			Replicas:    r,
			AllowDirect: true,
			// One fsync per batch instead of per message (atomic.go).
			AllowAtomicPublish: true,
		},
		{
			Name:        b.Stream(EventLog),
			Description: "wims event log",
			Subjects:    []string{b.Subject(eventLogRoot, ">")},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      eventLogMaxAge,
			MaxMsgs:     eventLogMaxMsgs,
			Duplicates:  dedupeWindow,
			Storage:     jetstream.FileStorage,
			Replicas:    r,
			AllowDirect: true,
			// One fsync per batch instead of per message (atomic.go).
			AllowAtomicPublish: true,
		},
		{
			Name:        b.Stream(Deliveries),
			Description: "wims rule-target deliveries (work queue)",
			Subjects:    []string{b.Subject(deliveriesRoot, ">")},
			Retention:   jetstream.WorkQueuePolicy,
			Duplicates:  dedupeWindow,
			Storage:     jetstream.FileStorage,
			Replicas:    r,
			AllowDirect: true,
			// One fsync per batch instead of per message (atomic.go).
			AllowAtomicPublish: true,
		},
		{
			Name:        b.Stream(DeadLetter),
			Description: "wims dead letters (Limits retention so they can be browsed)",
			Subjects:    []string{b.Subject(deadLetterRoot, ">")},
			Retention:   jetstream.LimitsPolicy,
			MaxAge:      deadLetterMaxAge,
			Duplicates:  dedupeWindow,
			Storage:     jetstream.FileStorage,
			Replicas:    r,
			AllowDirect: true,
			// One fsync per batch instead of per message (atomic.go).
			AllowAtomicPublish: true,
		},
	}
}

// ensureStreams creates or updates every stream. A cluster that has just
// started may not have elected its meta leader yet, so transient failures are
// retried until ctx ends; configuration errors (HTTP-style 400s) are not.
func (b *Bus) ensureStreams(ctx context.Context) error {
	for _, sc := range b.streamConfigs() {
		err := b.retryTransient(ctx, "stream "+sc.Name, func(actx context.Context) error {
			st, err := b.js.CreateOrUpdateStream(actx, sc)
			if err != nil {
				// JetStream refuses to change a stream's retention in place:
				// only then is the stream looked at, and recreated. The
				// migration holds the stream's messages in memory between
				// deleting and refilling it, so it gets the whole start-up's
				// time, not one attempt's second.
				migrated, merr := b.migrateRetention(ctx, sc)
				if merr != nil {
					return merr
				}
				if migrated {
					st, err = b.js.CreateOrUpdateStream(actx, sc)
				}
			}
			if err == nil {
				b.streamCreated()
				// Atomic batches pay for themselves only where every write is
				// fsynced: the server stages each batch in a store of its own.
				b.batchable.set(sc.Name, b.cfg.SyncAlways && len(b.cfg.URLs) == 0 && st.CachedInfo().Config.AllowAtomicPublish)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// retryTransient calls f until it succeeds, fails with a configuration error
// (see transient), or ctx ends or 40 attempts have failed. A cluster that
// has just formed, or lost a node, answers JetStream API requests with
// timeouts or "no leader" for a few seconds; each attempt gets its own short
// deadline so one lost request does not use up the whole start-up. The
// first two get 1 s: of two instances creating the same stream at once on a
// cluster, the server answers one and never the other (nats.go issue 949),
// whose retry then finds the stream; at 3 s a wait each, two instances
// starting together took 13–20 s to come up.
func (b *Bus) retryTransient(ctx context.Context, what string, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		timeout := 3 * time.Second
		if attempt < 2 {
			timeout = time.Second
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := f(actx)
		cancel()
		if err == nil {
			return nil
		}
		if !transient(err) {
			return fmt.Errorf("nats: %s: %w", what, err)
		}
		if ctx.Err() != nil || attempt >= 40 {
			return fmt.Errorf("nats: %s: %w", what, err)
		}
		b.log.Debug("jetstream not ready, retrying", "what", what, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats: %s: %w", what, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// errCodeNoPeers is the server's JSClusterNoPeersErr ("no suitable peers
// for placement"), which nats.go does not name.
const errCodeNoPeers jetstream.ErrorCode = 10005

// transient reports whether a failed JetStream API request may succeed if
// repeated. The server's 400s are configuration errors, except "no suitable
// peers": a meta leader that has just been elected has not yet heard from
// every peer and reports it offline for a moment (two instances starting on
// a fresh cluster met it in CI).
func transient(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusBadRequest {
		return true
	}
	return apiErr.ErrorCode == errCodeNoPeers
}

// streamFor returns the stream that stores subject, from the subject's root
// token, so reads need no lookup round trip.
func (b *Bus) streamFor(subject string) (string, error) {
	rest, ok := strings.CutPrefix(subject, b.ns+".")
	if !ok {
		return "", fmt.Errorf("nats: subject %q is outside namespace %q", subject, b.ns)
	}
	root, _, _ := strings.Cut(rest, ".")
	kind, ok := roots[root]
	if !ok {
		return "", fmt.Errorf("nats: subject %q belongs to no wims stream", subject)
	}
	return b.Stream(kind), nil
}
