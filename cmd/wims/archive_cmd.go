package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// The archive and replay client commands (DESIGN §8), over the REST API.

func newArchivesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "archives", Short: "List, create, show, update and delete event archives"}
	archiveTable := func(archives ...wims.Archive) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tBUS\tEVENTS\tBYTES\tRETENTION\tPATTERN", func(tw io.Writer) {
				for _, a := range archives {
					retention := "forever"
					if a.RetentionDays > 0 {
						retention = strconv.Itoa(a.RetentionDays) + "d"
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", a.Name, a.EventBus, a.EventCount, a.SizeBytes, retention, orDash(a.EventPattern))
				}
			})
		}
	}
	var prefix, bus string
	list := platformCmd("list [--prefix P] [--bus B]", "List archives with their event counts", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		archives, err := c.ListArchives(cmd.Context(), prefix, bus)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"archives": nonNil(archives)}, archiveTable(archives...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only archives whose names start with this")
	list.Flags().StringVar(&bus, "bus", "", "only archives of this bus")

	var req client.ArchiveRequest
	var patternArg string
	withPattern := func(cmd *cobra.Command) error {
		if patternArg == "" {
			return nil
		}
		p, err := readArg(cmd, patternArg)
		if err != nil {
			return usageError(fmt.Errorf("--pattern: %w", err))
		}
		req.EventPattern = string(p)
		return nil
	}
	create := platformCmd("create NAME [--bus B] [--pattern JSON] [--retention-days N] [--description D]", "Archive a bus's events (those matching --pattern)", 1, "the archive's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			if err := withPattern(cmd); err != nil {
				return err
			}
			r := req
			r.Name = a[0]
			arc, err := c.CreateArchive(cmd.Context(), r)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, arc, archiveTable(arc))
		})
	update := platformCmd("update NAME [--pattern JSON] [--retention-days N] [--description D]", "Replace an archive's pattern, retention and description", 1, "the archive's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			if err := withPattern(cmd); err != nil {
				return err
			}
			r := req
			r.EventBus = ""
			arc, err := c.UpdateArchive(cmd.Context(), a[0], r)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, arc, archiveTable(arc))
		})
	for _, c := range []*cobra.Command{create, update} {
		c.Flags().StringVar(&patternArg, "pattern", "", "an EventBridge pattern (JSON, or @file); none: every event")
		c.Flags().IntVar(&req.RetentionDays, "retention-days", 0, "days to keep events (0: forever)")
		c.Flags().StringVar(&req.Description, "description", "", "what the archive is for")
	}
	create.Flags().StringVar(&req.EventBus, "bus", wims.DefaultBus, "the bus whose events to archive")

	get := platformCmd("get NAME", "Show an archive", 1, "the archive's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		arc, err := c.GetArchive(cmd.Context(), a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, arc, archiveTable(arc))
	})
	del := platformCmd("delete NAME", "Delete an archive and every event in it", 1, "the archive's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteArchive(cmd.Context(), a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted archive %s\n", a[0])
		return nil
	})
	cmd.AddCommand(list, create, update, get, del)
	return cmd
}

func newReplaysCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "replays", Short: "Start, follow and cancel replays of archived events"}
	replayTable := func(replays ...wims.Replay) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tARCHIVE\tSTATE\tREPLAYED\tLAST REPLAYED\tWINDOW", func(tw io.Writer) {
				for _, r := range replays {
					last := "-"
					if !r.EventLastReplayedTime.IsZero() {
						last = r.EventLastReplayedTime.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s – %s\n", r.Name, r.Archive, r.State, r.Replayed, last,
						r.EventStartTime.Format(time.RFC3339), r.EventEndTime.Format(time.RFC3339))
				}
			})
		}
	}
	var prefix, archive, state string
	list := platformCmd("list [--prefix P] [--archive A] [--state S]", "List replays and their progress", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		replays, err := c.ListReplays(cmd.Context(), prefix, archive, state)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"replays": nonNil(replays)}, replayTable(replays...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only replays whose names start with this")
	list.Flags().StringVar(&archive, "archive", "", "only replays of this archive")
	list.Flags().StringVar(&state, "state", "", "only replays in this state (RUNNING, COMPLETED, …)")

	var req client.ReplayRequest
	var from, to string
	start := platformCmd("start NAME --archive A --from T [--to T] [--rule R]…", "Replay an archive's events of [--from, --to) to its bus's rules", 1, "the replay's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			now := time.Now()
			if req.Archive == "" || from == "" {
				return usageError(errors.New("--archive and --from are required"))
			}
			var err error
			if req.EventStartTime, err = pointInTime(from, now); err != nil {
				return usageError(fmt.Errorf("--from: %w", err))
			}
			req.EventEndTime = now
			if to != "" {
				if req.EventEndTime, err = pointInTime(to, now); err != nil {
					return usageError(fmt.Errorf("--to: %w", err))
				}
			}
			r := req
			r.Name = a[0]
			rp, err := c.StartReplay(cmd.Context(), r)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, rp, replayTable(rp))
		})
	start.Flags().StringVar(&req.Archive, "archive", "", "the archive to replay (required)")
	start.Flags().StringVar(&from, "from", "", "start of the window: RFC 3339 time, or a duration ago such as 2h (required)")
	start.Flags().StringVar(&to, "to", "", "end of the window, excluded (default: now)")
	start.Flags().StringArrayVar(&req.Rules, "rule", nil, "only this rule of the bus (repeatable; default: every rule)")
	start.Flags().StringVar(&req.Description, "description", "", "why the replay is run")

	get := platformCmd("get NAME", "Show a replay and its progress", 1, "the replay's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		rp, err := c.GetReplay(cmd.Context(), a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, rp, replayTable(rp))
	})
	cancel := platformCmd("cancel NAME", "Stop a running replay", 1, "the replay's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		rp, err := c.CancelReplay(cmd.Context(), a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, rp, replayTable(rp))
	})
	cmd.AddCommand(list, start, get, cancel)
	return cmd
}

// pointInTime reads an RFC 3339 time or a duration before now ("90m").
func pointInTime(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration ago such as 15m", s)
	}
	return now.Add(-d), nil
}
