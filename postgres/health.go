package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wims/wims"
)

// errUnreachable is what an operation gets while the database cannot be
// reached or cannot take writes. It is EUNAVAILABLE (503 with Retry-After
// on the API), not an internal error: the request was fine.
var errUnreachable = wims.Errorf(wims.EUNAVAILABLE, "The database is unreachable or cannot take writes now; retry later.")

// unreachable reports whether err is the database being down, unreachable,
// shutting down, or out of disk, rather than a problem with the request.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	code := pgCode(err)
	switch {
	case strings.HasPrefix(code, "08"), // connection exception
		code == "57P01", code == "57P02", code == "57P03", // admin/crash shutdown, cannot connect now
		code == "53100", code == "53300": // disk full, too many connections
		return true
	case code != "":
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed")
}

// Check reports whether the database answers, within 2 s.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := s.pool.acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	err = conn.Ping(ctx)
	if err != nil {
		// A connection that failed a ping is not given back for reuse.
		_ = conn.Close(context.WithoutCancel(ctx))
	}
	s.pool.release(conn)
	if err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}
