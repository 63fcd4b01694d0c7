package main

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
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
