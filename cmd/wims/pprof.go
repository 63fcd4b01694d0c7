package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves the Go profiler on --pprof-addr, which must be a
// loopback address: profiles expose internals and cost CPU, so they are
// never reachable from outside the host.
func (a *App) startPprof(ctx context.Context) error {
	if a.cfg.PprofAddr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(a.cfg.PprofAddr)
	if err != nil || !isLoopback(host) {
		return fmt.Errorf("--pprof-addr %q: want a loopback host:port", a.cfg.PprofAddr)
	}
	ln, err := net.Listen("tcp", a.cfg.PprofAddr)
	if err != nil {
		return fmt.Errorf("--pprof-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	a.goRun("pprof", func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	a.log.Info("pprof serving", "addr", ln.Addr().String())
	return nil
}
