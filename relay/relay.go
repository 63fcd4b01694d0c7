// Package relay is the change-data-capture relay: it reads the store's change
// log in commit order and publishes each change to the bus as an
// EventBridge-shaped cdcEvent, exactly once per change.
//
// Exactly once is built from three parts: every change has an event id fixed
// when it was written, which becomes the message's Nats-Msg-Id so the stream
// drops a republished copy; the relay's cursor is the tail of the stream
// itself (the change sequence in the last message's header), so the bus is
// rebuildable from the database and no separate cursor can disagree with it;
// and on start the relay republishes the changes before the tail that were
// committed within the stream's deduplication window, which drops the copies,
// so a batch whose acknowledgements were lost in a crash is never skipped.
// (JetStream stores one connection's publishes in order, so what reached the
// stream is a prefix of what was sent; the rewind is a second line of defence.)
//
// With Options.EventLog the relay also appends its events to the event log,
// by the same three parts: an entry's id is its event's, the entries are
// published from the same batches, and the rewind republishes them too.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// Bus is what the relay needs from the bus.
type Bus interface {
	// PublishBatch publishes in order and returns how many messages from the
	// start are known to be stored before the first failure.
	PublishBatch(ctx context.Context, ms []wims.Outgoing) (int, error)
	// LastMessage returns the last message on subject, or nil if none.
	LastMessage(ctx context.Context, subject string) (*wims.Message, error)
}

// Pruner is implemented by stores that can drop old, published changes.
type Pruner interface {
	PruneChanges(ctx context.Context, upToSeq int64, olderThan time.Time) (int64, error)
}

// Options configures a Relay.
type Options struct {
	Log     wims.ChangeLog
	Bus     Bus
	Subject string // where change events go, e.g. "wims.events.cdc"
	// DomainSubject, if set, is where the domain events derived from changes
	// go (wims.DomainEvents), e.g. "wims.events.domain".
	DomainSubject string
	// BatchSize bounds changes read and published at once (default 500).
	BatchSize int
	// Rewind bounds how many changes before the stream's tail are considered
	// for republishing on start (default 1000).
	Rewind int64
	// Retention keeps published changes in the log this long before pruning,
	// so the bus can be rebuilt from the database (default 24h; 0 disables pruning).
	Retention time.Duration
	// IdlePoll is the fallback wake-up when no commit signal arrives, for
	// writers in other processes (default 1s). Commits in this process wake
	// the relay at once through the log's ChangeSignal.
	IdlePoll time.Duration
	Now      wims.Clock
	Logger   *slog.Logger
	Metrics  *Metrics // may be nil
	// Protect, if set, rewrites each event's detail before it is published:
	// wims serve encrypts the sensitive fields there (eventcrypt), so no
	// event on the bus, in the event log or in an archive holds them in
	// plain text. The store keeps them; consumers that need a customer id
	// (workflow, payments) read the order from the store, never the event.
	Protect func(detail []byte) ([]byte, error)
	// EventLog, if set, says for each event the relay publishes (change
	// and domain events) whether the event log takes it, and gives the
	// entry that appends it (eventlog.Log.Entry). The relay publishes a
	// batch's entries as a batch of their own beside its events and marks
	// every event it has asked about wims.HeaderLogged, so the event-log
	// target does not copy them a second time: an entry costs one message
	// in a batch instead of a delivery, a decode and a publish round trip
	// in the target. A batch whose entries fail is published again, and
	// the rewind on start rebuilds entries a crash or a power loss took, as
	// it does events (the entries may trail the events by two batches, so
	// the rewind covers at least two). An event it cannot answer for (err)
	// is left unmarked, for the target, which dead-letters what it cannot
	// log.
	EventLog func(m *wims.Message) (entry wims.Outgoing, ok bool, err error)
}

// Relay publishes the change log to the bus.
type Relay struct {
	opt    Options
	cursor int64
	// logging is the last batch's event-log entries while they are being
	// stored (Options.EventLog); nil when none are.
	logging *entriesInFlight
}

// entriesInFlight is a batch of event-log entries the bus is storing while
// the relay goes on with the next batch: from is the cursor before the
// batch, which the relay goes back to if they fail.
type entriesInFlight struct {
	from   int64
	stored chan error
}

// New returns a relay; Run starts it.
func New(opt Options) *Relay {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 500
	}
	if opt.Rewind == 0 {
		opt.Rewind = 1000
	}
	if opt.EventLog != nil {
		// Entries may trail the stream's tail by two batches (step).
		opt.Rewind = max(opt.Rewind, 2*int64(opt.BatchSize))
	}
	if opt.IdlePoll <= 0 {
		opt.IdlePoll = time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Relay{opt: opt}
}

// Cursor returns the sequence of the last change known to be on the bus.
// It is only meaningful while Run is not running concurrently, e.g. in tests.
func (r *Relay) Cursor() int64 { return r.cursor }

// Run publishes changes until ctx is done. Publish failures are retried with
// backoff; Run returns only ctx's error or a failure to read the log's tail.
func (r *Relay) Run(ctx context.Context) error {
	start, err := r.tail(ctx)
	if err != nil {
		return err
	}
	r.cursor, err = r.rewind(ctx, start)
	if err != nil {
		return err
	}
	r.opt.Logger.Info("relay starting", "tail", start, "from", r.cursor)
	backoff := newBackoff()
	var lastPrune time.Time // prune at the first idle moment, then at most once a minute
	for {
		n, err := r.step(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			d := backoff.next()
			r.opt.Logger.Warn("relay publish failed; retrying", "cursor", r.cursor, "delay", d, "err", err)
			if !sleep(ctx, d) {
				return ctx.Err()
			}
			continue
		}
		backoff.reset()
		if n > 0 {
			continue // more may be waiting: drain before sleeping
		}
		if r.opt.Retention > 0 && r.opt.Now().Sub(lastPrune) > time.Minute {
			lastPrune = r.opt.Now()
			r.prune(ctx)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.opt.Log.ChangeSignal():
		case <-time.After(r.opt.IdlePoll):
		}
	}
}

// tail reads the change sequence of the last event on the bus.
func (r *Relay) tail(ctx context.Context) (int64, error) {
	var last *wims.Message
	err := retry(ctx, r.opt.Logger, func() error {
		var err error
		last, err = r.opt.Bus.LastMessage(ctx, r.opt.Subject)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("relay: read stream tail: %w", err)
	}
	if last == nil {
		return 0, nil
	}
	seq, err := strconv.ParseInt(last.Header[wims.HeaderChangeSeq], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("relay: last message on %s has no valid %s header: %w", r.opt.Subject, wims.HeaderChangeSeq, err)
	}
	return seq, nil
}

// dedupeHorizon is how far back a republished change is still certain to be
// dropped by the stream's deduplication window (2 minutes), with a margin.
const dedupeHorizon = 90 * time.Second

// rewind picks where to resume: just after the tail, or earlier when recent
// changes before the tail may have been lost in flight. Only changes
// committed within dedupeHorizon are republished, because older copies would
// no longer be recognised as duplicates.
func (r *Relay) rewind(ctx context.Context, tail int64) (int64, error) {
	from := max(0, tail-r.opt.Rewind)
	if from == tail {
		return tail, nil
	}
	changes, err := r.opt.Log.ReadChanges(ctx, from, int(tail-from))
	if err != nil {
		return 0, fmt.Errorf("relay: read changes after %d: %w", from, err)
	}
	horizon := r.opt.Now().Add(-dedupeHorizon)
	for _, c := range changes {
		if c.Seq <= tail && c.Time.After(horizon) {
			return c.Seq - 1, nil
		}
	}
	return tail, nil
}

// step publishes one batch and returns how many changes it published.
func (r *Relay) step(ctx context.Context) (int, error) {
	changes, err := r.opt.Log.ReadChanges(ctx, r.cursor, r.opt.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("read changes after %d: %w", r.cursor, err)
	}
	if len(changes) == 0 {
		// Idle: what is left to store of the log is settled now, so a
		// failure is retried without waiting for the next change.
		return 0, r.settleEntries(r.logging)
	}
	out := make([]wims.Outgoing, 0, len(changes))
	// last[i] is the index of the change whose change event is out[i], or -1
	// for a domain event. A change's domain events go before its change
	// event: the cursor is the last change event on the bus, so a crash
	// between the two republishes the domain events (deduplicated by id)
	// instead of skipping them.
	last := make([]int, 0, len(changes))
	for i, c := range changes {
		if r.opt.DomainSubject != "" {
			ds, err := domainMessages(c, r.opt.DomainSubject, r.opt.Protect)
			if err != nil {
				return 0, err
			}
			out = append(out, ds...)
			for range ds {
				last = append(last, -1)
			}
		}
		m, err := message(c, r.opt.Subject, r.opt.Log.Origin(), r.opt.Protect)
		if err != nil {
			return 0, err
		}
		out = append(out, m)
		last = append(last, i)
	}
	// The change log is the source of these events: a bus that loses them
	// (power loss with its fsyncs group-committed) gets them again from
	// here, since the cursor is the stream's tail.
	for j := range out {
		out[j].Rebuildable = true
	}
	// The batch's event-log entries go to their stream while its events go
	// to theirs, and are waited for only after the next batch's events:
	// the log's stream is slower (a new subject per order), and the relay's
	// lag is every order's wait.
	previous := r.logging
	r.logging = r.storeEntries(ctx, r.logEntries(out))
	started := time.Now()
	n, err := r.opt.Bus.PublishBatch(ctx, out)
	if lerr := r.settleEntries(previous); lerr != nil {
		return 0, lerr
	}
	done := -1 // the last change whose change event is stored
	for j := range n {
		if last[j] >= 0 {
			done = last[j]
		}
	}
	if done >= 0 {
		r.cursor = changes[done].Seq
		r.opt.Metrics.published(done+1, changes[done].Time, r.opt.Now(), time.Since(started))
	}
	if err != nil {
		return done + 1, fmt.Errorf("publish changes after %d: %w", r.cursor, err)
	}
	return done + 1, nil
}

// storeEntries starts publishing a batch's event-log entries; nil if there
// are none.
func (r *Relay) storeEntries(ctx context.Context, entries []wims.Outgoing) *entriesInFlight {
	if len(entries) == 0 {
		return nil
	}
	f := &entriesInFlight{from: r.cursor, stored: make(chan error, 1)}
	go func() {
		_, err := r.opt.Bus.PublishBatch(ctx, entries)
		f.stored <- err
	}()
	return f
}

// settleEntries waits for a batch of entries. If they were not all stored,
// the cursor goes back to before their batch, so it is published again:
// what of it was stored, events or entries, is dropped as duplicates.
func (r *Relay) settleEntries(f *entriesInFlight) error {
	if f == nil {
		return nil
	}
	err := <-f.stored
	if f == r.logging {
		r.logging = nil
	}
	if err != nil {
		r.cursor = min(r.cursor, f.from)
		return fmt.Errorf("append changes after %d to the event log: %w", f.from, err)
	}
	return nil
}

// logEntries returns the event-log entries of out and marks the events
// they are for (Options.EventLog).
func (r *Relay) logEntries(out []wims.Outgoing) []wims.Outgoing {
	if r.opt.EventLog == nil {
		return nil
	}
	entries := make([]wims.Outgoing, 0, len(out))
	for j := range out {
		m := &out[j]
		e, ok, err := r.opt.EventLog(&wims.Message{Subject: m.Subject, ID: m.ID, Data: m.Data, Header: m.Header})
		if err != nil {
			r.opt.Logger.Error("relay: event not logged; left to the event-log target", "id", m.ID, "err", err)
			continue
		}
		m.Header[wims.HeaderLogged] = "1"
		if ok {
			// Rebuilt like the events: by the rewind, from the change log.
			e.Rebuildable = true
			entries = append(entries, e)
		}
	}
	return entries
}

func (r *Relay) prune(ctx context.Context) {
	p, ok := r.opt.Log.(Pruner)
	if !ok {
		return
	}
	n, err := p.PruneChanges(ctx, r.cursor, r.opt.Now().Add(-r.opt.Retention))
	if err != nil {
		r.opt.Logger.Warn("relay prune failed", "err", err)
		return
	}
	if n > 0 {
		r.opt.Logger.Debug("relay pruned changes", "count", n, "upTo", r.cursor)
	}
}

// envelopeSize is room for an event's envelope around its detail, so
// encoding it allocates once.
const envelopeSize = 320

// Message encodes a change as the bus message the relay publishes.
func Message(c wims.Change, subject, origin string) (wims.Outgoing, error) {
	return message(c, subject, origin, nil)
}

func message(c wims.Change, subject, origin string, protect func([]byte) ([]byte, error)) (wims.Outgoing, error) {
	ev, err := wims.ChangeEvent(c, origin)
	if err != nil {
		return wims.Outgoing{}, fmt.Errorf("encode change %d: %w", c.Seq, err)
	}
	if protect != nil {
		if ev.Detail, err = protect(ev.Detail); err != nil {
			return wims.Outgoing{}, fmt.Errorf("protect change %d: %w", c.Seq, err)
		}
	}
	data, err := ev.AppendJSON(make([]byte, 0, len(ev.Detail)+envelopeSize))
	if err != nil {
		return wims.Outgoing{}, fmt.Errorf("encode change %d: %w", c.Seq, err)
	}
	h := map[string]string{wims.HeaderChangeSeq: strconv.FormatInt(c.Seq, 10)}
	if c.TraceParent != "" {
		h[wims.HeaderTraceParent] = c.TraceParent
	}
	return wims.Outgoing{Subject: subject, ID: c.EventID, Data: data, Header: h}, nil
}

// DomainMessages encodes the domain events of a change (wims.DomainEvents)
// as bus messages on subject, with their derived ids as Nats-Msg-Id.
func DomainMessages(c wims.Change, subject string) ([]wims.Outgoing, error) {
	return domainMessages(c, subject, nil)
}

func domainMessages(c wims.Change, subject string, protect func([]byte) ([]byte, error)) ([]wims.Outgoing, error) {
	evs, err := wims.DomainEvents(c)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	out := make([]wims.Outgoing, 0, len(evs))
	for _, ev := range evs {
		if protect != nil {
			if ev.Detail, err = protect(ev.Detail); err != nil {
				return nil, fmt.Errorf("protect domain event of change %d: %w", c.Seq, err)
			}
		}
		data, err := ev.AppendJSON(make([]byte, 0, len(ev.Detail)+envelopeSize))
		if err != nil {
			return nil, fmt.Errorf("encode domain event of change %d: %w", c.Seq, err)
		}
		h := map[string]string{}
		if c.TraceParent != "" {
			h[wims.HeaderTraceParent] = c.TraceParent
		}
		out = append(out, wims.Outgoing{Subject: subject, ID: ev.ID, Data: data, Header: h})
	}
	return out, nil
}

func retry(ctx context.Context, log *slog.Logger, f func() error) error {
	b := newBackoff()
	for attempt := 1; ; attempt++ {
		err := f()
		if err == nil || attempt == 10 || errors.Is(err, context.Canceled) {
			return err
		}
		d := b.next()
		log.Warn("relay retrying", "attempt", attempt, "delay", d, "err", err)
		if !sleep(ctx, d) {
			return ctx.Err()
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
