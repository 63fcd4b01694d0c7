package paymentsmock

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// shutdownGrace bounds how long ListenAndServe waits for requests in flight
// when its context ends; the simulated latency is the only thing to wait for.
const shutdownGrace = 5 * time.Second

// ListenAndServe runs a Server built from opt on addr until ctx is done, and
// returns the http.Server (its Handler is the *Server, for Stats) and the
// address actually bound, which tells the caller the port when addr asks for
// a random one (":0").
//
// An addr without a host binds to 127.0.0.1, not to every interface: the mock
// is a local stand-in, and wims' defaults never expose a port by accident.
// A nil logger discards the server's error log.
func ListenAndServe(ctx context.Context, addr string, opt Options, logger *slog.Logger) (*http.Server, net.Addr, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	if host == "" {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	srv := &http.Server{
		Handler:           New(opt),
		ReadHeaderTimeout: 5 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("mock payments API listening", "addr", ln.Addr().String(),
		"rate", srv.Handler.(*Server).opt.Rate, "burst", srv.Handler.(*Server).opt.Burst)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("mock payments API stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			logger.Warn("mock payments API shutdown", "err", err)
			_ = srv.Close()
		}
	}()
	return srv, ln.Addr(), nil
}
