package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exitError carries a process exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

// run executes the CLI and returns the process exit code: 0 on success, 2 for
// usage errors and invalid input, 1 for other failures.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "wims:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "wims:", err)
	if strings.HasPrefix(err.Error(), "unknown") || strings.Contains(err.Error(), "flag") {
		return 2
	}
	return 1
}

func newRootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "wims",
		Short:         "Warehouse Inventory Management System: event-driven orders and inventory",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServeCommand(), newRulesCommand(), newPaymentsMockCommand())
	root.AddCommand(newBenchCommand(), newVersionCommand())
	root.AddCommand(newOrderCommand(), newInventoryCommand(), newDeadLettersCommand())
	root.AddCommand(newBusesCommand(), newTargetsCommand(), newConnectionsCommand(), newAPIDestinationsCommand(), newEventsCommand(),
		newArchivesCommand(), newReplaysCommand(), newRegistriesCommand(), newSchemasCommand(), newDiscoverersCommand())
	return root
}

// bindEnv sets every flag of fs not given on the command line from the
// environment variable WIMS_<NAME> (upper case, dashes as underscores), so
// each flag is also configurable as the DESIGN's contract says.
func bindEnv(fs *pflag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		name := "WIMS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			if err := sv.Replace(splitList(v)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			return
		}
		if err := f.Value.Set(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	})
	return errors.Join(errs...)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
