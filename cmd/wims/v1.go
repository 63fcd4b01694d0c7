package main

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/v1"
)

// startV1 serves the course's synchronous architecture (`--architecture v1`)
// on the opened store: the API with POST /orders done inline (package v1)
// and, when --payments-url is empty, the built-in mock payments API. No bus,
// relay, consumers or dispatcher start, as the course's V1 had none; GET
// /events and the dead-letter routes answer 503.
func (a *App) startV1(ctx context.Context, reg *prometheus.Registry) error {
	if err := a.startPaymentsAPI(ctx); err != nil {
		return err
	}
	opt, err := a.apiOptions(reg)
	if err != nil {
		return err
	}
	api := wimshttp.NewServer(opt)
	h := v1.New(v1.Options{API: api, Store: a.store, PaymentsURL: a.payURL, Logger: a.log.With("component", "v1")})
	con := a.newConsole(opt)
	if a.httpAddr, err = a.serveHTTP(ctx, withConsole(con, h)); err != nil {
		return err
	}
	a.closeStreamsOnShutdown(con)
	a.log.Info("wims serving the course's V1 architecture (synchronous, no bus)", "url", "http://"+a.httpAddr.String()+"/",
		"addr", a.httpAddr.String(), "data_dir", absPath(a.cfg.DataDir), "durable", !a.cfg.NoSync, "payments_url", a.payURL)
	return nil
}
