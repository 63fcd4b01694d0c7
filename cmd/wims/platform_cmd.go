package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wims/wims"
	"github.com/wims/wims/client"
)

// The event platform's client commands (DESIGN §8): buses, rules, targets,
// connections, API destinations and putting events, over the REST API.

// platformCmd builds a client subcommand: its own client flags (so that a
// parent such as `rules`, whose `test` runs offline, does not grow them),
// and run given the client.
func platformCmd(use, short string, nargs int, argNames string, run func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error) *cobra.Command {
	cf := &clientFlags{}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: args(nargs, argNames),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := cf.client(cmd)
			if err != nil {
				return err
			}
			return run(cmd, c, cf, a)
		},
	}
	cf.register(cmd.Flags())
	return cmd
}

// show prints v as JSON with --json, else the table.
func show(cmd *cobra.Command, cf *clientFlags, v any, render func(w io.Writer) error) error {
	if cf.json {
		return writeJSON(cmd.OutOrStdout(), v)
	}
	return render(cmd.OutOrStdout())
}

// table writes a header line and rows, aligned.
func table(w io.Writer, header string, rows func(tw io.Writer)) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	rows(tw)
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newBusesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "buses", Short: "List, create, show and delete event buses"}
	busTable := func(buses ...wims.EventBus) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tARN\tVALIDATION\tDESCRIPTION", func(tw io.Writer) {
				for _, b := range buses {
					v := "-"
					if b.SchemaValidation != nil {
						v = b.SchemaValidation.Registry + " (" + b.SchemaValidation.Mode + ")"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", b.Name, b.ARN(), v, orDash(b.Description))
				}
			})
		}
	}
	var prefix string
	list := platformCmd("list [--prefix P]", "List event buses", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		buses, err := c.ListEventBuses(cmd.Context(), prefix)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"eventBuses": nonNil(buses)}, busTable(buses...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only buses whose names start with this")

	var description string
	create := platformCmd("create NAME [--description D]", "Create a custom event bus", 1, "the bus's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		b, err := c.CreateEventBus(cmd.Context(), a[0], description)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, b, busTable(b))
	})
	create.Flags().StringVar(&description, "description", "", "what the bus carries")

	get := platformCmd("get NAME", "Show an event bus", 1, "the bus's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		b, err := c.GetEventBus(cmd.Context(), a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, b, busTable(b))
	})
	del := platformCmd("delete NAME", "Delete a custom event bus that has no rules", 1, "the bus's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteEventBus(cmd.Context(), a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted bus %s\n", a[0])
		return nil
	})
	var validate, mode string
	update := platformCmd("update NAME [--description D] [--validate REGISTRY [--mode KNOWN|STRICT]]",
		"Replace a bus's description and schema validation (without --validate, PutEvents is not validated)", 1, "the bus's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			var v *wims.SchemaValidation
			if validate != "" {
				v = &wims.SchemaValidation{Registry: validate, Mode: mode}
			}
			b, err := c.UpdateEventBus(cmd.Context(), a[0], description, v)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, b, busTable(b))
		})
	update.Flags().StringVar(&description, "description", "", "what the bus carries")
	update.Flags().StringVar(&validate, "validate", "", "refuse PutEvents entries that do not validate against this registry's schema source@DetailType")
	update.Flags().StringVar(&mode, "mode", wims.ValidateKnown, "KNOWN: only entries that have a schema are checked; STRICT: entries without one are refused too")
	cmd.AddCommand(list, create, get, update, del)
	return cmd
}

// nonNil makes an empty listing print as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

// addRuleCommands adds the rule resource commands next to `rules test`.
func addRuleCommands(cmd *cobra.Command) {
	ruleTable := func(rules ...wims.Rule) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tBUS\tSTATE\tMANAGED BY\tPATTERN\tDESCRIPTION", func(tw io.Writer) {
				for _, r := range rules {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.EventBusName, r.State, orDash(r.ManagedBy), r.EventPattern, orDash(r.Description))
				}
			})
		}
	}
	busFlag := func(c *cobra.Command, bus *string) {
		c.Flags().StringVar(bus, "bus", wims.DefaultBus, "the rule's event bus")
	}

	var listBus, prefix string
	list := platformCmd("list [--bus B] [--prefix P]", "List a bus's rules", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		rules, err := c.ListRules(cmd.Context(), listBus, prefix)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"rules": nonNil(rules)}, ruleTable(rules...))
	})
	busFlag(list, &listBus)
	list.Flags().StringVar(&prefix, "prefix", "", "only rules whose names start with this")

	var put wims.Rule
	var patternArg string
	putCmd := platformCmd("put NAME --pattern P [--bus B] [--state ENABLED|DISABLED] [--description D]",
		"Create or replace a rule (its targets are kept)", 1, "the rule's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			if patternArg == "" {
				return usageError(errors.New("--pattern is required"))
			}
			src, err := readArg(cmd, patternArg)
			if err != nil {
				return usageError(fmt.Errorf("--pattern: %w", err))
			}
			r := put
			r.Name, r.EventPattern, r.State = a[0], string(src), strings.ToUpper(put.State)
			out, err := c.PutRule(cmd.Context(), r)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, out, ruleTable(out))
		})
	busFlag(putCmd, &put.EventBusName)
	putCmd.Flags().StringVar(&patternArg, "pattern", "", "event pattern: JSON text or @file (@- reads standard input)")
	putCmd.Flags().StringVar(&put.State, "state", "", "ENABLED (default) or DISABLED")
	putCmd.Flags().StringVar(&put.Description, "description", "", "what the rule is for")

	var getBus string
	get := platformCmd("get NAME [--bus B]", "Show a rule", 1, "the rule's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		r, err := c.GetRule(cmd.Context(), getBus, a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, r, ruleTable(r))
	})
	busFlag(get, &getBus)

	var delBus string
	var force bool
	del := platformCmd("delete NAME [--bus B] [--force]", "Delete a rule (--force: with its targets, or one wims manages)", 1, "the rule's NAME",
		func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
			if err := c.DeleteRule(cmd.Context(), delBus, a[0], force); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted rule %s\n", a[0])
			return nil
		})
	busFlag(del, &delBus)
	del.Flags().BoolVar(&force, "force", false, "also remove its targets; required for rules wims manages")

	state := func(use, short string, set func(c *client.Client, cmd *cobra.Command, bus, name string) (wims.Rule, error)) *cobra.Command {
		var bus string
		sc := platformCmd(use+" NAME [--bus B]", short, 1, "the rule's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			r, err := set(c, cmd, bus, a[0])
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, r, ruleTable(r))
		})
		busFlag(sc, &bus)
		return sc
	}
	enable := state("enable", "Make a rule route events", func(c *client.Client, cmd *cobra.Command, bus, name string) (wims.Rule, error) {
		return c.EnableRule(cmd.Context(), bus, name)
	})
	disable := state("disable", "Stop a rule routing events, keeping it", func(c *client.Client, cmd *cobra.Command, bus, name string) (wims.Rule, error) {
		return c.DisableRule(cmd.Context(), bus, name)
	})
	cmd.AddCommand(list, putCmd, get, del, enable, disable)
}

func newTargetsCommand() *cobra.Command {
	var bus, rule string
	cmd := &cobra.Command{Use: "targets", Short: "List, put and remove the targets of a rule (--bus B --rule R)"}
	cmd.PersistentFlags().StringVar(&bus, "bus", wims.DefaultBus, "the rule's event bus")
	cmd.PersistentFlags().StringVar(&rule, "rule", "", "the rule (required)")
	needRule := func() error {
		if rule == "" {
			return usageError(errors.New("--rule is required"))
		}
		return nil
	}

	list := platformCmd("list --rule R [--bus B]", "List a rule's targets", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		if err := needRule(); err != nil {
			return err
		}
		targets, err := c.ListTargets(cmd.Context(), bus, rule)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"targets": nonNil(targets)}, func(w io.Writer) error {
			return table(w, "ID\tARN\tINPUT\tMAX RETRIES\tMAX AGE", func(tw io.Writer) {
				for _, t := range targets {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", t.ID, t.Arn, targetInput(t), t.RetryPolicy.Attempts(), t.RetryPolicy.MaxAge())
				}
			})
		})
	})

	var (
		t                       wims.Target
		transformer             string
		maxRetries, maxAge      int
		deadLetterARN, inputArg string
	)
	put := platformCmd("put --rule R --id ID --arn ARN [--input JSON | --input-path P | --input-transformer JSON] [--max-retries N] [--max-age S]",
		"Add or replace a target of a rule", 0, "no arguments",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
			if err := needRule(); err != nil {
				return err
			}
			if t.ID == "" || t.Arn == "" {
				return usageError(errors.New("--id and --arn are required"))
			}
			target := t
			if inputArg != "" {
				src, err := readArg(cmd, inputArg)
				if err != nil {
					return usageError(fmt.Errorf("--input: %w", err))
				}
				target.Input = string(src)
			}
			if transformer != "" {
				src, err := readArg(cmd, transformer)
				if err != nil {
					return usageError(fmt.Errorf("--input-transformer: %w", err))
				}
				var it wims.InputTransformer
				dec := json.NewDecoder(strings.NewReader(string(src)))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&it); err != nil {
					return usageError(fmt.Errorf(`--input-transformer: want {"inputPathsMap":{…},"inputTemplate":"…"}: %w`, err))
				}
				target.InputTransformer = &it
			}
			if cmd.Flags().Changed("max-retries") || cmd.Flags().Changed("max-age") {
				target.RetryPolicy = &wims.RetryPolicy{}
				if cmd.Flags().Changed("max-retries") {
					target.RetryPolicy.MaximumRetryAttempts = &maxRetries
				}
				if cmd.Flags().Changed("max-age") {
					target.RetryPolicy.MaximumEventAgeInSeconds = &maxAge
				}
			}
			if deadLetterARN != "" {
				target.DeadLetterConfig = &wims.DeadLetterConfig{Arn: deadLetterARN}
			}
			failed, err := c.PutTargets(cmd.Context(), bus, rule, []wims.Target{target})
			if err != nil {
				return apiError(err)
			}
			if len(failed) > 0 {
				if cf.json {
					_ = writeJSON(cmd.OutOrStdout(), map[string]any{"failedEntries": failed})
				}
				return &exitError{code: 1, err: fmt.Errorf("target %s: %s: %s", failed[0].TargetID, failed[0].ErrorCode, failed[0].ErrorMessage)}
			}
			if cf.json {
				return writeJSON(cmd.OutOrStdout(), map[string]any{"failedEntries": []wims.TargetFailure{}})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "put target %s on rule %s\n", target.ID, rule)
			return nil
		})
	put.Flags().StringVar(&t.ID, "id", "", "the target's id within the rule (required)")
	put.Flags().StringVar(&t.Arn, "arn", "", "where to send: an API destination, event bus, workflow or log group ARN (required)")
	put.Flags().StringVar(&inputArg, "input", "", "send this constant JSON instead of the event (JSON text or @file)")
	put.Flags().StringVar(&t.InputPath, "input-path", "", "send the part of the event at this JSONPath, e.g. $.detail")
	put.Flags().StringVar(&transformer, "input-transformer", "", `render the input: {"inputPathsMap":{…},"inputTemplate":"…"} (JSON text or @file)`)
	put.Flags().IntVar(&maxRetries, "max-retries", 0, "retries after the first attempt, 0-185 (default 185)")
	put.Flags().IntVar(&maxAge, "max-age", 0, "give up on events older than this many seconds, 60-86400 (default 86400)")
	put.Flags().StringVar(&deadLetterARN, "dead-letter-arn", "", "label for the dead letters of this target")

	var id string
	remove := platformCmd("remove --rule R --id ID [--bus B]", "Remove a target of a rule", 0, "no arguments",
		func(cmd *cobra.Command, c *client.Client, _ *clientFlags, _ []string) error {
			if err := needRule(); err != nil {
				return err
			}
			if id == "" {
				return usageError(errors.New("--id is required"))
			}
			if err := c.RemoveTarget(cmd.Context(), bus, rule, id); err != nil {
				return apiError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "removed target %s from rule %s\n", id, rule)
			return nil
		})
	remove.Flags().StringVar(&id, "id", "", "the target's id (required)")
	cmd.AddCommand(list, put, remove)
	return cmd
}

// targetInput says in a table cell what a target sends.
func targetInput(t wims.Target) string {
	switch {
	case t.Input != "":
		return "input " + t.Input
	case t.InputPath != "":
		return "path " + t.InputPath
	case t.InputTransformer != nil:
		return "template " + t.InputTransformer.InputTemplate
	}
	return "the event"
}

func newConnectionsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "connections", Short: "List, create, show and delete connections (how API destinations authenticate)"}
	connTable := func(cs ...wims.Connection) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tAUTH\tKEY HEADER / USER\tSTATE\tARN", func(tw io.Writer) {
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, c.AuthorizationType, orDash(c.APIKeyName+c.Username), c.State, c.ARN())
				}
			})
		}
	}
	var prefix string
	list := platformCmd("list [--prefix P]", "List connections (secrets are never shown)", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		cs, err := c.ListConnections(cmd.Context(), prefix)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"connections": nonNil(cs)}, connTable(cs...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only connections whose names start with this")

	var (
		conn             wims.Connection
		keyValue, passwd string
	)
	create := platformCmd("create NAME --auth API_KEY|BASIC|NONE [--api-key-name H --api-key-value V | --username U --password P]",
		"Create a connection", 1, "the connection's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			cn := conn
			cn.Name, cn.AuthorizationType = a[0], strings.ToUpper(conn.AuthorizationType)
			if cn.AuthorizationType == "" {
				return usageError(errors.New("--auth is required (API_KEY, BASIC or NONE)"))
			}
			if keyValue != "" && passwd != "" {
				return usageError(errors.New("give --api-key-value or --password, not both"))
			}
			for flag, v := range map[string]string{"--api-key-value": keyValue, "--password": passwd} {
				if v == "" {
					continue
				}
				secret, err := readSecret(cmd, flag, v)
				if err != nil {
					return err
				}
				cn.Secret = secret
			}
			out, err := c.CreateConnection(cmd.Context(), cn)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, out, connTable(out))
		})
	create.Flags().StringVar(&conn.AuthorizationType, "auth", "", "API_KEY, BASIC or NONE (required)")
	create.Flags().StringVar(&conn.Description, "description", "", "what the connection is for")
	create.Flags().StringVar(&conn.APIKeyName, "api-key-name", "", "header that carries the API key (API_KEY)")
	create.Flags().StringVar(&keyValue, "api-key-value", "", "the API key (API_KEY); @- reads it from standard input, @FILE from a file")
	create.Flags().StringVar(&conn.Username, "username", "", "basic-auth user (BASIC)")
	create.Flags().StringVar(&passwd, "password", "", "basic-auth password (BASIC); @- reads it from standard input, @FILE from a file")

	get := platformCmd("get NAME", "Show a connection (its secret is never shown)", 1, "the connection's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		cn, err := c.GetConnection(cmd.Context(), a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, cn, connTable(cn))
	})
	del := platformCmd("delete NAME", "Delete a connection no API destination uses", 1, "the connection's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteConnection(cmd.Context(), a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted connection %s\n", a[0])
		return nil
	})
	cmd.AddCommand(list, create, get, del)
	return cmd
}

// readSecret returns a secret flag's value: @- reads standard input and
// @FILE a file (one trailing newline dropped, as `echo` or an editor adds
// one). A literal value works but lands in the shell's history and in the
// process list, so the command warns about it.
func readSecret(cmd *cobra.Command, flag, v string) (string, error) {
	if !strings.HasPrefix(v, "@") {
		fmt.Fprintf(cmd.ErrOrStderr(), "wims: warning: a secret given on the command line (%s) lands in shell history and the process list; prefer %s @- to read it from standard input\n", flag, flag)
		return v, nil
	}
	b, err := readArg(cmd, v)
	if err != nil {
		return "", usageError(fmt.Errorf("%s: %w", flag, err))
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if s == "" {
		return "", usageError(fmt.Errorf("%s: %s is empty", flag, v))
	}
	return s, nil
}

func newAPIDestinationsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "api-destinations", Short: "List, create, show and delete API destinations (HTTP endpoints rules send to)"}
	destTable := func(ds ...wims.APIDestination) func(io.Writer) error {
		return func(w io.Writer) error {
			return table(w, "NAME\tMETHOD\tENDPOINT\tCONNECTION\tRATE/S\tSTATE\tARN", func(tw io.Writer) {
				for _, d := range ds {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Name, d.HTTPMethod, d.InvocationEndpoint, d.ConnectionName, d.InvocationRateLimitPerSecond, d.State, d.ARN())
				}
			})
		}
	}
	var prefix string
	list := platformCmd("list [--prefix P]", "List API destinations", 0, "no arguments", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
		ds, err := c.ListAPIDestinations(cmd.Context(), prefix)
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, map[string]any{"apiDestinations": nonNil(ds)}, destTable(ds...))
	})
	list.Flags().StringVar(&prefix, "prefix", "", "only API destinations whose names start with this")

	var d wims.APIDestination
	create := platformCmd("create NAME --connection C --endpoint URL [--method POST] [--rate N]", "Create an API destination", 1, "the API destination's NAME",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
			dd := d
			dd.Name, dd.HTTPMethod = a[0], strings.ToUpper(d.HTTPMethod)
			if dd.ConnectionName == "" || dd.InvocationEndpoint == "" {
				return usageError(errors.New("--connection and --endpoint are required"))
			}
			out, err := c.CreateAPIDestination(cmd.Context(), dd)
			if err != nil {
				return apiError(err)
			}
			return show(cmd, cf, out, destTable(out))
		})
	create.Flags().StringVar(&d.ConnectionName, "connection", "", "the connection to authenticate with (required)")
	create.Flags().StringVar(&d.InvocationEndpoint, "endpoint", "", "the http(s) URL to call; may hold * for path parameters (required)")
	create.Flags().StringVar(&d.HTTPMethod, "method", "POST", "HTTP method")
	create.Flags().IntVar(&d.InvocationRateLimitPerSecond, "rate", 0, "calls per second at most, across all instances (default 300)")
	create.Flags().StringVar(&d.Description, "description", "", "what the destination is")

	get := platformCmd("get NAME", "Show an API destination", 1, "the API destination's NAME", func(cmd *cobra.Command, c *client.Client, cf *clientFlags, a []string) error {
		out, err := c.GetAPIDestination(cmd.Context(), a[0])
		if err != nil {
			return apiError(err)
		}
		return show(cmd, cf, out, destTable(out))
	})
	del := platformCmd("delete NAME", "Delete an API destination", 1, "the API destination's NAME", func(cmd *cobra.Command, c *client.Client, _ *clientFlags, a []string) error {
		if err := c.DeleteAPIDestination(cmd.Context(), a[0]); err != nil {
			return apiError(err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "deleted API destination %s\n", a[0])
		return nil
	})
	cmd.AddCommand(list, create, get, del)
	return cmd
}

func newEventsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Put events on a bus; list and follow the event log"}
	addEventLogCommands(cmd)
	var (
		e         wims.PutEventsEntry
		detailArg string
	)
	put := platformCmd("put --source S --detail-type T --detail JSON [--bus B] [--resource ARN]…", "Put one event on a bus", 0, "no arguments",
		func(cmd *cobra.Command, c *client.Client, cf *clientFlags, _ []string) error {
			if e.Source == "" || e.DetailType == "" || detailArg == "" {
				return usageError(errors.New("--source, --detail-type and --detail are required"))
			}
			detail, err := readArg(cmd, detailArg)
			if err != nil {
				return usageError(fmt.Errorf("--detail: %w", err))
			}
			entry := e
			entry.Detail = string(detail)
			results, err := c.PutEvents(cmd.Context(), []wims.PutEventsEntry{entry})
			if err != nil {
				return apiError(err)
			}
			if len(results) != 1 {
				return &exitError{code: 1, err: fmt.Errorf("the server answered %d results for 1 entry", len(results))}
			}
			res := results[0]
			if cf.json {
				failed := 0
				if res.ErrorCode != "" {
					failed = 1
				}
				if err := writeJSON(cmd.OutOrStdout(), map[string]any{"failedEntryCount": failed, "entries": results}); err != nil {
					return err
				}
			}
			if res.ErrorCode != "" {
				return &exitError{code: 1, err: fmt.Errorf("event not put: %s: %s", res.ErrorCode, res.ErrorMessage)}
			}
			if !cf.json {
				return table(cmd.OutOrStdout(), "EVENT ID\tBUS", func(tw io.Writer) {
					fmt.Fprintf(tw, "%s\t%s\n", res.EventID, orDash(entry.EventBusName))
				})
			}
			return nil
		})
	put.Flags().StringVar(&e.Source, "source", "", "the event's source, e.g. com.example.shop (required)")
	put.Flags().StringVar(&e.DetailType, "detail-type", "", "the event's detail-type (required)")
	put.Flags().StringVar(&detailArg, "detail", "", "the event's detail: a JSON object, or @file (@- reads standard input) (required)")
	put.Flags().StringVar(&e.EventBusName, "bus", wims.DefaultBus, "the bus to put it on (name or ARN)")
	put.Flags().StringArrayVar(&e.Resources, "resource", nil, "a resource ARN the event is about (repeatable)")
	cmd.AddCommand(put)
	return cmd
}
