package http

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Server timeouts. ReadHeaderTimeout stops slowloris clients; ReadTimeout
// bounds a whole (≤ 256 KiB) body; WriteTimeout bounds a handler plus its
// response; IdleTimeout reclaims idle keep-alive connections.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 120 * time.Second
	// shutdownTimeout is how long in-flight requests get to finish once ctx
	// is done, before their connections are closed.
	shutdownTimeout = 10 * time.Second
)

// ListenAndServe binds addr, then serves h on it in the background until ctx
// is done. Binding happens before it returns, so a bind error (port in use)
// is returned directly, and addr ":0" or "127.0.0.1:0" works: bound is the
// address actually listened on.
//
// When ctx is done the server shuts down gracefully: it stops accepting,
// lets in-flight requests finish for up to 10 s, then closes what is left.
// done receives the outcome once, nil after a clean shutdown, and is then
// closed; wait on it before closing what h depends on (the store).
//
// Whether a non-loopback addr is allowed is the caller's policy (cmd/wims
// refuses one without authentication unless forced); this helper binds what
// it is given.
func ListenAndServe(ctx context.Context, addr string, h http.Handler, logger *slog.Logger) (bound net.Addr, done <-chan error, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ch := make(chan error, 1)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	go func() {
		defer close(ch)
		select {
		case err := <-serveErr:
			// Serve failed on its own (not via Shutdown).
			ch <- err
			return
		case <-ctx.Done():
		}
		logger.Info("http server shutting down", "addr", ln.Addr().String())
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
		defer cancel()
		err := srv.Shutdown(sctx)
		if err != nil {
			// In-flight requests outlived the grace period: cut them off.
			err = errors.Join(err, srv.Close())
		}
		if serr := <-serveErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		ch <- err
	}()
	logger.Info("http server listening", "addr", ln.Addr().String())
	return ln.Addr(), ch, nil
}
