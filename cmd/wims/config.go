package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Config is everything `wims serve` is configured with: flags, each also an
// environment variable WIMS_<NAME>.
type Config struct {
	Addr         string
	DataDir      string
	Store        string
	NATSURLs     []string
	Namespace    string
	NATSReplicas int
	PaymentsURL  string
	PaymentsRate float64
	// PaymentsMaxBackoff caps the delay between failed payment attempts.
	PaymentsMaxBackoff time.Duration
	NotifyWebhooks     []string
	ConfigFile         string
	Architecture       string
	LogLevel           string
	LogFormat          string
	Insecure           bool
	ShutdownGrace      time.Duration
	// NoSync turns off fsync on every commit (SQLite synchronous=NORMAL,
	// JetStream without sync-always): faster, but a power loss can lose the
	// last acknowledged writes. A process crash still loses nothing.
	NoSync bool
}

func (c *Config) flags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	fs.StringVar(&c.DataDir, "data-dir", "./wims-data", "directory for the SQLite database and the embedded JetStream store")
	fs.StringVar(&c.Store, "store", "", "store: empty for SQLite in the data dir, or postgres://… (not yet supported)")
	fs.StringSliceVar(&c.NATSURLs, "nats-url", nil, "external NATS server or cluster URLs (default: embedded, no TCP port)")
	fs.StringVar(&c.Namespace, "namespace", "wims", "prefix of every stream, consumer and subject")
	fs.IntVar(&c.NATSReplicas, "nats-replicas", 1, "JetStream replicas for streams and consumers")
	fs.StringVar(&c.PaymentsURL, "payments-url", "", "payments API endpoint (default: the built-in mock on its own loopback port)")
	fs.Float64Var(&c.PaymentsRate, "payments-rate", 5, "requests/s the payment dispatcher may send")
	fs.DurationVar(&c.PaymentsMaxBackoff, "payments-max-backoff", 30*time.Second, "longest delay between failed payment attempts (10 failures go to the dead-letter stream)")
	fs.StringArrayVar(&c.NotifyWebhooks, "notify-webhook", nil, "URL that receives LOW_STOCK/OUT_OF_STOCK notifications (repeatable)")
	fs.StringVar(&c.ConfigFile, "config", "", "JSON file with extra rules: {\"rules\":[{\"name\",\"pattern\",\"targets\":[{\"type\",\"url\"}]}]}")
	fs.StringVar(&c.Architecture, "architecture", "v2", "v2 (event-driven) or v1 (the course's synchronous design)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "text or json")
	fs.BoolVar(&c.Insecure, "insecure", false, "allow serving on a non-loopback address without authentication")
	fs.DurationVar(&c.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight work may take to finish on shutdown")
	fs.BoolVar(&c.NoSync, "no-sync", false, "do not fsync every commit (faster; a power loss may lose recent acknowledged writes)")
}

// validate checks the configuration before anything starts.
func (c *Config) validate() error {
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", c.Addr, err)
	}
	if !isLoopback(host) && !c.Insecure {
		return fmt.Errorf("--addr %s is not a loopback address and wims has no authentication configured; "+
			"pass --insecure to serve it anyway", c.Addr)
	}
	switch {
	case c.Store == "":
	case strings.HasPrefix(c.Store, "postgres://"), strings.HasPrefix(c.Store, "postgresql://"):
		return fmt.Errorf("--store postgres: PostgreSQL support is not built yet; use the default SQLite store")
	default:
		return fmt.Errorf("--store %q: want empty (SQLite) or a postgres:// URL", c.Store)
	}
	switch c.Architecture {
	case "v2":
	case "v1":
		return fmt.Errorf("--architecture v1 is not built yet; use v2")
	default:
		return fmt.Errorf("--architecture %q: want v2 or v1", c.Architecture)
	}
	if c.PaymentsRate <= 0 {
		return fmt.Errorf("--payments-rate must be > 0")
	}
	if c.PaymentsURL != "" {
		if err := checkURL(c.PaymentsURL); err != nil {
			return fmt.Errorf("--payments-url: %w", err)
		}
	}
	for _, u := range c.NotifyWebhooks {
		if err := checkURL(u); err != nil {
			return fmt.Errorf("--notify-webhook: %w", err)
		}
	}
	if c.NATSReplicas < 1 || c.NATSReplicas > 5 {
		return fmt.Errorf("--nats-replicas must be between 1 and 5")
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
