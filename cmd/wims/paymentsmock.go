package main

import (
	"github.com/spf13/cobra"
	"github.com/wims/wims/paymentsmock"
)

func newPaymentsMockCommand() *cobra.Command {
	var (
		addr      string
		opt       paymentsmock.Options
		logLevel  string
		logFormat string
	)
	cmd := &cobra.Command{
		Use:   "payments-mock",
		Short: "Run the mock payments API alone (token bucket, 429 with Retry-After, idempotent on Idempotency-Key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return &exitError{code: 2, err: err}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			_, bound, err := paymentsmock.ListenAndServe(cmd.Context(), addr, opt, log)
			if err != nil {
				return err
			}
			log.Info("mock payments API serving", "addr", bound.String(), "rate", opt.Rate, "burst", opt.Burst)
			<-cmd.Context().Done()
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:8081", "listen address")
	fs.Float64Var(&opt.Rate, "rate", 5, "requests/s the API accepts (token bucket refill)")
	fs.IntVar(&opt.Burst, "burst", 5, "token bucket size")
	fs.DurationVar(&opt.Latency, "latency", 0, "simulated processing time per request")
	fs.Float64Var(&opt.FailRate, "fail-rate", 0, "fraction of requests answered 500")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&logFormat, "log-format", "text", "text or json")
	return cmd
}
