package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/wims/wims"
	"github.com/wims/wims/eventbridge"
	"github.com/wims/wims/eventcrypt"
	"github.com/wims/wims/eventlog"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/payments"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/router"
	"github.com/wims/wims/rules"
	"github.com/wims/wims/tracing"
	"github.com/wims/wims/workflow"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// App is a running wims: every component of `wims serve`, wired. Tests start
// one in-process with StartApp, just as the command does.
type App struct {
	cfg       Config
	log       *slog.Logger
	store     wims.Store
	bus       *nats.Bus
	consumers []*nats.Consumer
	httpAddr  net.Addr
	payURL    string
	tracer    *sdktrace.TracerProvider
	spans     *tracing.SpanStore // the recent traces, for GET /traces and the console
	leaders   *nats.Leadership
	workflow  *workflow.Workflow
	platform  *platform.Service
	catalog   *platform.Catalog
	routed    *router.Metrics     // routing outcomes, also of the relay's event-log entries
	eventLog  *eventlog.Log       // writes the default event log: its target and the relay (startPlatform)
	crypt     *eventcrypt.Keyring // sensitive event fields (eventKeys)
	unlock    func()              // releases the data dir lock
	httpSrv   *http.Server
	// stopCallees stops what the pipeline calls (the built-in mock payments
	// API); Close calls it only after the pipeline has stopped.
	stopCallees context.CancelFunc

	cancel context.CancelFunc
	wg     sync.WaitGroup
	errs   chan error
	closed sync.Once
}

// StartApp starts every component and returns once the HTTP API is serving.
// Stop it with Close.
func StartApp(ctx context.Context, cfg Config, log *slog.Logger) (_ *App, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// The components run until Close, not until ctx ends: Close stops them
	// in dependency order, which cancelling ctx would not.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a := &App{cfg: cfg, log: log, cancel: cancel, errs: make(chan error, 8)}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if a.unlock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	// Spans get real ids so one trace id runs from the HTTP request through
	// the change log, the bus and the workflow to the payment call.
	a.spans = tracing.NewSpanStore(tracing.SpanStoreOptions{})
	if a.tracer, err = newTracerProvider(ctx, cfg.OTLPEndpoint, a.spans); err != nil {
		return nil, err
	}
	if err := a.startPprof(ctx); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	ruleSet, err := loadRules(cfg.ConfigFile, cfg.FulfillmentURL)
	if err != nil {
		return nil, err
	}

	if a.store, err = openStore(ctx, cfg, log); err != nil {
		return nil, err
	}

	if cfg.Architecture == "v1" {
		// The course's synchronous design, for comparison: no bus (v1.go).
		if err := a.startV1(ctx, reg); err != nil {
			return nil, err
		}
		return a, nil
	}

	instanceID, err := loadInstanceID(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	syncAlways, syncInterval, _ := cfg.busSync() // validated above
	a.bus, err = nats.Open(ctx, nats.Config{
		URLs: cfg.NATSURLs, StoreDir: filepath.Join(cfg.DataDir, "jetstream"), Namespace: cfg.Namespace,
		Replicas: cfg.NATSReplicas, SyncAlways: syncAlways, SyncInterval: syncInterval, SyncJournal: cfg.BusSyncJournal,
		Logger: log, Registry: reg,
	})
	if err != nil {
		return nil, fmt.Errorf("open bus: %w", err)
	}

	if err := a.startPaymentsAPI(ctx); err != nil {
		return nil, err
	}

	a.workflow = workflow.New(workflow.Options{
		Store: a.store, Bus: a.bus, PaymentsSubject: a.bus.Subject("payments", "requests"),
		RefundsSubject: a.bus.Subject("payments", "refunds"),
		Logger:         log.With("component", "workflow"), Metrics: workflow.NewMetrics(reg),
	})
	if a.leaders, err = a.bus.Leadership(ctx, instanceID, 0); err != nil {
		return nil, fmt.Errorf("leader election: %w", err)
	}
	if err := a.startPayments(ctx, reg); err != nil {
		return nil, err
	}

	refs, err := a.startPlatform(ctx, ruleSet, reg)
	if err != nil {
		return nil, err
	}
	refs = append(refs, consumerRef{nats.Payments, paymentsDispatcher})
	reg.MustRegister(newBacklogCollector(a.bus, refs))

	crypt, err := a.eventKeys()
	if err != nil {
		return nil, err
	}
	rel := relay.New(relay.Options{
		Protect: crypt.SealDetail,
		Log:     a.store, Bus: a.bus, Subject: a.bus.Subject("events", "cdc"), Retention: 24 * time.Hour,
		// Domain events have a subject of their own, not the default bus's,
		// so the event-log lane, which needs only what is put on that bus
		// (the relay logs its own events), is not even sent them.
		DomainSubject: a.bus.Subject("events", "domain"),
		Logger:        log.With("component", "relay"), Metrics: relay.NewMetrics(reg),
		EventLog: a.relayEventLog(),
	})
	a.lead(ctx, "relay", rel.Run)
	reconciler := &workflow.Reconciler{
		Store: a.store, Workflow: a.workflow, Queue: nats.Queue{Bus: a.bus, Durable: paymentsDispatcher}, Grace: cfg.ReconcileGrace,
		Logger: log.With("component", "reconciler"), Actions: workflow.NewReconcileMetrics(reg),
	}
	a.lead(ctx, "reconciler", reconciler.Run)

	opt, err := a.apiOptions(reg)
	if err != nil {
		return nil, err
	}
	opt.Events = &eventlog.Log{Bus: a.bus, Subject: a.eventLog.Subject, GroupSubject: a.logGroupSubject, Patterns: crypt.RewritePattern}
	opt.DeadLetters = a.bus
	opt.Platform = a.platform
	opt.Schemas = a.platform
	wire := eventbridge.Options{Platform: a.platform, Logger: log.With("component", "eventbridge")}
	schemasWire := eventbridge.SchemasOptions{Registry: a.platform, Logger: log.With("component", "schemas")}
	if len(opt.APIKeys) > 0 {
		wire.Auth = newSigV4Auth(opt.APIKeys)
		schemasWire.Auth = wire.Auth
	}
	rest := wimshttp.NewServer(opt)
	h := withWireAPI(rest, eventbridge.NewHandler(wire), eventbridge.NewSchemasHandler(schemasWire))
	con := a.newConsole(opt)
	a.httpAddr, err = a.serveHTTP(ctx, withConsole(con, h))
	if err != nil {
		return nil, err
	}
	a.closeStreamsOnShutdown(con)
	a.httpSrv.RegisterOnShutdown(rest.CloseStreams)
	log.Info("wims serving", "url", "http://"+a.httpAddr.String()+"/", "version", version(), "addr", a.httpAddr.String(), "data_dir", absPath(cfg.DataDir), "rules", len(ruleSet.Rules()),
		"durable", !cfg.NoSync, "bus_sync", cfg.BusSync, "payments_url", a.payURL, "payments_rate", cfg.PaymentsRate,
		"api_keys", len(opt.APIKeys), "rate_limit", cfg.RateLimit)
	for id, c := range awsCredentials(opt.APIKeys) {
		log.Info("API key usable by AWS CLI/SDK clients (SigV4; the secret is the key)", "aws_access_key_id", id, "role", c.role)
	}
	return a, nil
}

// absPath shows where data lives, resolved, for the startup log.
func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// apiOptions are the HTTP API's options common to both architectures:
// the store, authentication, rate limits, metrics and tracing.
func (a *App) apiOptions(reg *prometheus.Registry) (wimshttp.Options, error) {
	keys, err := a.cfg.apiKeys()
	if err != nil {
		return wimshttp.Options{}, err
	}
	if len(keys) == 0 && !isLoopback(hostOf(a.cfg.Addr)) {
		a.log.Warn("serving without authentication on a non-loopback address (--insecure)", "addr", a.cfg.Addr)
	}
	return wimshttp.Options{
		Store: a.store, Payloads: a.store, Logger: a.log.With("component", "http"), Registry: reg,
		TracerProvider: a.tracer, Traces: a.spans, APIKeys: keys, RateLimit: a.cfg.RateLimit, Version: version(),
		Checks: a.healthChecks(),
	}, nil
}

// healthChecks are what GET /healthz reports: the store (can it read, and
// write: a full disk shows here) and the bus (connected, JetStream up).
func (a *App) healthChecks() []wimshttp.Check {
	var checks []wimshttp.Check
	if a.bus != nil { // v1 runs without a bus
		checks = append(checks, wimshttp.Check{Name: "bus", Run: a.bus.Check})
	}
	if c, ok := a.store.(interface{ Check(context.Context) error }); ok {
		checks = append(checks, wimshttp.Check{Name: "store", Run: c.Check})
	}
	return checks
}

// startPaymentsAPI points the payments at --payments-url, or starts the
// built-in mock (the course's throttled API: 5 req/s, burst 5) on its own
// loopback port when none is given.
func (a *App) startPaymentsAPI(ctx context.Context) error {
	a.payURL = a.cfg.PaymentsURL
	if a.payURL != "" {
		return nil
	}
	// Not ctx: the mock outlives the pipeline on shutdown, so the dispatcher
	// never records "connection refused" for a mock that stopped first.
	mctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopCallees = cancel
	_, addr, err := paymentsmock.ListenAndServe(mctx, "127.0.0.1:0",
		paymentsmock.Options{Rate: paymentsmock.DefaultRate, Burst: paymentsmock.DefaultBurst}, a.log.With("component", "payments-mock"))
	if err != nil {
		return fmt.Errorf("start mock payments API: %w", err)
	}
	a.payURL = "http://" + addr.String() + "/payments"
	a.log.Info("mock payments API serving", "url", a.payURL, "rate", paymentsmock.DefaultRate, "burst", paymentsmock.DefaultBurst)
	return nil
}

// loadRules compiles the built-in rules, the fulfillment rule if
// fulfillmentURL is set, and the rules of the config file at path, which
// may replace either.
func loadRules(path, fulfillmentURL string) (*rules.Set, error) {
	var cfg rules.Config
	if path != "" {
		var err error
		if cfg, err = rules.LoadFile(path); err != nil {
			return nil, fmt.Errorf("--config %s: %w", path, err)
		}
	}
	defaults := rules.Defaults()
	if fulfillmentURL != "" {
		defaults = append(defaults, rules.Fulfillment(fulfillmentURL))
	}
	return rules.Compile(rules.Merge(defaults, cfg))
}

// startPayments runs the payment dispatcher on the payments work queue while
// this instance leads "payments": one dispatcher per deployment, so the
// configured rate is the global rate the payments API sees.
func (a *App) startPayments(ctx context.Context, reg prometheus.Registerer) error {
	d, err := payments.New(payments.Options{
		URL: a.payURL, Rate: a.cfg.PaymentsRate, MaxBackoff: a.cfg.PaymentsMaxBackoff, Store: a.store,
		Logger: a.log.With("component", "payments"), Registry: reg,
	})
	if err != nil {
		return fmt.Errorf("payments dispatcher: %w", err)
	}
	h := tracing.Handler(a.tracer, "payments", d.Handle)
	a.lead(ctx, "payments", func(ctx context.Context) error {
		d.StartTerm(nats.TermOf(ctx).PreviousEnd)
		c, err := a.bus.Consume(ctx, nats.ConsumerSpec{
			Stream: nats.Payments, Durable: paymentsDispatcher, FilterSubject: a.bus.Subject("payments", ">"),
			MaxDeliver: -1, Concurrency: dispatcherConcurrency, AckWait: 10 * time.Second,
		}, h)
		if err != nil {
			return fmt.Errorf("start payments consumer: %w", err)
		}
		<-ctx.Done()
		c.Stop()
		return nil
	})
	return nil
}

// paymentsDispatcher is the durable consumer of the payments queue; the
// reconciler reads what it has not handled yet (nats.Queue).
const paymentsDispatcher = "payments-dispatcher"

// dispatcherConcurrency is how many payments the dispatcher works on at once.
// The rate gate, not this, decides how fast the payments API is called; this
// only has to cover the calls in flight plus the commits of their outcomes at
// the rate the pipeline reserves (a burst: all PAID 1.8x the accept time with
// 16, 1.5-1.7x with 128). A waiting handler keeps its message with InProgress.
const dispatcherConcurrency = 128

// lead runs f while this instance leads name (see nats.Leadership).
func (a *App) lead(ctx context.Context, name string, f func(ctx context.Context) error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.leaders.Run(ctx, name, f, func(err error) {
			a.log.Error("leader component failed; restarting it", "component", name, "err", err)
		})
	}()
}

func (a *App) serveHTTP(ctx context.Context, h http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", a.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.httpSrv = srv
	a.goRun("http", func() error {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return ln.Addr(), nil
}

// goRun runs a component until it returns; an error other than the context's
// is reported on Errors.
func (a *App) goRun(name string, f func() error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("component failed", "component", name, "err", err)
			select {
			case a.errs <- fmt.Errorf("%s: %w", name, err):
			default:
			}
		}
	}()
}

// Addr is the HTTP API's bound address.
func (a *App) Addr() net.Addr { return a.httpAddr }

// PaymentsURL is the payments API the dispatcher calls.
func (a *App) PaymentsURL() string { return a.payURL }

// Errors reports components that failed; the command stops on the first.
func (a *App) Errors() <-chan error { return a.errs }

// Close stops everything in dependency order: intake first (the HTTP API
// finishes its requests within --shutdown-grace and takes no more), then
// the pipeline (relay, leaders, consumers, letting in-flight work finish),
// then what the pipeline calls (the built-in mock payments API), then the
// bus and the store.
func (a *App) Close() error {
	var err error
	a.closed.Do(func() {
		if a.httpSrv != nil {
			sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownGrace)
			_ = a.httpSrv.Shutdown(sctx)
			cancel()
		}
		a.cancel()
		a.wg.Wait()
		for _, c := range a.consumers {
			c.Stop()
		}
		if a.stopCallees != nil {
			a.stopCallees()
		}
		if a.bus != nil {
			err = errors.Join(err, a.bus.Close())
		}
		if a.store != nil {
			err = errors.Join(err, a.store.Close())
		}
		if a.tracer != nil {
			err = errors.Join(err, a.tracer.Shutdown(context.Background()))
		}
		if a.unlock != nil {
			a.unlock()
		}
	})
	return err
}
