package platform

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/transform"
)

// Invoker calls an API destination (package apidest).
type Invoker interface {
	Invoke(ctx context.Context, d wims.APIDestination, c wims.Connection, params *wims.HTTPParameters, body []byte, idempotencyKey string) error
}

// RateLimiter spaces the calls of each API destination.
type RateLimiter interface {
	Wait(ctx context.Context, name string, ratePerSecond int) error
}

// Deliverer is the delivery worker: a wims.Handler on the delivery queue.
// It applies the target's input transformation, enforces its retry policy
// (attempts and event age; a delivery out of either is dead-lettered,
// naming its rule and target) and hands the input to the target.
//
// It runs on one elected instance, so API destinations' invocation rates
// are global.
type Deliverer struct {
	Catalog *Catalog
	Invoker Invoker
	Limiter RateLimiter
	// Bus forwards events to other buses.
	Bus      Publisher
	Subjects Subjects
	// Workflow, Notifications and LogGroup handle those kinds of target.
	Workflow      wims.Handler
	Notifications wims.Handler
	LogGroup      func(group string) wims.Handler
	Now           wims.Clock
	Logger        *slog.Logger
}

// Handle delivers one event to one target.
func (d *Deliverer) Handle(ctx context.Context, m *wims.Message) error {
	key := m.Header[HeaderTargetKey]
	t := d.Catalog.Snapshot().Target(key)
	if t == nil {
		// Removed (or its rule disabled or deleted) since the event was
		// routed: EventBridge drops such deliveries too. The catalog may also
		// lag a write of another instance by one poll; reload before dropping.
		snap, err := d.Catalog.Load(ctx)
		if err != nil {
			return fmt.Errorf("deliver %s: %w", key, err)
		}
		if t = snap.Target(key); t == nil {
			d.log().Debug("delivery dropped: target gone", "target_key", key)
			return nil
		}
	}
	if retries := m.Delivered - 1; retries > t.RetryPolicy.Attempts() {
		return wims.Permanent(fmt.Errorf("rule %s target %s: gave up after %d attempts (RetryPolicy.MaximumRetryAttempts %d)",
			t.RuleName, t.ID, m.Delivered-1, t.RetryPolicy.Attempts()))
	}
	if age := d.age(m); age > t.RetryPolicy.MaxAge() {
		return wims.Permanent(fmt.Errorf("rule %s target %s: event is %s old, over RetryPolicy.MaximumEventAgeInSeconds %d",
			t.RuleName, t.ID, age.Round(time.Second), int(t.RetryPolicy.MaxAge()/time.Second)))
	}
	ingested, _ := time.Parse(time.RFC3339Nano, m.Header[HeaderIngested])
	input, err := t.Render.Render(m.Data, transform.RenderContext{RuleARN: t.RuleARN, RuleName: t.RuleName, IngestionTime: ingested})
	if err != nil {
		return wims.Permanent(fmt.Errorf("rule %s target %s: input: %w", t.RuleName, t.ID, err))
	}
	err = d.deliver(ctx, t, m, input)
	if err != nil && !wims.IsPermanent(err) {
		d.log().Warn("target delivery failed; will retry", "rule", t.RuleName, "bus", t.EventBusName,
			"target", t.ID, "arn", t.Arn, "attempt", m.Delivered, "err", err)
	}
	return err
}

func (d *Deliverer) deliver(ctx context.Context, t *RouteTarget, m *wims.Message, input []byte) error {
	eventID := EventID(m)
	msg := &wims.Message{Subject: m.Subject, Data: input, Header: m.Header, ID: eventID, Delivered: m.Delivered, Seq: m.Seq}
	switch t.Kind {
	case wims.TargetKindAPIDestination:
		dest, conn, ok := d.Catalog.Snapshot().Destination(t.Name)
		if !ok {
			return fmt.Errorf("API destination %s (or its connection) does not exist", t.Name)
		}
		if dest.State == wims.APIDestinationInactive {
			return fmt.Errorf("API destination %s is INACTIVE", t.Name)
		}
		if err := d.Limiter.Wait(ctx, dest.Name, dest.InvocationRateLimitPerSecond); err != nil {
			return err
		}
		return d.Invoker.Invoke(ctx, dest, conn, claimCheckHeader(t.HTTPParameters, m), input, eventID)
	case wims.TargetKindBus:
		return d.forward(ctx, t, m)
	case wims.TargetKindWorkflow:
		return d.Workflow(ctx, msg)
	case wims.TargetKindNotifications:
		return d.Notifications(ctx, msg)
	case wims.TargetKindLogGroup:
		// A replayed event is logged again, once per replay.
		msg.ID = t.Name + ":" + eventID
		if replay := m.Header[wims.HeaderReplayName]; replay != "" {
			msg.ID = t.Name + ":" + replay + ":" + eventID
		}
		return d.LogGroup(t.Name)(ctx, msg)
	}
	return wims.Permanent(fmt.Errorf("target kind %q cannot be delivered", t.Kind))
}

// claimCheckHeader adds, for a claim-checked event, the header that tells
// an API destination where its payload is (wims.HeaderClaimCheck: the path
// on the wims API), so a target that needs the detail fetches it with its
// own credentials and a target that does not is sent no megabyte. The
// target's parameters are copied, never changed: the catalog shares them.
func claimCheckHeader(p *wims.HTTPParameters, m *wims.Message) *wims.HTTPParameters {
	id := m.Header[wims.HeaderClaimCheck]
	if id == "" {
		return p
	}
	out := wims.HTTPParameters{HeaderParameters: map[string]string{}}
	if p != nil {
		out = *p
		out.HeaderParameters = maps.Clone(p.HeaderParameters)
		if out.HeaderParameters == nil {
			out.HeaderParameters = map[string]string{}
		}
	}
	out.HeaderParameters[wims.HeaderClaimCheck] = wims.ClaimCheckHref(id)
	return &out
}

// forward puts the event (unchanged, as EventBridge does for bus targets)
// on another bus, where that bus's rules see it.
func (d *Deliverer) forward(ctx context.Context, t *RouteTarget, m *wims.Message) error {
	hops, _ := strconv.Atoi(m.Header[HeaderHops])
	if hops >= maxHops {
		return wims.Permanent(fmt.Errorf("rule %s target %s: event forwarded %d times between buses; stopped (a loop?)", t.RuleName, t.ID, hops))
	}
	eventID := EventID(m)
	h := map[string]string{HeaderBus: t.Name, HeaderHops: strconv.Itoa(hops + 1), wims.HeaderEventID: eventID}
	if tp := m.Header[wims.HeaderTraceParent]; tp != "" {
		h[wims.HeaderTraceParent] = tp
	}
	if cc := m.Header[wims.HeaderClaimCheck]; cc != "" {
		h[wims.HeaderClaimCheck] = cc // the reference travels with the event
	}
	id := "fwd:" + t.Key + ":" + eventID
	if replay := m.Header[wims.HeaderReplayName]; replay != "" {
		h[wims.HeaderReplayName] = replay
		id = "fwd:" + t.Key + ":" + replay + ":" + eventID
	}
	out := wims.Outgoing{Subject: d.Subjects.Bus(t.Name), ID: id, Data: m.Data, Header: h}
	if _, err := d.Bus.PublishBatch(ctx, []wims.Outgoing{out}); err != nil {
		return fmt.Errorf("forward to bus %s: %w", t.Name, err)
	}
	return nil
}

// age is how long ago the event reached the bus (or was redriven: a
// redriven delivery gets its age anew, like its attempts).
func (d *Deliverer) age(m *wims.Message) time.Duration {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	base := m.Header[wims.HeaderRedrivenAt]
	if base == "" {
		base = m.Header[HeaderIngested]
	}
	t, err := time.Parse(time.RFC3339Nano, base)
	if err != nil {
		return 0
	}
	return now().Sub(t)
}

func (d *Deliverer) log() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}
