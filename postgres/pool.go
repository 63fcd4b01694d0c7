package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// closeTimeout bounds how long closing one connection may take, so a dead
// server cannot hang Close.
const closeTimeout = 5 * time.Second

// pool is a bounded pool of pgx connections. It is deliberately small: a
// connection is taken for one operation (a read or a whole transaction) and
// given back healthy or discarded. pgxpool would do, but it needs
// github.com/jackc/puddle/v2, which the module does not require.
type pool struct {
	cfg *pgx.ConnConfig
	// slots holds one token per connection that is open and in use or being
	// opened; its capacity is the pool's size.
	slots chan struct{}
	// done is closed by close, to turn away callers waiting for a slot.
	done chan struct{}

	mu     sync.Mutex
	idle   []*pgx.Conn // healthy connections not in use, most recent last
	closed bool
}

// newPool returns a pool of at most size connections to cfg's database.
// Connections are opened on demand.
func newPool(cfg *pgx.ConnConfig, size int) *pool {
	return &pool{cfg: cfg, slots: make(chan struct{}, size), done: make(chan struct{})}
}

// acquire returns a connection for the caller's exclusive use until release.
// It waits for a free slot while the pool is full. Returns EUNAVAILABLE after
// close, ctx's error if ctx ends first, or the connect error.
func (p *pool) acquire(ctx context.Context) (*pgx.Conn, error) {
	select {
	case <-p.done:
		return nil, errClosed
	default:
	}
	select {
	case p.slots <- struct{}{}:
	case <-p.done:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.slots
		return nil, errClosed
	}
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosed() {
			p.mu.Unlock()
			return c, nil
		}
	}
	p.mu.Unlock()
	c, err := pgx.ConnectConfig(ctx, p.cfg)
	if err != nil {
		<-p.slots
		return nil, err
	}
	return c, nil
}

// release gives c back. A connection that is closed (pgx closes one whose
// query was cancelled) or still inside a transaction (a failed rollback) is
// discarded rather than reused, as is every connection after close.
func (p *pool) release(c *pgx.Conn) {
	reuse := !c.IsClosed() && c.PgConn().TxStatus() == 'I'
	p.mu.Lock()
	if reuse && !p.closed {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		closeConn(c)
	}
	<-p.slots
}

// close refuses new acquires, waits until every connection in use has been
// released, and closes the idle ones.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	close(p.done)
	p.mu.Unlock()
	// Taking every slot waits for the operations in progress.
	for range cap(p.slots) {
		p.slots <- struct{}{}
	}
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		closeConn(c)
	}
}

// closeConn closes c, waiting at most closeTimeout for the server.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	c.Close(ctx)
}
