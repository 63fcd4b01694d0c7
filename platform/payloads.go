package platform

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/wims/wims"
)

// PayloadRetention is how long the places that can hold a claim-checked
// event keep it, and so its reference: a payload must outlive them all.
type PayloadRetention struct {
	// Events is the longest the bus's own streams keep an event: the
	// events stream and the event log (with its log groups).
	Events time.Duration
	// Delivery is the longest a delivery is retried after the event
	// reached the bus (or was replayed): MaximumEventAgeInSeconds' bound.
	Delivery time.Duration
	// DeadLetters is how long a dead-lettered delivery is kept for a
	// redrive.
	DeadLetters time.Duration
}

// Horizon is the age past which no stored event, delivery or dead letter
// can refer to a payload any more, given the archives: an event is at
// most max(Events, the longest archive retention) old where it is kept,
// is replayed at most that old, then retried for up to Delivery and kept
// as a dead letter for up to DeadLetters. forever is true when an archive
// keeps its events forever (RetentionDays 0): its events may be replayed
// at any age, so no payload expires. Archives of every bus count, since a
// bus target forwards a claim-checked event, reference and all, to
// another bus. A redrive of a dead letter (a new delivery) is the one
// reference this does not cover: it may reach a payload that has expired.
func (r PayloadRetention) Horizon(archives []wims.Archive) (horizon time.Duration, forever bool) {
	kept := r.Events
	for _, a := range archives {
		if a.RetentionDays == 0 {
			return 0, true
		}
		kept = max(kept, a.Retention())
	}
	return kept + r.Delivery + r.DeadLetters, false
}

// payloadDeleteBatch bounds one delete, so a large backlog of expired
// payloads does not hold the store's writer for long.
const payloadDeleteBatch = 500

// PayloadJanitor deletes claim-checked payloads once nothing can refer to
// them (PayloadRetention.Horizon). wims serve runs it on one instance.
type PayloadJanitor struct {
	Payloads  wims.EventPayloadStore
	Archives  func(ctx context.Context) ([]wims.Archive, error)
	Retention PayloadRetention
	// Interval is the time between sweeps; the first is at Run's start.
	Interval time.Duration
	Now      wims.Clock
	Logger   *slog.Logger
}

// Sweep deletes the payloads older than the horizon and returns how many.
// The archives are read first and the horizon taken from them: an archive
// created or lengthened afterwards holds only events younger than any
// archive's current retention, which the horizon already exceeds.
func (j *PayloadJanitor) Sweep(ctx context.Context) (int64, error) {
	archives, err := j.Archives(ctx)
	if err != nil {
		return 0, fmt.Errorf("payload janitor: list archives: %w", err)
	}
	horizon, forever := j.Retention.Horizon(archives)
	if forever {
		return 0, nil
	}
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	before := now().Add(-horizon)
	var total int64
	for {
		n, err := j.Payloads.DeleteEventPayloads(ctx, before, payloadDeleteBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("payload janitor: %w", err)
		}
		if n < payloadDeleteBatch {
			return total, nil
		}
	}
}

// Run sweeps at once and then every Interval until ctx is done. A failed
// sweep is logged and tried again at the next one.
func (j *PayloadJanitor) Run(ctx context.Context) error {
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(j.Interval)
	defer t.Stop()
	for {
		n, err := j.Sweep(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("claim-check payloads not expired", "err", err)
		case n > 0:
			log.Info("claim-check payloads expired", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
