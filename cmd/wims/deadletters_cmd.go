package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// newDeadLettersCommand lists and redrives the messages that failed every
// attempt (payments after 10 failures, rule targets after 10 deliveries).
func newDeadLettersCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{Use: "dead-letters", Short: "List and redrive messages that failed every attempt"}
	cf.register(cmd.PersistentFlags())

	var limit int
	list := &cobra.Command{
		Use:   "list [--limit N]",
		Short: "List dead letters, newest first",
		Args:  args(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			dls, err := c.DeadLetters(cmd.Context(), limit)
			if err != nil {
				return apiError(err)
			}
			out := cmd.OutOrStdout()
			if cf.json {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(dls)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tCONSUMER\tATTEMPTS\tTIME\tREASON")
			for _, d := range dls {
				fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\n", d.Seq, d.Consumer, d.Attempts, d.Time, d.Reason)
			}
			return tw.Flush()
		},
	}
	list.Flags().IntVar(&limit, "limit", 0, "at most this many (1-1000; default: the server's)")

	redrive := &cobra.Command{
		Use:   "redrive SEQ",
		Short: "Send a dead letter back to where it came from (after fixing the cause)",
		Args:  args(1, "the dead letter's SEQ"),
		RunE: func(cmd *cobra.Command, a []string) error {
			seq, err := strconv.ParseUint(a[0], 10, 64)
			if err != nil || seq == 0 {
				return usageError(fmt.Errorf("SEQ %q: want a positive whole number", a[0]))
			}
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			if err := c.Redrive(cmd.Context(), seq); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "redriven %d\n", seq)
			return nil
		},
	}
	cmd.AddCommand(list, redrive)
	return cmd
}
