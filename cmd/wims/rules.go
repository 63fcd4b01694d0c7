package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/wims/wims/pattern"
)

func newRulesCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Work with routing rules and event patterns"}
	cmd.AddCommand(newRulesTestCommand())
	addRuleCommands(cmd)
	return cmd
}

// newRulesTestCommand mirrors `aws events test-event-pattern`: it prints true
// or false and exits 0, or explains on stderr and exits 2 when the pattern or
// the event is invalid.
func newRulesTestCommand() *cobra.Command {
	var patternArg, eventArg string
	cmd := &cobra.Command{
		Use:   "test --pattern P --event E",
		Short: "Test whether an event matches an EventBridge event pattern",
		Long: "Test whether an event matches an EventBridge event pattern.\n\n" +
			"P and E are JSON text, or @path to read a file (@- reads standard input).\n" +
			"Prints true or false and exits 0; an invalid pattern or an event that is not\n" +
			"a JSON object prints the reason on stderr and exits 2.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, err := readArg(cmd, patternArg)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("pattern: %w", err)}
			}
			ev, err := readArg(cmd, eventArg)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("event: %w", err)}
			}
			p, err := pattern.Compile(src)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("invalid pattern: %w", err)}
			}
			if err := pattern.ValidateEvent(ev); err != nil {
				return &exitError{code: 2, err: fmt.Errorf("invalid event: %w", err)}
			}
			ok, err := p.Match(ev)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("invalid event: %w", err)}
			}
			fmt.Fprintln(cmd.OutOrStdout(), ok)
			return nil
		},
	}
	cmd.Flags().StringVar(&patternArg, "pattern", "", "event pattern: JSON text or @file")
	cmd.Flags().StringVar(&eventArg, "event", "", "event: JSON text or @file")
	_ = cmd.MarkFlagRequired("pattern")
	_ = cmd.MarkFlagRequired("event")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: 2, err: err} })
	return cmd
}

// maxArgBytes bounds what readArg reads: events are at most 256 KB in
// EventBridge, patterns much less.
const maxArgBytes = 1 << 20

// readArg returns the argument's bytes: the text itself, or a file's
// contents for @path (@- for standard input).
func readArg(cmd *cobra.Command, arg string) ([]byte, error) {
	path, isFile := strings.CutPrefix(arg, "@")
	if !isFile {
		return []byte(arg), nil
	}
	if path == "-" {
		return io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxArgBytes))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxArgBytes))
}
