package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/wims/wims/bench"
)

func newBenchCommand() *cobra.Command {
	var (
		opt      bench.Options
		asJSON   bool
		quiet    bool
		reserved int
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a running wims: the course's benchmark, closed loop or open loop",
		Long: `bench drives a running wims (--url) with orders and reports accepted/s,
status counts, accept latency (p50/p90/p99/max) and end-to-end latency
(createdAt → RESERVED and → PAID, read back from a sample of the orders).

  --mode course  the course's benchmark: 100 rounds of 10 concurrent orders of
                 random quantity 1-10, plus how much of the sold quantity the
                 inventory shows at once and after 500 ms
  --mode closed  --concurrency workers, --orders orders (or for --duration)
  --mode open    orders start at --rate per second for --duration whatever the
                 answers do; latency counts from the scheduled start, so there
                 is no coordinated omission

A progress line goes to stderr every second (--quiet: none): elapsed time,
orders sent, accepted per second now and so far, failed. Ctrl-C stops the
load at once and prints the partial report, marked interrupted, without
waiting for the end-to-end read-back; the exit status is then 130.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return &exitError{code: 2, err: err}
			}
			if !quiet {
				opt.Progress = cmd.ErrOrStderr()
			}
			opt.E2ESample = reserved
			if reserved == 0 {
				opt.E2ESample = -1
			}
			rep, err := bench.Run(cmd.Context(), opt)
			if rep == nil {
				if cmd.Context().Err() != nil {
					return interrupted(err)
				}
				if strings.HasPrefix(err.Error(), "bench:") {
					return &exitError{code: 2, err: err} // bad flags
				}
				return err
			}
			if perr := printReport(cmd.OutOrStdout(), asJSON, rep, bench.WriteText); perr != nil {
				return perr
			}
			if errors.Is(err, bench.ErrInterrupted) {
				return interrupted(err)
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opt.URL, "url", "http://127.0.0.1:8080", "wims HTTP API")
	fs.StringVar(&opt.Mode, "mode", "course", "course, closed or open")
	fs.IntVar(&opt.Concurrency, "concurrency", 10, "closed mode: concurrent workers")
	fs.Float64Var(&opt.Rate, "rate", 0, "open mode: orders started per second")
	fs.DurationVar(&opt.Duration, "duration", 0, "open mode: how long (default 10s); closed mode: instead of --orders")
	fs.IntVar(&opt.Orders, "orders", 0, "closed mode: orders to send (default 1000); open mode: optional cap")
	fs.StringVar(&opt.SKU, "sku", "MACGUFFIN-LX", "SKU to order")
	fs.StringVar(&opt.APIKey, "api-key", "", "sent as Authorization: Bearer when set")
	fs.IntVar(&reserved, "e2e-sample", 200, "accepted orders read back for end-to-end latency (0: none)")
	fs.DurationVar(&opt.E2ETimeout, "e2e-timeout", 0, "how long to wait for sampled orders to be PAID (default 30s)")
	fs.BoolVar(&opt.Drain, "drain", false, "after the load, time until every accepted order is RESERVED and PAID, and their ratios to the accept time (a burst: --mode closed --orders 4000 --concurrency 32)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&quiet, "quiet", false, "no progress line on stderr")
	cmd.AddCommand(newBenchEventsCommand(), newBenchCompareCommand())
	return cmd
}

// exitInterrupted is the exit status of a command stopped by SIGINT, as a
// shell reports it (128 + the signal's number).
const exitInterrupted = 130

// interrupted is the error of a bench stopped by Ctrl-C (or SIGTERM): exit
// status 130, after the partial report.
func interrupted(err error) error {
	if err == nil || (errors.Is(err, context.Canceled) && !errors.Is(err, bench.ErrInterrupted)) {
		err = bench.ErrInterrupted
	}
	return &exitError{code: exitInterrupted, err: err}
}

// printReport prints a bench report as indented JSON or as text for people.
func printReport[R any](w io.Writer, asJSON bool, rep R, text func(io.Writer, R) error) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return text(w, rep)
}

// newBenchEventsCommand is `wims bench events`: the event platform under load.
func newBenchEventsCommand() *cobra.Command {
	var (
		opt    bench.EventsOptions
		asJSON bool
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Load-test PutEvents and rule delivery (EventBridge wire API)",
		Long: `events creates a bus of its own with --rules rules (one matches every event and
delivers it to an API destination served by the bench), puts events through the
EventBridge wire API (POST / on --url, unsigned: run it against a wims without API
keys), reports accepted entries/s, PutEvents latency and put → delivery latency,
then removes what it created.

  without --rate  --concurrency workers send --batch entries per request (throughput)
  --rate R        single-entry PutEvents started at R per second for --duration
                  (latency, no coordinated omission)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !quiet {
				opt.Progress = cmd.ErrOrStderr()
			}
			rep, err := bench.RunEvents(cmd.Context(), opt)
			if rep == nil {
				if cmd.Context().Err() != nil {
					return interrupted(err)
				}
				return err
			}
			if perr := printReport(cmd.OutOrStdout(), asJSON, rep, bench.WriteEventsText); perr != nil {
				return perr
			}
			if cmd.Context().Err() != nil {
				return interrupted(err)
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&opt.URL, "url", "http://127.0.0.1:8080", "wims API (the wire API is POST / on it)")
	fs.IntVar(&opt.Rules, "rules", 10, "rules on the bench's bus")
	fs.Float64Var(&opt.Rate, "rate", 0, "open loop: events per second (0: closed loop)")
	fs.IntVar(&opt.Concurrency, "concurrency", 16, "closed loop: concurrent workers")
	fs.IntVar(&opt.BatchSize, "batch", 10, "closed loop: entries per PutEvents (1-10)")
	fs.DurationVar(&opt.Duration, "duration", 10*time.Second, "how long to put events")
	fs.DurationVar(&opt.Settle, "settle", 5*time.Second, "pause between creating the rules and the load (negative: none)")
	fs.StringVar(&opt.SinkAddr, "sink-addr", "127.0.0.1:0", "where the bench's API destination listens")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&quiet, "quiet", false, "no progress line on stderr")
	return cmd
}
