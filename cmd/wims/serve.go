package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

func newServeCommand() *cobra.Command {
	var cfg Config
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run wims: HTTP API, store, bus, relay, rules, workflow, payments and notifications in one process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bindEnv(cmd.Flags()); err != nil {
				return &exitError{code: 2, err: err}
			}
			log, err := newLogger(cmd.ErrOrStderr(), cfg.LogLevel, cfg.LogFormat)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if err := cfg.validate(); err != nil {
				return &exitError{code: 2, err: err}
			}
			announceStart(cmd.ErrOrStderr(), log, cfg)
			tuneGC(os.Getenv("GOGC"), log)
			app, err := StartApp(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			select {
			case <-cmd.Context().Done():
				log.Info("shutting down")
			case err = <-app.Errors():
				log.Error("stopping after a component failed", "err", err)
			}
			if cerr := app.Close(); cerr != nil {
				log.Warn("shutdown", "err", cerr)
			}
			log.Info("stopped")
			return err
		},
	}
	cfg.flags(cmd.Flags())
	return cmd
}

// announceStart says that wims is starting and where its data lives, at
// once: opening the store and the embedded JetStream server can take
// seconds, and until the "wims serving" log line (with the URL to open)
// nothing else would show. With --log-format text it is a plain line for
// the person at the terminal; with json a log record, so that the stream
// stays JSON lines.
func announceStart(w io.Writer, log *slog.Logger, cfg Config) {
	dir, store := absPath(cfg.DataDir), ""
	if cfg.Store != "" {
		store = ", orders in PostgreSQL"
	}
	if cfg.LogFormat == "json" {
		log.Info("wims starting", "data_dir", dir, "postgres", cfg.Store != "")
		return
	}
	fmt.Fprintf(w, "wims: starting (data in %s%s)…\n", dir, store)
}

func newLogger(w interface{ Write([]byte) (int, error) }, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}
