package nats

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
)

// ConsumerSpec describes a durable consumer and how its messages are handled.
type ConsumerSpec struct {
	// Stream is a stream kind: Events, Payments, EventLog or
	// DeadLetter.
	Stream string
	// Durable names the consumer. The bus prefixes it with the namespace; the
	// short name also names the dead-letter subject (<ns>.dlq.<Durable>), so
	// it is restricted to letters, digits, '_' and '-'.
	Durable string
	// FilterSubject is the full subject the consumer reads (wildcards
	// allowed). On a WorkQueue stream, filters of two consumers must not
	// overlap.
	FilterSubject string
	// FilterSubjects, if set, are subjects within FilterSubject that are
	// all the consumer needs: on servers that take several filters (2.10
	// and later) it reads only these, so the server does not deliver it
	// messages it would skip; older servers get FilterSubject.
	FilterSubjects []string
	// MaxDeliver is the number of deliveries after which a failing message is
	// dead-lettered. Default 10; -1 means unlimited, and the handler decides
	// when to give up by returning wims.Permanent.
	MaxDeliver int
	// AckWait is how long the server waits for an ack before redelivering.
	// Default 30 s. Handlers running longer than AckWait/2 get InProgress
	// signals, so a slow call is not redelivered while it runs.
	AckWait time.Duration
	// Backoff is the delay before redelivery after a handler error, by
	// attempt (index Delivered-1; the last entry repeats). Default: 100 ms
	// doubling to 30 s, with ±20 % jitter.
	Backoff []time.Duration
	// Concurrency is the number of handler goroutines. Default 1, which
	// handles messages in stream order (first deliveries; a retried message
	// is redelivered after the ones behind it).
	Concurrency int
	// MaxAckPending caps unacknowledged messages; the server pauses delivery
	// beyond it. Default 1000; must cover Concurrency plus the prefetch.
	MaxAckPending int
	// StopGrace is how long handlers may keep running after Stop before
	// their context is cancelled. Default 10 s.
	StopGrace time.Duration
}

// Consumer runs handlers for the messages of a durable consumer until Stop
// or until the context given to Bus.Consume ends.
type Consumer struct {
	b      *Bus
	spec   ConsumerSpec
	name   string // namespaced durable name
	stream string // namespaced stream name
	batch  int    // messages pulled ahead of the handlers
	h      wims.Handler

	stopCtx   context.Context // cancelled by Stop: no more fetching
	stopFetch context.CancelFunc
	hctx      context.Context // handlers' context, cancelled StopGrace after Stop
	hcancel   context.CancelFunc
	stopOnce  sync.Once
	unwatch   func() bool   // detaches the parent context watcher
	done      chan struct{} // closed when every goroutine has returned
	sw        stallWatch    // see stallwatch.go
}

// Consume creates or updates the durable consumer (explicit ack, deliver
// all) and starts handling its messages with h. It returns once the consumer
// exists; handling continues until ctx ends or Stop is called.
//
// For every message h is called with a *wims.Message; its result decides:
//   - nil: Ack. A plain Ack, not AckSync: the round trip would halve
//     throughput, and even a confirmed ack can be forgotten by the server
//     after kill -9 (ack state is flushed about 10×/s), so handlers are
//     idempotent anyway and a lost ack only costs a redelivery.
//   - wims.Permanent, or any error on delivery MaxDeliver or later:
//     dead-letter (see below).
//   - wims.RetryAfter(d): redelivery after d. It is honoured on any
//     attempt, so a throttled call is never dead-lettered for being
//     throttled, but every delivery counts towards MaxDeliver.
//   - any other error: redelivery after Backoff for the attempt.
//
// Dead-lettering publishes the message to <ns>.dlq.<Durable> with its
// headers plus the wims.HeaderDLQ* headers, and only after that publish is
// acknowledged terminates the original; if the publish fails the message is
// retried later instead, so it is never lost. The server-side MaxDeliver is
// unlimited for that reason: the server would otherwise stop redelivering a
// message whose dead-lettering failed on the last attempt, stranding it.
func (b *Bus) Consume(ctx context.Context, spec ConsumerSpec, h wims.Handler) (*Consumer, error) {
	spec, err := spec.withDefaults()
	if err != nil {
		return nil, err
	}
	// Prefetch enough to keep every handler busy, within MaxAckPending.
	batch := min(max(4*spec.Concurrency, 16), 256, spec.MaxAckPending-spec.Concurrency)
	if batch < 1 {
		return nil, fmt.Errorf("nats: consumer %s: MaxAckPending %d is too small for Concurrency %d", spec.Durable, spec.MaxAckPending, spec.Concurrency)
	}
	c := &Consumer{
		b:      b,
		spec:   spec,
		name:   b.durableName(spec.Durable),
		stream: b.Stream(spec.Stream),
		batch:  batch,
		h:      h,
		done:   make(chan struct{}),
	}
	cons, err := c.ensure(ctx)
	if err != nil {
		return nil, err
	}
	it, err := cons.Messages(pullOptions(batch)...)
	if err != nil {
		return nil, fmt.Errorf("nats: consumer %s: %w", c.name, err)
	}
	c.stopCtx, c.stopFetch = context.WithCancel(context.Background())
	// Handlers keep ctx's values (trace, logger) but not its cancellation:
	// Stop decides when they must give up.
	c.hctx, c.hcancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := b.track(c); err != nil {
		it.Stop()
		return nil, err
	}
	c.unwatch = context.AfterFunc(ctx, c.signalStop)
	c.sw.set(cons, it)
	go c.run(it)
	return c, nil
}

// pullOptions keep pull requests short-lived with frequent heartbeats: a
// pull request lost on a loaded machine (seen in CI: a consumer stalled for
// over 20 s with messages waiting) is then noticed and replaced within a
// second instead of after the client's 30 s default expiry. Such losses
// happen in most 4,000-order bursts: the consumer has thousands of messages
// pending, none in flight, and no pull request. The stall watch
// (stallwatch.go) catches them sooner, in 150-200 ms; the missed heartbeat
// (two intervals of the server's shortest, 500 ms) is the fallback
// (BENCHMARKS.md, "Pipeline burst").
func pullOptions(batch int) []jetstream.PullMessagesOpt {
	return []jetstream.PullMessagesOpt{
		jetstream.PullMaxMessages(batch), jetstream.PullExpiry(5 * time.Second), jetstream.PullHeartbeat(pullHeartbeat),
	}
}

// pullHeartbeat is the server's idle heartbeat on a pull request (its
// smallest allowed value).
const pullHeartbeat = 500 * time.Millisecond

func (s ConsumerSpec) withDefaults() (ConsumerSpec, error) {
	if s.Stream == "" || s.FilterSubject == "" {
		return s, errors.New("nats: consumer needs Stream and FilterSubject")
	}
	if !validName.MatchString(s.Durable) {
		return s, fmt.Errorf("nats: invalid durable name %q: use letters, digits, '_' or '-'", s.Durable)
	}
	if s.MaxDeliver == 0 {
		s.MaxDeliver = 10
	}
	if s.AckWait <= 0 {
		s.AckWait = 30 * time.Second
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 1
	}
	if s.MaxAckPending <= 0 {
		s.MaxAckPending = 1000
	}
	if s.StopGrace <= 0 {
		s.StopGrace = 10 * time.Second
	}
	return s, nil
}

// durableName namespaces a consumer name: "payments" → "wims_payments".
func (b *Bus) durableName(short string) string { return b.ns + "_" + short }

// ensure creates or updates the durable consumer. Its server-side MaxDeliver
// is unlimited: the Consumer counts deliveries itself (see Bus.Consume).
func (c *Consumer) ensure(ctx context.Context) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	repaired := false
	err := c.b.retryTransient(ctx, "consumer "+c.name+" on "+c.stream, func(ctx context.Context) (err error) {
		defer func() {
			if err != nil && !repaired && consumerStoreFailed(err) {
				repaired = true
				if rerr := c.b.repairConsumerStore(c.stream, c.name, err); rerr != nil {
					err = rerr
				}
			}
		}()
		cfg := jetstream.ConsumerConfig{
			Durable:       c.name,
			Description:   "wims consumer " + c.spec.Durable,
			FilterSubject: c.spec.FilterSubject,
			AckPolicy:     jetstream.AckExplicitPolicy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			AckWait:       c.spec.AckWait,
			MaxDeliver:    -1,
			MaxAckPending: c.spec.MaxAckPending,
		}
		if len(c.spec.FilterSubjects) > 0 && c.b.serverAtLeast(2, 10) {
			cfg.FilterSubject, cfg.FilterSubjects = "", c.spec.FilterSubjects
		}
		cons, err = c.b.js.CreateOrUpdateConsumer(ctx, c.stream, cfg)
		return err
	})
	return cons, err
}

// Stop stops fetching, lets in-flight handlers finish (cancelling their
// context only after StopGrace), and returns when every handler has acked or
// nacked its message. Messages fetched but not yet started are nacked so
// another instance gets them at once instead of after AckWait.
func (c *Consumer) Stop() {
	c.signalStop()
	<-c.done
}

// Done is closed when the consumer has stopped and all handlers returned.
func (c *Consumer) Done() <-chan struct{} { return c.done }

func (c *Consumer) signalStop() {
	c.stopOnce.Do(func() {
		c.stopFetch()
		time.AfterFunc(c.spec.StopGrace, c.hcancel)
	})
}

// run feeds the workers from the message iterator, and recreates the
// iterator (and the consumer, if it was deleted) when it fails.
func (c *Consumer) run(it jetstream.MessagesContext) {
	defer close(c.done)
	work := make(chan jetstream.Msg) // unbuffered: with one worker, order is kept
	var wg sync.WaitGroup
	for range c.spec.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for msg := range work {
				c.handle(msg)
			}
		}()
	}
	watched := make(chan struct{})
	go func() { defer close(watched); c.watch(c.stopCtx) }()
	defer func() {
		<-watched // run returns only once Stop was called, which ends the watch
		close(work)
		wg.Wait()
		c.hcancel()
		c.unwatch()
		c.b.untrack(c)
	}()

	for {
		msg, err := c.sw.next(c.stopCtx, it)
		if c.stopCtx.Err() != nil {
			if msg != nil {
				_ = msg.Nak()
			}
			c.drain(it)
			return
		}
		if err != nil {
			delay := 100 * time.Millisecond
			if c.sw.stopped.Swap(false) {
				delay = 0 // the stall watch stopped it: nothing is failing
			} else {
				c.b.log.Warn("consumer fetch failed, restarting", "consumer", c.spec.Durable, "err", err)
			}
			it.Stop()
			if it = c.restart(delay); it == nil {
				return
			}
			continue
		}
		select {
		case work <- msg:
		case <-c.stopCtx.Done():
			_ = msg.Nak()
		}
	}
}

// drain stops the iterator and nacks what it had buffered.
func (c *Consumer) drain(it jetstream.MessagesContext) {
	it.Drain()
	for {
		msg, err := it.Next(jetstream.NextMaxWait(time.Second))
		if err != nil {
			it.Stop()
			return
		}
		_ = msg.Nak()
	}
}

// restart waits delay and recreates the consumer and its iterator, backing
// off until it works or Stop is called (then it returns nil).
func (c *Consumer) restart(delay time.Duration) jetstream.MessagesContext {
	for {
		select {
		case <-c.stopCtx.Done():
			return nil
		case <-time.After(delay):
		}
		ctx, cancel := context.WithTimeout(c.stopCtx, 10*time.Second)
		cons, err := c.ensure(ctx)
		cancel()
		if err == nil {
			it, err := cons.Messages(pullOptions(c.batch)...)
			if err == nil {
				c.sw.set(cons, it)
				return it
			}
		}
		c.b.log.Warn("consumer restart failed", "consumer", c.spec.Durable, "err", err)
		delay = min(max(2*delay, 100*time.Millisecond), 5*time.Second)
	}
}

// handle runs the handler for one message and settles it.
func (c *Consumer) handle(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		// Not a JetStream message; nothing sensible to do but drop it.
		c.b.log.Error("consumer got a message without metadata", "consumer", c.spec.Durable, "err", err)
		_ = msg.Term()
		return
	}
	m := toMessage(msg.Subject(), md.Sequence.Stream, msg.Headers(), msg.Data(), int(md.NumDelivered))
	if to := m.Header[wims.HeaderRedriveFor]; to != "" && to != c.spec.Durable {
		// Redriven for another consumer (see Bus.Redrive).
		if err := msg.Ack(); err != nil {
			c.b.log.Warn("ack failed", "consumer", c.spec.Durable, "subject", m.Subject, "err", err)
		}
		c.count(resultAck)
		return
	}

	stopProgress := c.keepAlive(msg)
	err = c.call(m)
	stopProgress()

	var retry *wims.RetryAfterError
	switch {
	case err != nil && c.hctx.Err() != nil:
		// Cut short by Stop after the grace: not the message's fault, so no
		// dead-lettering and no backoff; another instance takes it now.
		if nerr := msg.Nak(); nerr != nil {
			c.b.log.Warn("nak failed", "consumer", c.spec.Durable, "subject", m.Subject, "err", nerr)
		}
		c.count(resultRetry)
	case err == nil:
		if aerr := msg.Ack(); aerr != nil {
			c.b.log.Warn("ack failed", "consumer", c.spec.Durable, "subject", m.Subject, "err", aerr)
		}
		c.count(resultAck)
	case wims.IsPermanent(err):
		c.deadLetter(msg, m, err)
	case errors.As(err, &retry):
		c.nak(msg, m, retry.Delay)
	case c.spec.MaxDeliver > 0 && m.Delivered >= c.spec.MaxDeliver:
		c.deadLetter(msg, m, err)
	default:
		c.nak(msg, m, c.backoff(m.Delivered))
	}
}

func (c *Consumer) nak(msg jetstream.Msg, m *wims.Message, delay time.Duration) {
	if err := msg.NakWithDelay(delay); err != nil {
		c.b.log.Warn("nak failed", "consumer", c.spec.Durable, "subject", m.Subject, "err", err)
	}
	c.count(resultRetry)
}

func (c *Consumer) count(result string) {
	c.b.met.handled.WithLabelValues(c.spec.Durable, result).Inc()
}

// call runs the handler, turning a panic into an error so one bad message
// cannot take the process down; the message is then retried or
// dead-lettered like any failure.
func (c *Consumer) call(m *wims.Message) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.b.log.Error("handler panic", "consumer", c.spec.Durable, "subject", m.Subject, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("handler panic: %v", r)
		}
	}()
	return c.h(c.hctx, m)
}

// keepAlive sends InProgress every AckWait/2 while the handler runs, so the
// server does not redeliver a message that is still being worked on (a
// late ack could then even settle the wrong copy, nats-server #4786).
// The returned func stops it and waits for a signal being sent.
func (c *Consumer) keepAlive(msg jetstream.Msg) (stop func()) {
	every := c.spec.AckWait / 2
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		_ = msg.InProgress()
		t.Reset(every)
	})
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// backoff returns the delay before redelivering after a failed delivery.
func (c *Consumer) backoff(delivered int) time.Duration {
	i := max(delivered-1, 0)
	if n := len(c.spec.Backoff); n > 0 {
		return c.spec.Backoff[min(i, n-1)]
	}
	d := 30 * time.Second
	if i < 9 { // 100 ms << 9 = 51.2 s, already past the cap
		d = min(100*time.Millisecond<<i, d)
	}
	// ±20 % jitter spreads the retries of a burst of failures.
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// ConsumerBacklog reports a durable consumer's backlog: pending is the
// number of messages not yet delivered, ackPending the number delivered but
// not yet acknowledged (in flight or waiting for a retry). stream is a
// stream kind and durable the short name, as in ConsumerSpec.
func (b *Bus) ConsumerBacklog(ctx context.Context, stream, durable string) (pending uint64, ackPending int, err error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cons, err := b.js.Consumer(ctx, b.Stream(stream), b.durableName(durable))
	if err != nil {
		return 0, 0, fmt.Errorf("nats: consumer %s: %w", durable, err)
	}
	info := cons.CachedInfo()
	return info.NumPending, info.NumAckPending, nil
}

// ConsumerBacklogAge is how long the oldest message a durable consumer has
// not yet acknowledged has been waiting (0 with no backlog), so a stuck
// target shows as an age that grows, not just a count (DESIGN §5).
func (b *Bus) ConsumerBacklogAge(ctx context.Context, stream, durable string) (time.Duration, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cons, err := b.js.Consumer(ctx, b.Stream(stream), b.durableName(durable))
	if err != nil {
		return 0, fmt.Errorf("nats: consumer %s: %w", durable, err)
	}
	info := cons.CachedInfo()
	if info.NumPending == 0 && info.NumAckPending == 0 {
		return 0, nil
	}
	req := map[string]any{"seq": info.AckFloor.Stream + 1}
	if f := info.Config.FilterSubject; f != "" {
		req["next_by_subj"] = f
	}
	m, err := b.leaderGet(ctx, b.Stream(stream), req)
	if err != nil || m == nil || m.Stored.IsZero() {
		return 0, err
	}
	return max(time.Since(m.Stored), 0), nil
}

// ConsumerBacklogWithAge is ConsumerBacklog and ConsumerBacklogAge from
// one consumer info request, for a scrape that wants both (each asks the
// server for the consumer's info again). ageErr is the age's own error:
// the counts stand without it.
func (b *Bus) ConsumerBacklogWithAge(ctx context.Context, stream, durable string) (pending uint64, ackPending int, age time.Duration, ageErr, err error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	cons, err := b.js.Consumer(ctx, b.Stream(stream), b.durableName(durable))
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("nats: consumer %s: %w", durable, err)
	}
	info := cons.CachedInfo()
	if info.NumPending == 0 && info.NumAckPending == 0 {
		return 0, 0, 0, nil, nil
	}
	req := map[string]any{"seq": info.AckFloor.Stream + 1}
	if f := info.Config.FilterSubject; f != "" {
		req["next_by_subj"] = f
	}
	m, ageErr := b.leaderGet(ctx, b.Stream(stream), req)
	if ageErr == nil && m != nil && !m.Stored.IsZero() {
		age = max(time.Since(m.Stored), 0)
	}
	return info.NumPending, info.NumAckPending, age, ageErr, nil
}

// StreamMessages returns how many messages a stream kind (Events,
// DeadLetter, …) holds, e.g. to expose the dead-letter count.
func (b *Bus) StreamMessages(ctx context.Context, kind string) (uint64, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	s, err := b.js.Stream(ctx, b.Stream(kind))
	if err != nil {
		return 0, fmt.Errorf("nats: stream %s: %w", kind, err)
	}
	return s.CachedInfo().State.Msgs, nil
}
