package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/sqlite"
)

// openStore opens the store --store names: SQLite in the data dir by
// default, or PostgreSQL for a postgres:// URL (shared by several instances).
func openStore(ctx context.Context, cfg Config, log *slog.Logger) (wims.Store, error) {
	if isPostgresURL(cfg.Store) {
		s, err := postgres.Open(ctx, postgres.Options{URL: cfg.Store, Logger: log.With("component", "postgres"), Seed: true})
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL store: %w", err)
		}
		return s, nil
	}
	s, err := sqlite.Open(ctx, sqlite.Options{
		Path: filepath.Join(cfg.DataDir, "wims.db"), Durable: !cfg.NoSync, Logger: log.With("component", "sqlite"), Seed: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open SQLite store: %w", err)
	}
	return s, nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}
