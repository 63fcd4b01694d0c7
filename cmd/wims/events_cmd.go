package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// `wims events list` and `wims events tail`: the event log, filtered.

// eventFlags are the filters both commands take.
type eventFlags struct {
	q            wims.EventQuery
	since, until string
	patternArg   string
}

func (f *eventFlags) register(fs *pflag.FlagSet, withUntil bool) {
	fs.StringVar(&f.since, "since", "", "only events logged since: an RFC 3339 time or a duration ago (15m)")
	if withUntil {
		fs.StringVar(&f.until, "until", "", "only events logged before: an RFC 3339 time or a duration ago")
	}
	fs.StringVar(&f.q.OrderID, "order", "", "only events about this order")
	fs.StringVar(&f.q.SKU, "sku", "", "only events about this SKU")
	fs.StringVar(&f.q.Source, "source", "", "only events from this source")
	fs.StringVar(&f.q.DetailType, "detail-type", "", "only events of this detail-type")
	fs.StringVar(&f.patternArg, "pattern", "", "only events matching this EventBridge pattern (JSON, or @file)")
	fs.StringVar(&f.q.LogGroup, "log-group", "", "the log group to read (default: wims-events)")
}

// query resolves the flags at now.
func (f *eventFlags) query(cmd *cobra.Command, now time.Time) (wims.EventQuery, error) {
	q := f.q
	var err error
	if f.since != "" {
		if q.Since, err = pointInTime(f.since, now); err != nil {
			return q, usageError(fmt.Errorf("--since: %w", err))
		}
	}
	if f.until != "" {
		if q.Until, err = pointInTime(f.until, now); err != nil {
			return q, usageError(fmt.Errorf("--until: %w", err))
		}
	}
	if f.patternArg != "" {
		p, err := readArg(cmd, f.patternArg)
		if err != nil {
			return q, usageError(fmt.Errorf("--pattern: %w", err))
		}
		q.Pattern = string(p)
	}
	return q, nil
}

// eventRow is the one-line view of an event.
func eventRow(w io.Writer, ev json.RawMessage) {
	var e struct {
		ID         string    `json:"id"`
		Time       time.Time `json:"time"`
		Source     string    `json:"source"`
		DetailType string    `json:"detail-type"`
		Replay     string    `json:"replay-name"`
	}
	_ = json.Unmarshal(ev, &e)
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", e.Time.Format(time.RFC3339Nano), e.Source, e.DetailType, e.ID, orDash(e.Replay))
}

const eventHeader = "TIME\tSOURCE\tDETAIL-TYPE\tID\tREPLAY"

func addEventLogCommands(cmd *cobra.Command) {
	var lf eventFlags
	list := platformCmd("list [--since T] [--until T] [--order ID] [--sku SKU] [--pattern JSON] [--limit N] [--cursor C]",
		"List events from the event log, in the order they were logged", 0, "no arguments",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
			q, err := lf.query(cmd, time.Now())
			if err != nil {
				return err
			}
			page, err := c.Events(cmd.Context(), q)
			if err != nil {
				return apiError(err)
			}
			if page.Events == nil {
				page.Events = []json.RawMessage{}
			}
			if err := show(cmd, cf, page, func(w io.Writer) error {
				return table(w, eventHeader, func(tw io.Writer) {
					for _, ev := range page.Events {
						eventRow(tw, ev)
					}
				})
			}); err != nil {
				return err
			}
			if !cf.json && page.Prev != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "older: --cursor %s\n", page.Prev)
			}
			return nil
		})
	lf.register(list.Flags(), true)
	list.Flags().IntVar(&lf.q.Limit, "limit", 100, "at most this many events (1-1000)")
	list.Flags().StringVar(&lf.q.Cursor, "cursor", "", "continue from a cursor a previous list printed")

	var tf eventFlags
	tail := platformCmd("tail [--since T] [--order ID] [--sku SKU] [--pattern JSON]",
		"Follow the event log live until Ctrl-C (one event per line; JSON lines with --json)", 0, "no arguments",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
			q, err := tf.query(cmd, time.Now())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			out := cmd.OutOrStdout()
			if !cf.json {
				fmt.Fprintln(out, eventHeader)
			}
			err = c.TailEvents(ctx, q, func(ev json.RawMessage) error {
				if cf.json {
					_, err := fmt.Fprintf(out, "%s\n", ev)
					return err
				}
				eventRow(out, ev)
				return nil
			})
			if err != nil && ctx.Err() == nil {
				return apiError(err)
			}
			return nil
		})
	tf.register(tail.Flags(), false)
	cmd.AddCommand(list, tail)
}
