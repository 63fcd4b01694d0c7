package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/wims/wims"
	"github.com/wims/wims/apidest"
	"github.com/wims/wims/eventcrypt"
	"github.com/wims/wims/eventlog"
	"github.com/wims/wims/mail"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/notify"
	"github.com/wims/wims/pattern"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/router"
	"github.com/wims/wims/rules"
	"github.com/wims/wims/tracing"
	"github.com/wims/wims/webhook"
)

// startPlatform starts the event platform: the service over the store's
// resources, the catalog that every routing component reads, the built-in
// rules and those of --config reconciled into the store, one consumer per
// lane (order workflow, notifications, event log), the fan-out consumer and,
// on the elected instance, the delivery worker.
func (a *App) startPlatform(ctx context.Context, set *rules.Set, reg prometheus.Registerer) ([]consumerRef, error) {
	sealer, err := a.sealer()
	if err != nil {
		return nil, err
	}
	crypt, err := a.eventKeys()
	if err != nil {
		return nil, err
	}
	if err := a.admitEventKeys(ctx, crypt); err != nil {
		return nil, err
	}
	subjects := platform.Subjects{Events: a.bus.Subject("events"), Deliveries: a.bus.Subject("deliveries", "targets")}
	var catalog *platform.Catalog
	a.platform = platform.New(platform.Options{
		Store: a.store, Bus: a.bus, Sealer: sealer, Archives: a.bus, Payloads: a.store, Patterns: crypt.RewritePattern, Seal: crypt.SealDetail, Subjects: subjects, Logger: a.log.With("component", "platform"),
		// Reload before the write returns, so this instance routes with a
		// rule as soon as the call that made it has answered (other
		// instances within the catalog's poll).
		Changed: func() {
			if _, err := catalog.Load(context.WithoutCancel(ctx)); err != nil {
				catalog.Kick()
			}
		},
	})
	catalog = platform.NewCatalog(a.platform, 500*time.Millisecond, a.log.With("component", "catalog"))
	a.catalog = catalog
	if err := a.platform.Reconcile(ctx, set.Rules()); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	if _, err := catalog.Load(ctx); err != nil {
		return nil, fmt.Errorf("load rules: %w", err)
	}
	a.goRun("catalog", func() error { return catalog.Run(ctx) })

	metrics := router.NewMetrics(reg)
	a.routed = metrics
	var mailer notify.Mailer
	if a.cfg.SMTPURL != "" {
		sender, err := mail.New(a.cfg.SMTPURL, a.cfg.NotifyEmailFrom)
		if err != nil {
			return nil, fmt.Errorf("--smtp-url: %s", wims.ErrorMessage(err))
		}
		mailer = sender
	}
	// A throttling webhook waits at most --payments-max-backoff per attempt
	// and, like any failing one, is dead-lettered after the lane's attempts.
	hooks := &webhook.Client{HTTP: &http.Client{Timeout: 10 * time.Second}, MaxRetryAfter: a.cfg.PaymentsMaxBackoff}
	notifications := notify.New(notify.Options{
		Store: a.store, Webhooks: a.cfg.NotifyWebhooks, Client: hooks, Logger: a.log.With("component", "notify"),
		Mailer: mailer, Emails: a.cfg.NotifyEmails,
		MaxAttempts: laneMaxDeliver,
	}).Handle
	a.eventLog = &eventlog.Log{Bus: a.bus, Subject: a.bus.Subject("eventlog", "events")}
	lanes := map[string]struct {
		h           wims.Handler
		concurrency int
	}{
		platform.LaneWorkflow: {a.workflow.Handle, workflowConcurrency},
		// Every event passes through the lane (most are skipped by its
		// rules), so its handlers must keep up with the bus, not with the
		// few crossings they report: with 4, a 1,000 orders/s load left it
		// a third behind after 30 s.
		platform.LaneNotifications: {notifications, 64},
		// The relay logs its own events (relayEventLog), so what is left
		// here is what is put on the default bus. Appends share atomic
		// batches (nats/groupcommit.go), whose cost is mostly per batch:
		// the more in flight, the more share one (a burst: 34 copies per
		// batch with 64, 118 with 256).
		platform.LaneEventLog: {a.eventLog.Handle, eventLogConcurrency},
	}
	var refs []consumerRef
	for _, lane := range platform.Lanes {
		l := lanes[lane]
		current := func(m *wims.Message) *pattern.Matcher {
			if platform.BusOf(m) != wims.DefaultBus {
				return nil
			}
			if lane == platform.LaneEventLog && m.Header[wims.HeaderLogged] != "" {
				return nil // the relay has logged it (relayEventLog)
			}
			return catalog.Snapshot().Lane(lane)
		}
		if err := a.consume(ctx, nats.ConsumerSpec{
			Stream: nats.Events, Durable: "target-" + lane, FilterSubject: a.bus.Subject("events", ">"),
			// A lane routes the default bus only: its change and domain
			// events, and what is put on it. Events of other buses are not
			// even delivered to it (half of a PutEvents load's deliveries).
			FilterSubjects: laneSubjects(lane, a.bus.Subject("events", "cdc"), a.bus.Subject("events", "domain"), subjects.Bus(wims.DefaultBus)),
			// Handlers take milliseconds and send InProgress when slower, so a
			// short AckWait only shortens redelivery after a crash.
			MaxDeliver: laneMaxDeliver, Concurrency: l.concurrency, AckWait: 5 * time.Second,
		}, router.RouteLive(lane, current, tracing.Handler(a.tracer, lane, l.h), metrics)); err != nil {
			return nil, err
		}
		refs = append(refs, consumerRef{nats.Events, "target-" + lane})
	}

	if !a.cfg.NoSchemaDiscovery {
		if err := a.platform.EnsureDefaultDiscoverer(ctx); err != nil {
			return nil, fmt.Errorf("schema discoverer: %w", err)
		}
	}
	discovery := platform.NewDiscovery(a.platform, a.log.With("component", "schema-discovery"))
	a.goRun("schema-discovery", func() error { return discovery.Run(ctx) })
	fanout := &platform.Fanout{Catalog: catalog, Bus: a.bus, Deliveries: subjects.Deliveries, Discovery: discovery}
	if err := a.consume(ctx, nats.ConsumerSpec{
		Stream: nats.Events, Durable: "platform-fanout", FilterSubject: a.bus.Subject("events", ">"),
		// Each handler waits for its deliveries' publish acks (an fsync with
		// --bus-sync always); many in flight share the fsyncs.
		MaxDeliver: 10, Concurrency: 64, AckWait: 5 * time.Second,
	}, fanout.Handle); err != nil {
		return nil, err
	}
	refs = append(refs, consumerRef{nats.Events, "platform-fanout"}, consumerRef{nats.Deliveries, "platform-deliveries"})

	deliverer := &platform.Deliverer{
		Catalog: catalog, Invoker: &apidest.Invoker{HTTP: &http.Client{Transport: deliveryTransport()}, MaxRetryAfter: a.cfg.PaymentsMaxBackoff},
		Limiter: &apidest.Limiter{}, Bus: a.bus, Subjects: subjects,
		Workflow: a.workflow.Handle, Notifications: notifications,
		LogGroup: func(group string) wims.Handler {
			return (&eventlog.Log{Bus: a.bus, Subject: a.logGroupSubject(group)}).Handle
		},
		Logger: a.log.With("component", "deliveries"),
	}
	h := tracing.Handler(a.tracer, "deliveries", deliverer.Handle)
	replayer := &platform.Replayer{
		Service: a.platform, Catalog: catalog, Deliver: h, Queue: a.bus, Deliveries: subjects.Deliveries,
		Logger: a.log.With("component", "replays"),
	}
	// One delivery worker (and replayer) per deployment, so API
	// destinations' invocation rates hold globally.
	a.lead(ctx, "deliveries", func(ctx context.Context) error {
		c, err := a.bus.Consume(ctx, nats.ConsumerSpec{
			Stream: nats.Deliveries, Durable: "platform-deliveries", FilterSubject: subjects.Deliveries,
			MaxDeliver: -1, Concurrency: 128, AckWait: 10 * time.Second, MaxAckPending: 4096,
		}, h)
		if err != nil {
			return fmt.Errorf("start deliveries consumer: %w", err)
		}
		err = replayer.Run(ctx)
		c.Stop()
		return err
	})
	janitor := &platform.PayloadJanitor{
		Payloads: a.store, Retention: payloadRetention, Interval: time.Hour,
		Archives: func(ctx context.Context) ([]wims.Archive, error) {
			return a.platform.ListArchives(ctx, wims.ArchiveFilter{})
		},
		Logger: a.log.With("component", "payloads"),
	}
	a.lead(ctx, "payloads", janitor.Run)
	return refs, nil
}

// laneSubjects are the subjects a lane's consumer reads: the default bus's
// change events, domain events and what is put on it; for the event-log
// lane only the last, since the relay logs the others itself (a burst's
// order sent it six events to skip). On a server before 2.10 the lane
// reads all and skips them (the relay marks them Wims-Logged).
func laneSubjects(lane, changes, domain, defaultBus string) []string {
	if lane == platform.LaneEventLog {
		return []string{defaultBus}
	}
	return []string{changes, domain, defaultBus}
}

// payloadRetention is how long the streams keep what may refer to a
// claim-checked payload (nats/streams.go: the events stream and the event
// log 7 days, dead letters 30; a target's MaximumEventAgeInSeconds at most
// a day). TestPayloadRetentionMatchesStreams holds it to the streams.
var payloadRetention = platform.PayloadRetention{Events: 7 * 24 * time.Hour, Delivery: wims.MaxEventAgeSeconds * time.Second, DeadLetters: 30 * 24 * time.Hour}

// workflowConcurrency is how many order events the workflow handles at once.
// An order spends most of its workflow waiting: for its reservation's commit
// batch and for its payment request's publish batch (tens of milliseconds
// each in a burst), so throughput is in-flight orders over that latency, and
// the more wait together, the more share one commit. A burst of 4,000 orders
// (BENCHMARKS.md, "Pipeline burst"): all RESERVED 3.3x the accept time with
// 32, 1.5x with 256.
const workflowConcurrency = 256

// eventLogConcurrency is how many events the event log appends at once; see
// the lane table in startPlatform.
const eventLogConcurrency = 256

// laneMaxDeliver is how many deliveries a lane consumer makes of a failing
// event before dead-lettering it; the notifier counts throttled webhook
// answers against the same bound.
const laneMaxDeliver = 10

// logGroupSubject is where a log group target's events are kept ('.' in
// the name escaped, as for bus subjects).
func (a *App) logGroupSubject(group string) string {
	return a.bus.Subject("eventlog", "group", strings.ReplaceAll(group, ".", "%2E"))
}

// deliveryTransport keeps connections to API destinations open: with the
// default transport's 2 idle connections per host, 128 concurrent
// deliveries to one endpoint would open a new connection for most calls.
func deliveryTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 128
	return t
}

// consume starts a durable consumer that lives as long as the App.
func (a *App) consume(ctx context.Context, spec nats.ConsumerSpec, h wims.Handler) error {
	c, err := a.bus.Consume(ctx, spec, h)
	if err != nil {
		return fmt.Errorf("start consumer %s: %w", spec.Durable, err)
	}
	a.consumers = append(a.consumers, c)
	return nil
}

// eventKeys builds the keyring of sensitive event fields from --event-key,
// or from the key "default" in a key file created in the data directory on
// first use (instances sharing a store need the same keys: a rule compiled
// on one must match events encrypted on another).
func (a *App) eventKeys() (*eventcrypt.Keyring, error) {
	if a.crypt != nil {
		return a.crypt, nil
	}
	var keys []eventcrypt.Key
	for _, s := range a.cfg.EventKeys {
		k, err := eventcrypt.ParseKey(s)
		if err != nil {
			return nil, fmt.Errorf("--event-key: %w", err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		h, err := platform.LoadOrCreateKeyFile(filepath.Join(a.cfg.DataDir, "event.key"))
		if err != nil {
			return nil, err
		}
		k, err := eventcrypt.ParseKey("default:" + h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Join(a.cfg.DataDir, "event.key"), err)
		}
		keys = append(keys, k)
	}
	r, err := eventcrypt.New(keys, a.cfg.SensitiveFields)
	if err != nil {
		return nil, fmt.Errorf("--event-key / --sensitive-field: %w", err)
	}
	a.crypt = r
	return r, nil
}

// sealer builds the connection-secret sealer from --secrets-key, or from a
// key file created in the data directory on first use.
func (a *App) sealer() (*platform.Sealer, error) {
	key := a.cfg.SecretsKey
	if key == "" {
		var err error
		if key, err = platform.LoadOrCreateKeyFile(filepath.Join(a.cfg.DataDir, "secrets.key")); err != nil {
			return nil, err
		}
	}
	s, err := platform.NewSealer(key)
	if err != nil {
		return nil, fmt.Errorf("--secrets-key: %w", err)
	}
	return s, nil
}

// relayEventLog is the relay's Options.EventLog: the relay appends its own
// events (changes and the domain events derived from them) to the event log
// beside the batch that publishes them, decided by the event-log target's
// rules as the target would decide, instead of the target copying each one
// after its delivery with a round trip and a group-commit wait (it fell
// 15,000 events behind in a burst, BENCHMARKS.md). The target keeps what is
// put on the default bus through the API.
func (a *App) relayEventLog() func(*wims.Message) (wims.Outgoing, bool, error) {
	return func(m *wims.Message) (wims.Outgoing, bool, error) {
		ok, err := router.Matches(platform.LaneEventLog, a.catalog.Snapshot().Lane(platform.LaneEventLog), m.Data, a.routed)
		if err != nil || !ok {
			return wims.Outgoing{}, false, err
		}
		e, err := a.eventLog.Entry(m)
		return e, err == nil, err
	}
}
