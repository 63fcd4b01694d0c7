package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// deadLetterFlags select dead letters by where they came from, why and when.
type deadLetterFlags struct {
	f            wims.DeadLetterFilter
	since, until string
}

func (d *deadLetterFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&d.f.Consumer, "consumer", "", "only those this consumer gave up on (e.g. payments-dispatcher, platform-deliveries)")
	fs.StringVar(&d.f.Rule, "rule", "", "only those of this rule's targets")
	fs.StringVar(&d.f.Target, "target", "", "only those of this target id")
	fs.StringVar(&d.f.Bus, "bus", "", "only those of rules on this bus")
	fs.StringVar(&d.f.Reason, "reason", "", "only those whose reason contains this (any case)")
	fs.StringVar(&d.since, "since", "", "only those dead-lettered since: an RFC 3339 time or a duration ago (2h)")
	fs.StringVar(&d.until, "until", "", "only those dead-lettered before this")
}

func (d *deadLetterFlags) filter(now time.Time) (wims.DeadLetterFilter, error) {
	f := d.f
	var err error
	if d.since != "" {
		if f.Since, err = pointInTime(d.since, now); err != nil {
			return f, usageError(fmt.Errorf("--since: %w", err))
		}
	}
	if d.until != "" {
		if f.Until, err = pointInTime(d.until, now); err != nil {
			return f, usageError(fmt.Errorf("--until: %w", err))
		}
	}
	return f, nil
}

func deadLetterTable(w io.Writer, dls []client.DeadLetter) error {
	return table(w, "SEQ\tCONSUMER\tRULE/TARGET\tATTEMPTS\tTIME\tREASON", func(tw io.Writer) {
		for _, d := range dls {
			target := "-"
			if d.Rule != "" {
				target = d.Rule + "/" + d.Target
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", d.Seq, d.Consumer, target, d.Attempts, d.Time, d.Reason)
		}
	})
}

// newDeadLettersCommand lists, redrives and purges the messages that failed
// every attempt (payments after 10 failures, rule targets after their retry
// policy).
func newDeadLettersCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "dead-letters", Short: "List, redrive and purge messages that failed every attempt"}

	var lf deadLetterFlags
	var limit int
	var cursor string
	list := platformCmd("list [--consumer C] [--rule R] [--reason TEXT] [--since T] [--limit N] [--cursor C]", "List dead letters, newest first", 0, "no arguments",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
			f, err := lf.filter(time.Now())
			if err != nil {
				return err
			}
			dls, next, err := c.DeadLetterPage(cmd.Context(), f, limit, cursor)
			if err != nil {
				return apiError(err)
			}
			if err := show(cmd, cf, map[string]any{"deadLetters": nonNil(dls), "cursor": next}, func(w io.Writer) error { return deadLetterTable(w, dls) }); err != nil {
				return err
			}
			if !cf.json && next != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "older: --cursor %s\n", next)
			}
			return nil
		})
	lf.register(list.Flags())
	list.Flags().IntVar(&limit, "limit", 0, "at most this many (1-1000; default: the server's)")
	list.Flags().StringVar(&cursor, "cursor", "", "continue with older ones (the cursor a previous list printed)")

	redrive := bulkCommand("redrive", "Send dead letters back to the consumer that gave up on them (after fixing the cause)",
		func(ctx context.Context, c *client.Client, seq uint64, dryRun bool) (string, error) {
			if dryRun {
				dl, err := c.RedriveDryRun(ctx, seq)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("would redrive %d (%s: %s)", seq, dl.Consumer, dl.Reason), nil
			}
			return fmt.Sprintf("redriven %d", seq), c.Redrive(ctx, seq)
		}, (*client.Client).RedriveAll)
	purge := bulkCommand("purge", "Delete dead letters for good",
		func(ctx context.Context, c *client.Client, seq uint64, dryRun bool) (string, error) {
			if dryRun {
				return "", usageError(errors.New("purge SEQ has no --dry-run; list the dead letter instead, or use --all --dry-run"))
			}
			return fmt.Sprintf("purged %d", seq), c.PurgeDeadLetter(ctx, seq)
		}, (*client.Client).PurgeAll)
	cmd.AddCommand(list, redrive, purge)
	return cmd
}

// bulkCommand is `dead-letters redrive|purge`: one dead letter by SEQ, or
// with --all every one the filter flags select (--dry-run: which).
func bulkCommand(verb, short string,
	one func(ctx context.Context, c *client.Client, seq uint64, dryRun bool) (string, error),
	all func(c *client.Client, ctx context.Context, f wims.DeadLetterFilter, limit int, dryRun bool) (client.BulkResult, error),
) *cobra.Command {
	var bf deadLetterFlags
	var every, dryRun bool
	var limit int
	cmd := platformCmd(verb+" SEQ | "+verb+" --all [--consumer C] [--rule R] [--reason TEXT] [--since T] [--dry-run]", short, 0, "",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			switch {
			case every && len(a) > 0:
				return usageError(errors.New("give a SEQ or --all, not both"))
			case !every && len(a) != 1:
				return usageError(fmt.Errorf("%s takes one SEQ, or --all with filters", verb))
			}
			if !every {
				seq, err := strconv.ParseUint(a[0], 10, 64)
				if err != nil || seq == 0 {
					return usageError(fmt.Errorf("SEQ %q: want a positive whole number", a[0]))
				}
				msg, err := one(cmd.Context(), c, seq, dryRun)
				if err != nil {
					var ee *exitError
					if errors.As(err, &ee) {
						return err
					}
					return apiError(err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				return nil
			}
			f, err := bf.filter(time.Now())
			if err != nil {
				return err
			}
			res, err := all(c, cmd.Context(), f, limit, dryRun)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, res, func(w io.Writer) error {
				fmt.Fprintf(w, "%s: %d %v\n", res.Status, res.Count, res.Seqs)
				if res.More {
					fmt.Fprintln(w, "more dead letters may match: run it again")
				}
				return nil
			})
		})
	cmd.Args = cobra.MaximumNArgs(1)
	bf.register(cmd.Flags())
	cmd.Flags().BoolVar(&every, "all", false, "every dead letter the filter flags select (newest first, up to --limit)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be done and change nothing")
	cmd.Flags().IntVar(&limit, "limit", 0, "with --all: at most this many (1-1000; default 1000)")
	return cmd
}
