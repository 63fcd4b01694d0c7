package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Reconnect backoff of the change listener.
const (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// listener holds a connection that LISTENs on changeChannel and calls wake
// for every notification, so commits by any instance on the database wake
// this one's relay.
type listener struct {
	cfg    *pgx.ConnConfig
	wake   func()
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}
}

// startListener connects and LISTENs before it returns, so every commit
// after Open is heard, then keeps listening in a goroutine until stop.
// Returns the error of the first connection attempt.
func startListener(ctx context.Context, cfg *pgx.ConnConfig, wake func(), log *slog.Logger) (*listener, error) {
	l := &listener{cfg: cfg, wake: wake, log: log, done: make(chan struct{})}
	c, err := l.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(runCtx, c)
	return l, nil
}

// connect opens a connection and subscribes it to changeChannel.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	c, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	// The channel is a constant identifier: LISTEN takes no parameters.
	if _, err := c.Exec(ctx, `LISTEN `+changeChannel); err != nil {
		closeConn(c)
		return nil, err
	}
	return c, nil
}

// run waits for notifications on c and forwards them. When the connection
// fails it reconnects with exponential backoff and wakes the receiver once,
// since notifications sent while it was disconnected are lost. It returns
// when ctx ends.
func (l *listener) run(ctx context.Context, c *pgx.Conn) {
	defer close(l.done)
	backoff := listenBackoffMin
	for {
		_, err := c.WaitForNotification(ctx)
		if err == nil {
			backoff = listenBackoffMin
			l.wake()
			continue
		}
		closeConn(c)
		if ctx.Err() != nil {
			return
		}
		l.log.Error("postgres: change listener lost its connection", "err", err)
		for {
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, listenBackoffMax)
			c, err = l.connect(ctx)
			if err == nil {
				break
			}
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return
			}
			l.log.Error("postgres: change listener cannot reconnect", "err", err, "retry_in", backoff)
		}
		l.wake()
	}
}

// stop ends the listener and waits for its goroutine to close the connection.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}
