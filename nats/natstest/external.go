package natstest

import (
	"net"
	"net/url"
	"os"
	"testing"
	"time"
)

// EnvURL names the variable that points tests at an external NATS server
// (with JetStream); the default is the machine's own at 127.0.0.1:4222.
const EnvURL = "WIMS_TEST_NATS_URL"

// External returns the URL of the external NATS server for tests that must
// run against a server wims does not embed (another version, another
// process). If it is unreachable the test fails under CI=true, where the
// server is part of the machine, and is skipped elsewhere.
func External(tb testing.TB) string {
	tb.Helper()
	raw := os.Getenv(EnvURL)
	if raw == "" {
		raw = "nats://127.0.0.1:4222"
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		tb.Fatalf("natstest: %s=%q is not a nats:// URL", EnvURL, raw)
	}
	c, err := net.DialTimeout("tcp", u.Host, 3*time.Second)
	if err == nil {
		_ = c.Close()
		return raw
	}
	msg := "natstest: external NATS unreachable (set " + EnvURL + "): " + err.Error()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}
