// Package pgtest gives tests a fresh, empty PostgreSQL database (or schema)
// that is dropped when the test ends, so tests of any package can run against
// a real server without sharing state.
//
// The server is the one at $WIMS_TEST_POSTGRES_URL, or DefaultURL (a local
// server with trust authentication, as on CI). The URL must be in URL form
// (postgres://...) and name a database the user can connect to; the user must
// be allowed to create databases. If the server cannot be reached, tests are
// skipped with the reason, unless $CI is "true", in which case they fail:
// CI has the server, so an unreachable one is a broken setup, not a reason to
// pass silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when $WIMS_TEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// EnvURL names the environment variable that overrides DefaultURL.
const EnvURL = "WIMS_TEST_POSTGRES_URL"

// timeout bounds each administrative step (connect, create, drop).
const timeout = 30 * time.Second

// ServerURL returns the URL of the test server's administrative database.
func ServerURL() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// URL creates a database named wims_test_<random> and returns a URL to it.
// The database is dropped, after forcibly ending its connections, when tb and
// its subtests are done. It skips tb (or fails it when $CI is "true") if the
// server is unreachable.
func URL(tb testing.TB) string {
	tb.Helper()
	admin := ServerURL()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	c := connect(tb, admin)
	defer closeConn(c)

	name := "wims_test_" + randomHex(tb)
	ident := pgx.Identifier{name}.Sanitize()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := c.Exec(ctx, `CREATE DATABASE `+ident); err != nil {
		tb.Fatalf("pgtest: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin)
		if err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer closeConn(c)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// Schema creates a schema named s_<random> in the database at dbURL (e.g.
// one from URL) and returns dbURL with the schema as the connections'
// search_path, so everything created through it lands in that schema. It is
// much faster than a database per test, which suits suites that open many
// stores in parallel. The schema is dropped when tb is done.
func Schema(tb testing.TB, dbURL string) string {
	tb.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatalf("pgtest: schema: bad database URL: %v", err)
	}
	c := connect(tb, dbURL)
	defer closeConn(c)
	name := "s_" + randomHex(tb)
	ident := pgx.Identifier{name}.Sanitize()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := c.Exec(ctx, `CREATE SCHEMA `+ident); err != nil {
		tb.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dbURL)
		if err != nil {
			return // the database is gone already: so is the schema
		}
		defer closeConn(c)
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+ident+` CASCADE`); err != nil {
			tb.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	q := u.Query()
	q.Set("options", "-csearch_path="+name)
	u.RawQuery = q.Encode()
	return u.String()
}

// connect opens a connection to rawURL, skipping or failing tb if the server
// is unreachable.
func connect(tb testing.TB, rawURL string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, rawURL)
	if err == nil {
		return c
	}
	msg := "pgtest: PostgreSQL unreachable (set " + EnvURL + "): " + err.Error()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return nil
}

// randomHex returns 16 random hex digits for a unique, safe identifier.
func randomHex(tb testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// closeConn closes c without waiting long for the server.
func closeConn(c *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c.Close(ctx)
}
