package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/paymentsmock"
	"github.com/wims/wims/v1"
)

// startV1 serves the course's synchronous architecture (`--architecture v1`)
// on the opened store: the API with POST /orders done inline (package v1)
// and, when --payments-url is empty, the built-in mock payments API. No bus,
// relay, consumers or dispatcher start, as the course's V1 had none; GET
// /events and the dead-letter routes answer 503.
func (a *App) startV1(ctx context.Context, reg *prometheus.Registry) error {
	a.payURL = a.cfg.PaymentsURL
	if a.payURL == "" {
		_, addr, err := paymentsmock.ListenAndServe(ctx, "127.0.0.1:0", paymentsmock.Options{Rate: 5, Burst: 5}, a.log.With("component", "payments-mock"))
		if err != nil {
			return fmt.Errorf("start mock payments API: %w", err)
		}
		a.payURL = "http://" + addr.String() + "/payments"
		a.log.Info("mock payments API serving", "url", a.payURL, "rate", 5, "burst", 5)
	}
	api := wimshttp.NewServer(wimshttp.Options{
		Store: a.store, Logger: a.log.With("component", "http"), Registry: reg,
	})
	h := v1.New(v1.Options{API: api, Store: a.store, PaymentsURL: a.payURL, Logger: a.log.With("component", "v1")})
	var err error
	if a.httpAddr, err = a.serveHTTP(ctx, h); err != nil {
		return err
	}
	a.log.Info("wims serving the course's V1 architecture (synchronous, no bus)", "addr", a.httpAddr.String(),
		"data_dir", a.cfg.DataDir, "durable", !a.cfg.NoSync, "payments_url", a.payURL)
	return nil
}
