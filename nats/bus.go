// Package nats is the event bus of wims, built on NATS JetStream.
//
// By default the bus embeds a JetStream server in the process and talks to it
// over an in-process connection, so `wims serve` opens no NATS port and needs
// nothing installed. Given URLs, the same code connects to an external server
// or cluster instead, and several wims instances share the work through
// durable consumers.
//
// # Streams
//
// Every stream, consumer and subject is prefixed by a namespace (default
// "wims"), so several buses can share one server without seeing each other:
//
//	WIMS_EVENTS      wims.events.>    Limits, 7 days: the bus itself (change events)
//	WIMS_PAYMENTS    wims.payments.>  Limits, 24 h: payment requests; queued = not yet acknowledged
//	WIMS_EVENTLOG    wims.eventlog.>  Limits, 7 days, 1M messages: the browsable event log
//	WIMS_DEADLETTER  wims.dlq.>       Limits, 30 days: dead letters, browsable and redrivable
//
// # Delivery
//
// Every hop is at-least-once. Publishers set a message id (Nats-Msg-Id) and the
// streams drop a repeated id inside their duplicates window; consumers get
// each message until their handler returns nil, and must be idempotent
// because JetStream can redeliver acknowledged messages after a crash (see
// Bus.Consume). A handler error is retried with backoff; a permanent error,
// or one on the last allowed delivery, moves the message to the dead-letter
// stream, from which Bus.Redrive puts it back.
package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// DefaultNamespace prefixes streams, consumers and subjects when
// Config.Namespace is empty.
const DefaultNamespace = "wims"

// Config says where the bus lives and how its streams are created.
type Config struct {
	// URLs of an external NATS server or cluster (nats://host:port). Empty
	// starts an embedded server in-process that listens on no TCP port.
	URLs []string
	// StoreDir is the embedded server's JetStream store directory. Required
	// when embedded; ignored otherwise.
	StoreDir string
	// Namespace prefixes every stream (upper case, WIMS_EVENTS), consumer and
	// subject (lower case, wims.events.cdc). Default "wims". Letters, digits,
	// '_' and '-' only, because it becomes part of stream names and subjects.
	Namespace string
	// Replicas of every stream and consumer. Default 1; the embedded server
	// only supports 1.
	Replicas int
	// SyncAlways makes the embedded server fsync before every ack, so an
	// acknowledged publish survives power loss, not only a process crash.
	// Callers pass true by default (the durable mode); tests pass false for
	// speed. External servers decide this in their own configuration.
	SyncAlways bool
	// SyncInterval, when SyncAlways is off, is how often the embedded server
	// fsyncs what was written since the last sync, and turns on the store's
	// group commit (storesync.go): Publish and PublishBatch return only once
	// a message that is not Rebuildable is fsynced, so it survives power
	// loss; a Rebuildable one survives a process crash at once and power
	// loss after at most SyncInterval. Zero leaves JetStream's default (2
	// minutes) and no group commit: tests that do not care about power loss.
	SyncInterval time.Duration
	// SyncJournal, with SyncInterval, names a file that gets a line per
	// group commit of the store: the size each block file was made durable
	// up to. It exists for the power-loss test, which throws away the rest.
	SyncJournal string
	// Logger receives connection events and dead-letter warnings. Nil
	// discards them.
	Logger *slog.Logger
	// Registry receives the bus's Prometheus collectors. Nil registers
	// nothing, so tests and several buses in one process do not collide.
	Registry prometheus.Registerer
}

// Bus is an open connection to JetStream with the wims streams in place. It
// is safe for concurrent use.
type Bus struct {
	cfg  Config
	ns   string // namespace for subjects and consumer names (lower case)
	nsUp string // namespace for stream names (upper case)
	log  *slog.Logger
	srv  *embedded // nil when connected to an external server
	nc   *natsgo.Conn
	// qc serves queries (the event log, dead letters): a slow reader
	// there never backs up the pipeline's connection.
	qc  *natsgo.Conn
	qjs jetstream.JetStream // on qc
	// pc carries the batches (PublishBatch: the relay's events, fan-out
	// deliveries, PutEvents entries), so that the server, which reads each
	// connection in one goroutine, stores them beside the consumers' pull
	// requests, acks and single publishes on nc instead of behind them (a
	// burst's relay lag: 25 ms against 125 ms on one connection), and a
	// handler's single publish does not wait behind a batch of thousands.
	pc      *natsgo.Conn
	pjs     jetstream.JetStream // on pc
	pclosed chan struct{}       // closed by pc's ClosedHandler
	js      jetstream.JetStream
	closed  chan struct{} // closed by the connection's ClosedHandler
	met     *metrics
	// stopSupervisor ends superviseJetStream (embedded only); supervised
	// is closed when it has returned.
	stopSupervisor chan struct{}
	supervised     chan struct{}
	// pubFailed says the last publish failed (Check probes until one works).
	pubFailed atomic.Bool
	// batchable lists the streams that take atomic batches (atomic.go).
	batchable atomicStreams
	// groups holds each stream's queue of single publishes (groupcommit.go).
	groups sync.Map // stream name → *groupCommit
	// stored group-commits the embedded store under SyncInterval
	// (storesync.go); nil when every ack is durable already (SyncAlways,
	// external servers) or durability is off.
	stored *storeSync

	mu        sync.Mutex
	consumers map[*Consumer]struct{} // running consumers, stopped by Close
	isClosed  bool
}

// validName accepts what may appear both in a stream or consumer name and in
// a subject token.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Open starts the embedded server (or connects to cfg.URLs), then creates or
// updates the streams, so that opening twice is harmless and a new version
// can change stream limits. ctx bounds the whole start-up.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if !validName.MatchString(cfg.Namespace) {
		return nil, fmt.Errorf("nats: invalid namespace %q: use letters, digits, '_' or '-'", cfg.Namespace)
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	if len(cfg.URLs) == 0 {
		if cfg.StoreDir == "" {
			return nil, errors.New("nats: StoreDir is required for the embedded server")
		}
		if cfg.Replicas != 1 {
			return nil, fmt.Errorf("nats: the embedded server supports 1 replica, not %d", cfg.Replicas)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{
		cfg:       cfg,
		ns:        strings.ToLower(cfg.Namespace),
		nsUp:      strings.ToUpper(cfg.Namespace),
		log:       log.With("component", "nats"),
		closed:    make(chan struct{}),
		pclosed:   make(chan struct{}),
		met:       newMetrics(cfg.Registry),
		consumers: make(map[*Consumer]struct{}),
	}
	events := []natsgo.Option{
		natsgo.DisconnectErrHandler(func(c *natsgo.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "conn", c.Opts.Name, "err", err)
			}
		}),
		natsgo.ReconnectHandler(func(c *natsgo.Conn) {
			b.log.Info("nats reconnected", "conn", c.Opts.Name, "url", c.ConnectedUrlRedacted())
		}),
		// Asynchronous errors (a subscription dropping messages it could not
		// buffer, a permissions violation) would otherwise go unseen.
		natsgo.ErrorHandler(func(c *natsgo.Conn, sub *natsgo.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			b.log.Warn("nats asynchronous error", "conn", c.Opts.Name, "subject", subject, "err", err)
		}),
	}
	if len(cfg.URLs) == 0 {
		if !cfg.SyncAlways && cfg.SyncInterval > 0 {
			b.stored = newStoreSync(cfg.StoreDir, cfg.SyncJournal)
		}
		var err error
		if b.srv, err = newEmbedded(cfg, b.log); err != nil {
			return nil, err
		}
	}
	fail := func(err error) (*Bus, error) {
		for _, c := range []*natsgo.Conn{b.pc, b.qc, b.nc} {
			if c != nil {
				c.Close()
			}
		}
		b.shutdownServer()
		return nil, err
	}
	var err error
	if b.nc, err = b.connect(slices.Concat(events, []natsgo.Option{natsgo.Name("wims"), natsgo.ClosedHandler(func(*natsgo.Conn) { close(b.closed) })})...); err != nil {
		return fail(fmt.Errorf("nats: connect: %w", err))
	}
	if b.pc, err = b.connect(slices.Concat(events, []natsgo.Option{natsgo.Name("wims-batches"), natsgo.ClosedHandler(func(*natsgo.Conn) { close(b.pclosed) })})...); err != nil {
		return fail(fmt.Errorf("nats: connect for batches: %w", err))
	}
	if b.qc, err = b.connect(natsgo.Name("wims-queries")); err != nil {
		return fail(fmt.Errorf("nats: connect for queries: %w", err))
	}
	if b.qjs, err = jetstream.New(b.qc); err != nil {
		return fail(fmt.Errorf("nats: jetstream for queries: %w", err))
	}
	// Bound how long an async publish can wait for its ack, so a lost ack
	// (leader change, reconnect) surfaces as an error instead of a leak.
	timeout := jetstream.WithPublishAsyncTimeout(30 * time.Second)
	if b.js, err = jetstream.New(b.nc, timeout); err != nil {
		return fail(fmt.Errorf("nats: jetstream: %w", err))
	}
	if b.pjs, err = jetstream.New(b.pc, timeout); err != nil {
		return fail(fmt.Errorf("nats: jetstream for batches: %w", err))
	}
	if err := b.ensureStreams(ctx); err != nil {
		return fail(err)
	}
	b.stopSupervisor, b.supervised = make(chan struct{}), make(chan struct{})
	if b.srv != nil {
		go func() { defer close(b.supervised); b.superviseJetStream() }()
	} else {
		close(b.supervised)
	}
	return b, nil
}

// Close stops the consumers still running (letting in-flight handlers
// finish), drains the connection so pending publishes and acks reach the
// server, and shuts the embedded server down, waiting until its store is
// closed so the directory can be reopened at once. Close is idempotent.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.isClosed {
		b.mu.Unlock()
		return nil
	}
	b.isClosed = true
	close(b.stopSupervisor)
	<-b.supervised
	cs := make([]*Consumer, 0, len(b.consumers))
	for c := range b.consumers {
		cs = append(cs, c)
	}
	b.mu.Unlock()

	for _, c := range cs {
		c.Stop()
	}
	b.qc.Close()
	var errs []error
	for _, c := range []struct {
		conn   *natsgo.Conn
		closed chan struct{}
	}{{b.pc, b.pclosed}, {b.nc, b.closed}} {
		if derr := c.conn.Drain(); derr != nil && !errors.Is(derr, natsgo.ErrConnectionClosed) {
			errs = append(errs, fmt.Errorf("nats: drain: %w", derr))
			c.conn.Close()
		}
		select {
		case <-c.closed:
		case <-time.After(35 * time.Second): // above the client's 30 s drain timeout
			c.conn.Close()
		}
	}
	b.shutdownServer()
	return errors.Join(errs...)
}

// connect opens one of the bus's connections to its server.
func (b *Bus) connect(opts ...natsgo.Option) (*natsgo.Conn, error) {
	if b.srv != nil {
		// Reconnect forever, and soon: superviseJetStream restarts the
		// embedded server after a full disk, and every connection must
		// come back to the new one.
		return natsgo.Connect("", append(opts, natsgo.InProcessServer(b.srv), natsgo.MaxReconnects(-1),
			natsgo.ReconnectWait(100*time.Millisecond), natsgo.ReconnectJitter(50*time.Millisecond, 0))...)
	}
	// Reconnect forever: a cluster rolling restart must not kill wims.
	return natsgo.Connect(strings.Join(b.cfg.URLs, ","), append(opts, natsgo.MaxReconnects(-1))...)
}

func (b *Bus) shutdownServer() {
	if b.srv != nil {
		b.srv.shutdown()
	}
}

// Subject returns the namespace and parts joined by dots:
// b.Subject("events", "cdc") is "wims.events.cdc".
func (b *Bus) Subject(parts ...string) string {
	return b.ns + "." + strings.Join(parts, ".")
}

// Namespace returns the bus's namespace as used in subjects (lower case).
func (b *Bus) Namespace() string { return b.ns }

// queryConn is the connection queries read on.
func (b *Bus) queryConn() *natsgo.Conn {
	if b.qc != nil {
		return b.qc
	}
	return b.nc
}

// Conn returns the underlying connection, for components that need plain
// NATS (request/reply, health checks). Do not close it; close the Bus.
func (b *Bus) Conn() *natsgo.Conn { return b.nc }

// JetStream returns the underlying JetStream context, for what the Bus does
// not wrap (key-value buckets, admin tools).
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

func (b *Bus) track(c *Consumer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.isClosed {
		return errors.New("nats: bus is closed")
	}
	b.consumers[c] = struct{}{}
	return nil
}

func (b *Bus) untrack(c *Consumer) {
	b.mu.Lock()
	delete(b.consumers, c)
	b.mu.Unlock()
}

// serverAtLeast reports whether the connected server's version is at least
// major.minor (a cluster is taken to run one version).
func (b *Bus) serverAtLeast(major, minor int) bool {
	return versionAtLeast(b.nc.ConnectedServerVersion(), major, minor)
}

// versionAtLeast compares a server version such as "2.10.3" or
// "2.11.0-beta.1" with major.minor; an unreadable one is taken as older.
func versionAtLeast(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}
