// Package sqlite implements wims.Store on SQLite with the pure-Go driver
// modernc.org/sqlite, so the default build stays one static binary.
//
// # Writes: one writer, group commit
//
// SQLite allows one writer at a time, and with synchronous=FULL every commit
// costs an fsync (about 4k commits/s on the reference machine). The store
// therefore owns a single writer connection driven by one goroutine. Every
// write is a closure queued on a channel; the goroutine takes everything
// queued (up to maxBatch), runs it in one BEGIN IMMEDIATE transaction with a
// SAVEPOINT around each closure, so one failing write does not spoil the
// others, and commits once. Callers get their result only after that COMMIT,
// so a result the caller sees is durable. See writer.go.
//
// # Reads
//
// Reads use a separate pool of query_only connections. In WAL mode they run
// concurrently with the writer and see every committed write.
//
// # Change capture
//
// Each write closure reads the old row, writes the new one and appends a
// change_log row with the old and new images in the same transaction. The
// order and inventory writes are the transitions of wims.Tx, which both
// engines share, run over txRows (tx.go), this engine's SQL; images.go
// appends the changes. Capture is in Go, not in triggers, so the images are
// exactly the domain types' JSON. After a commit that appended changes the store
// signals ChangeSignal, which wakes the CDC relay without polling.
//
// # Times
//
// Every time is stored as INTEGER unix microseconds and returned in UTC, so
// values round-trip exactly (and compare equal with ==) once normalised by the
// store; PostgreSQL keeps the same precision.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/wims/wims"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Origin is the name this engine gives itself in change events' meta.origin.
const Origin = "sqlite"

// readConns bounds the read pool. Readers never block the writer in WAL mode;
// a handful covers the API and the relay on a small machine.
const readConns = 8

// Options configure Open.
type Options struct {
	// Path is the database file. It is created if missing.
	Path string
	// Durable selects synchronous=FULL, which survives power loss; false
	// selects NORMAL, which survives a process crash but may lose the last
	// commits on power loss. Callers should default to true.
	Durable bool
	// Now is the clock that stamps rows and changes; nil means time.Now.
	Now wims.Clock
	// Logger receives internal errors (failed commits); nil discards them.
	Logger *slog.Logger
	// Seed stores wims.SeedItem() if the inventory is empty the first time the
	// database is opened with Seed set. It is recorded, so it happens once.
	Seed bool
}

// Store is a wims.Store backed by one SQLite database file. It is safe for
// concurrent use. Close it to flush queued writes and release the file.
type Store struct {
	path   string
	wdb    *sql.DB              // exactly one connection, used only by the writer goroutine
	stmts  map[string]*sql.Stmt // writerStatements, prepared on wdb; read-only after Open
	rstmts map[string]*sql.Stmt // readStatements, prepared on rdb; read-only after Open
	rdb    *sql.DB              // query_only connections for reads
	clock  wims.Clock
	log    *slog.Logger

	// mu guards closed against sends on ops: Close takes it exclusively
	// before closing ops, so no write can be queued on a closed channel.
	mu         sync.RWMutex
	closed     bool
	ops        chan *writeOp
	writerDone chan struct{}
	signal     chan struct{}

	closeOnce sync.Once
	closeErr  error
	// health tracks whether writes fail for want of disk (Check).
	health writeHealth
}

var _ wims.Store = (*Store)(nil)

// errClosed is returned by writes queued after Close.
var errClosed = wims.Errorf(wims.EUNAVAILABLE, "store is closed")

// Open opens (creating if needed) the database at opt.Path, applies pending
// migrations, seeds it if asked, and starts the writer. Returns EINVALID for
// an empty path.
func Open(ctx context.Context, opt Options) (*Store, error) {
	if opt.Path == "" {
		return nil, wims.FieldError("path", "is required")
	}
	s := &Store{
		path:       opt.Path,
		clock:      opt.Now,
		log:        opt.Logger,
		ops:        make(chan *writeOp, 4*maxBatch),
		writerDone: make(chan struct{}),
		signal:     make(chan struct{}, 1),
	}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}

	syncMode := "FULL"
	if !opt.Durable {
		syncMode = "NORMAL"
	}
	// _txlock=immediate makes every Begin a BEGIN IMMEDIATE: the write lock is
	// taken up front, so a transaction cannot fail with SQLITE_BUSY halfway
	// when it upgrades from reading to writing (the busy handler is not
	// called in that case).
	wq := url.Values{"_txlock": {"immediate"}, "_pragma": {
		"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(" + syncMode + ")", "foreign_keys(ON)",
	}}
	wdb, err := sql.Open("sqlite", opt.Path+"?"+wq.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", opt.Path, err)
	}
	// One connection forever: the writer's prepared statements and its place
	// as the only writer both depend on it never being replaced.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	s.wdb = wdb

	if err := s.checkIntegrity(ctx, wdb); err != nil {
		wdb.Close()
		return nil, err
	}
	if err := migrate(ctx, wdb, s.log); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", opt.Path, err)
	}
	if err := s.prepareWriter(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", opt.Path, err)
	}

	// Readers are opened after the writer switched the file to WAL, which is
	// persistent, so they need not (and, being query_only, could not) set it.
	rq := url.Values{"_pragma": {"busy_timeout(5000)", "query_only(1)"}}
	rdb, err := sql.Open("sqlite", opt.Path+"?"+rq.Encode())
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", opt.Path, err)
	}
	rdb.SetMaxOpenConns(readConns)
	rdb.SetMaxIdleConns(readConns)
	s.rdb = rdb
	if err := s.prepareReads(ctx); err != nil {
		rdb.Close()
		wdb.Close()
		return nil, fmt.Errorf("open %s: %w", opt.Path, err)
	}

	go s.runWriter()

	if opt.Seed {
		if err := s.seed(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("open %s: %w", opt.Path, err)
		}
	}
	return s, nil
}

// Close stops accepting writes, commits everything already queued, stops the
// writer and closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.ops)
		s.mu.Unlock()
		<-s.writerDone
		var errs []error
		for _, st := range s.stmts {
			errs = append(errs, st.Close())
		}
		for _, st := range s.rstmts {
			errs = append(errs, st.Close())
		}
		s.closeErr = errors.Join(append(errs, s.rdb.Close(), s.wdb.Close())...)
	})
	return s.closeErr
}

// Origin returns "sqlite", the engine name for change events' meta.origin.
func (s *Store) Origin() string { return Origin }

// ChangeSignal returns a channel that receives after each commit that
// appended changes. Signals coalesce (buffer 1, non-blocking send), so a
// receiver must read all changes after its cursor each time it wakes.
func (s *Store) ChangeSignal() <-chan struct{} { return s.signal }

// now returns the clock's time as the store keeps it: UTC, microseconds, no
// monotonic reading, so what a write returns equals what a read returns.
func (s *Store) now() time.Time { return wims.StoreTime(s.clock()) }

// toMicros is how times are stored.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is how stored times are read back.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// queryer is what reads need from either the read pool or the writer's
// transaction, so one scan function serves both.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// wrap labels err with the operation and maps driver constraint errors to
// domain codes. Domain errors keep their code through the %w chain.
func wrap(label string, err error) error {
	if err == nil {
		return nil
	}
	if unwritable(err) {
		return fmt.Errorf("%s: %w (%v)", label, errUnwritable, err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_CHECK:
			// The only CHECKs guard quantities and statuses; a violation means a
			// write raced past the store's own checks, never bad client input.
			err = fmt.Errorf("%w (%v)", wims.Errorf(wims.ECONFLICT, "the change breaks a stock or status rule"), err)
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			err = fmt.Errorf("%w (%v)", wims.Errorf(wims.ECONFLICT, "already exists"), err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			err = fmt.Errorf("%w (%v)", wims.Errorf(wims.ECONFLICT, "refers to something that does not exist"), err)
		}
	}
	return fmt.Errorf("%s: %w", label, err)
}
