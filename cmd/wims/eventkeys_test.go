package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/wims/wims/postgres/pgtest"
)

// TestEventKeyConfig: a bad --event-key or --sensitive-field is refused at
// start with a message that names the flag and never the secret; the
// config dump shows key ids only.
func TestEventKeyConfig(t *testing.T) {
	secret := strings.Repeat("cd", 32)
	var base Config
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	base.flags(fs)
	if err := fs.Parse(nil); err != nil { // the defaults
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.EventKeys = []string{"k1:" + secret[:10]} }, "--event-key"},
		{func(c *Config) { c.EventKeys = []string{"bad id:" + secret} }, "--event-key"},
		{func(c *Config) { c.SensitiveFields = []string{"source"} }, "--sensitive-field"},
	} {
		c := base
		tc.edit(&c)
		err := c.validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secret[:10]) {
			t.Errorf("validate(%v) = %v, want an error naming %s and not the secret", c.EventKeys, err, tc.want)
		}
	}
	c := base
	c.EventKeys = []string{"k1:" + secret}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, secret) || !strings.Contains(s, "k1:<redacted>") {
		t.Fatalf("config dump %s", s)
	}
}

// TestEventKeysSharedStore: a second instance on the first's PostgreSQL
// store, with a data dir of its own and so a key file of its own, is
// refused at start, with a message saying what to do (its rules would
// never match the first's encrypted fields); given the first's key it
// starts.
func TestEventKeysSharedStore(t *testing.T) {
	pg := pgtest.URL(t)
	first := startTestApp(t, func(c *Config) { c.Store = pg })
	cfg := Config{
		Addr: "127.0.0.1:0", DataDir: t.TempDir(), Store: pg, Namespace: "wims", NATSReplicas: 1,
		PaymentsRate: 5, Architecture: "v2", NoSync: true,
	}
	app, err := StartApp(context.Background(), cfg, first.log)
	if err == nil {
		_ = app.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "event key default is not the key default") || !strings.Contains(err.Error(), "event.key") {
		t.Fatalf("second instance with its own key file: %v, want a refusal naming the key file", err)
	}
	h, err := os.ReadFile(filepath.Join(first.cfg.DataDir, "event.key"))
	mustNil(t, err)
	startTestApp(t, func(c *Config) { c.Store = pg; c.EventKeys = []string{"default:" + strings.TrimSpace(string(h))} })
}
