package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/wims/wims"
)

// Origin is the name this engine gives itself in change events' meta.origin.
const Origin = "postgres"

// defaultMaxConns is the pool size when Options.MaxConns is 0: enough
// concurrent transactions to let PostgreSQL group commits on a small machine,
// few enough to leave room for several instances under max_connections.
const defaultMaxConns = 16

// Options configure Open.
type Options struct {
	// URL is a PostgreSQL connection string (postgres://user@host/db?...).
	URL string
	// Now is the clock that stamps rows and changes; nil means time.Now.
	Now wims.Clock
	// Logger receives internal errors (a lost listener connection, a failed
	// reconnect); nil discards them.
	Logger *slog.Logger
	// Seed stores wims.SeedItem() if the inventory is empty the first time the
	// database is opened with Seed set. It is recorded, so it happens once,
	// even when several instances open the database at once.
	Seed bool
	// MaxConns bounds the store's pool of connections (the change listener
	// uses one more); 0 means 16.
	MaxConns int32
	// Committers is how many group-commit batches of order creations the
	// store runs at once, each on one pooled connection (see the package
	// doc, "Group commit"); 0 means 1. The pipeline's other writes have one
	// committer of their own, whatever this says.
	Committers int
}

// Store is a wims.Store backed by a PostgreSQL database. It is safe for
// concurrent use, also by several processes on the same database. Close it
// to release its connections.
type Store struct {
	pool   *pool
	clock  wims.Clock
	log    *slog.Logger
	signal chan struct{}
	listen *listener
	// announcing is signalled after each commit that appended changes; the
	// announcer sends one NOTIFY for all commits since its last one.
	announcing    chan struct{}
	stopAnnouncer context.CancelFunc
	announcerDone chan struct{}

	// batchOps queues order creations for the committers, aheadOps the
	// pipeline's other writes for the transition committer (batch.go);
	// batchMu guards sending on them against Close closing them, and
	// batchClosed records that.
	batchOps    chan *batchOp
	aheadOps    chan *batchOp
	batchMu     sync.RWMutex
	batchClosed bool
	committers  sync.WaitGroup

	// hooks let tests widen race windows inside write transactions; nil
	// fields (always, outside tests) do nothing.
	hooks hooks

	closeOnce sync.Once
}

var _ wims.Store = (*Store)(nil)

// errClosed is returned by operations started after Close.
var errClosed = wims.Errorf(wims.EUNAVAILABLE, "store is closed")

// Open connects to the database at opt.URL, applies pending migrations,
// starts listening for changes, and seeds the inventory if asked. Returns
// EINVALID (field "url") for an empty or malformed URL.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.URL == "" {
		return nil, wims.FieldError("url", "is required")
	}
	cfg, err := pgx.ParseConfig(opt.URL)
	if err != nil {
		// The parse error may quote the URL, password included; keep it out.
		return nil, wims.FieldError("url", "is not a valid PostgreSQL connection string")
	}
	s := &Store{
		clock:  opt.Now,
		log:    opt.Logger,
		signal: make(chan struct{}, 1),

		announcing:    make(chan struct{}, 1),
		announcerDone: make(chan struct{}),
		batchOps:      make(chan *batchOp, maxBatch),
		aheadOps:      make(chan *batchOp, maxBatch),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	maxConns := opt.MaxConns
	if maxConns <= 0 {
		maxConns = defaultMaxConns
	}
	label := fmt.Sprintf("open postgres %s/%s", cfg.Host, cfg.Database)

	if err := migrate(ctx, cfg, s.log); err != nil {
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	s.pool = newPool(cfg, int(maxConns))
	s.listen, err = startListener(ctx, cfg, s.notify, s.log)
	if err != nil {
		s.pool.close()
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	actx, cancel := context.WithCancel(context.Background())
	s.stopAnnouncer = cancel
	go s.runAnnouncer(actx)
	committers := opt.Committers
	if committers <= 0 {
		committers = defaultCommitters
	}
	for range committers {
		s.committers.Add(1)
		go s.runCommitter(s.batchOps, s.speculateMany)
	}
	// One transition committer: its batches lock existing rows, which two
	// of them at once would contend for (see the package doc).
	s.committers.Add(1)
	go s.runCommitter(s.aheadOps, s.lockAhead)
	if opt.Seed {
		if err := s.seed(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", label, err)
		}
	}
	return s, nil
}

// Close commits the writes already queued for group commit, stops the change
// listener, waits for operations in progress to end, and closes every
// connection. Operations started after Close fail with EUNAVAILABLE. It is
// safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.batchMu.Lock()
		s.batchClosed = true
		close(s.batchOps)
		close(s.aheadOps)
		s.batchMu.Unlock()
		s.committers.Wait()
		s.stopAnnouncer()
		<-s.announcerDone
		s.listen.stop()
		s.pool.close()
	})
	return nil
}

// Origin returns "postgres", the engine name for change events' meta.origin.
func (s *Store) Origin() string { return Origin }

// ChangeSignal returns a channel that receives after each commit that
// appended changes, by this Store or any other on the same database. Signals
// coalesce (buffer 1, non-blocking send), so a receiver must read all changes
// after its cursor each time it wakes.
func (s *Store) ChangeSignal() <-chan struct{} { return s.signal }

// notify sends a coalesced wake-up on the change signal without blocking.
func (s *Store) notify() {
	select {
	case s.signal <- struct{}{}:
	default: // a wake-up is already pending; the relay reads everything new
	}
}

// announce asks the announcer to NOTIFY other instances, coalescing.
func (s *Store) announce() {
	select {
	case s.announcing <- struct{}{}:
	default:
	}
}

// runAnnouncer sends NOTIFY on the change channel after commits, one for
// every burst: while one NOTIFY is in flight, further commits coalesce into
// the next. A NOTIFY that fails is not retried: other instances' relays also
// poll once a second, so a lost wake-up only delays them.
func (s *Store) runAnnouncer(ctx context.Context) {
	defer close(s.announcerDone)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.announcing:
		}
		err := s.read(ctx, func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, `SELECT pg_notify('`+changeChannel+`', '')`)
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.log.Warn("postgres: change notification failed", "err", err)
		}
	}
}

// now returns the clock's time as the store keeps it: UTC, microseconds, no
// monotonic reading, so what a write returns equals what a read returns.
func (s *Store) now() time.Time { return wims.StoreTime(s.clock()) }

// querier is what reads need from either a pooled connection or a write
// transaction, so one scan function serves both.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// read runs fn on a pooled connection outside any explicit transaction; each
// statement sees everything committed before it started.
func (s *Store) read(ctx context.Context, fn func(c *pgx.Conn) error) error {
	c, err := s.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.pool.release(c)
	return fn(c)
}

// PostgreSQL error codes the store handles
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgCheckViolation       = "23514"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
	pgLockNotAvailable     = "55P03"
)

// pgCode returns the SQLSTATE of a PostgreSQL error in err's chain, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wrap labels err with the operation and maps PostgreSQL constraint errors to
// domain codes. Domain errors keep their code through the %w chain.
func wrap(label string, err error) error {
	if err == nil {
		return nil
	}
	if unreachable(err) && wims.ErrorCode(err) == wims.EINTERNAL {
		return fmt.Errorf("%s: %w (%v)", label, errUnreachable, err)
	}
	switch pgCode(err) {
	case pgCheckViolation:
		// The only CHECKs guard quantities and statuses; a violation means a
		// write raced past the store's own checks, never bad client input.
		err = fmt.Errorf("%w (%v)", wims.Errorf(wims.ECONFLICT, "the change breaks a stock or status rule"), err)
	case pgUniqueViolation:
		err = fmt.Errorf("%w (%v)", wims.Errorf(wims.ECONFLICT, "already exists"), err)
	case pgForeignKeyViolation:
		err = fmt.Errorf("%w (%v)", wims.Errorf(wims.ECONFLICT, "refers to something that does not exist"), err)
	}
	return fmt.Errorf("%s: %w", label, err)
}
