package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
)

// runClientIn is runClient with standard input.
func runClientIn(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPlatformCommands(t *testing.T) {
	app := startTestApp(t, func(c *Config) {
		c.APIKeys = []string{"admin-key", "shop-key:orders", "ro-key:read"}
	})
	t.Setenv("WIMS_URL", app.url)
	t.Setenv("WIMS_API_KEY", "admin-key")
	const secret = "cli-secret-never-printed"
	want := func(t *testing.T, code int, out, errs string, wantCode int, contains ...string) {
		t.Helper()
		if code != wantCode {
			t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, wantCode, out, errs)
		}
		for _, s := range contains {
			if !strings.Contains(out+errs, s) {
				t.Fatalf("output lacks %q: stdout %q stderr %q", s, out, errs)
			}
		}
		if strings.Contains(out+errs, secret) {
			t.Fatalf("output shows the secret: %q %q", out, errs)
		}
	}

	t.Run("Buses", func(t *testing.T) {
		code, out, errs := runClient(t, "buses", "create", "shop", "--description", "shop events")
		want(t, code, out, errs, 0, "shop", "event-bus/shop")
		code, out, errs = runClient(t, "buses", "list", "--json")
		var list struct{ EventBuses []wims.EventBus }
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.EventBuses) != 2 {
			t.Fatalf("list: %d %q %q", code, out, errs)
		}
		code, out, errs = runClient(t, "buses", "get", "shop")
		want(t, code, out, errs, 0, "NAME", "shop events")
		code, out, errs = runClient(t, "buses", "get", "nope")
		want(t, code, out, errs, 1, "404", "not-found")
		code, out, errs = runClient(t, "buses", "create", "ro", "--api-key", "ro-key")
		want(t, code, out, errs, 1, "403", "forbidden")
	})
	t.Run("Rules", func(t *testing.T) {
		code, out, errs := runClientIn(t, `{"source":["shop"]}`, "rules", "put", "orders", "--bus", "shop", "--pattern", "@-", "--description", "the shop's orders")
		want(t, code, out, errs, 0, "orders", "ENABLED", `{"source":["shop"]}`)
		code, out, errs = runClient(t, "rules", "put", "bad", "--bus", "shop", "--pattern", `{"source":"shop"}`)
		want(t, code, out, errs, 1, "400", "field:  eventPattern")
		code, out, errs = runClient(t, "rules", "put", "x", "--bus", "nope", "--pattern", `{"source":["shop"]}`)
		want(t, code, out, errs, 1, "404")
		code, out, errs = runClient(t, "rules", "disable", "orders", "--bus", "shop")
		want(t, code, out, errs, 0, "DISABLED")
		code, out, errs = runClient(t, "rules", "enable", "orders", "--bus", "shop", "--json")
		var r wims.Rule
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil || r.State != wims.RuleEnabled {
			t.Fatalf("enable: %d %q %q", code, out, errs)
		}
		code, out, errs = runClient(t, "rules", "get", "orders", "--bus", "shop")
		want(t, code, out, errs, 0, "the shop's orders")
		code, out, errs = runClient(t, "rules", "list", "--bus", "shop", "--json")
		var list struct{ Rules []wims.Rule }
		if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Rules) != 1 {
			t.Fatalf("list: %d %q %q", code, out, errs)
		}
		// The built-in rules are on the default bus.
		code, out, errs = runClient(t, "rules", "list")
		want(t, code, out, errs, 0, "wims")
		// `rules test` still runs offline.
		code, out, errs = runClient(t, "rules", "test", "--pattern", `{"source":["shop"]}`, "--event", `{"source":"shop"}`)
		want(t, code, out, errs, 0, "true")
	})
	t.Run("Targets", func(t *testing.T) {
		code, out, errs := runClient(t, "targets", "put", "--bus", "shop", "--rule", "orders", "--id", "fwd",
			"--arn", wims.BusARN(wims.DefaultBus), "--input", `{"a":1}`, "--max-retries", "3", "--max-age", "120")
		want(t, code, out, errs, 0, "put target fwd")
		code, out, errs = runClient(t, "targets", "put", "--bus", "shop", "--rule", "orders", "--id", "tx",
			"--arn", wims.BusARN(wims.DefaultBus), "--input-transformer", `{"inputPathsMap":{"s":"$.source"},"inputTemplate":"{\"src\":<s>}"}`)
		want(t, code, out, errs, 0, "put target tx")
		code, out, errs = runClient(t, "targets", "put", "--bus", "shop", "--rule", "orders", "--id", "bad id", "--arn", wims.BusARN(wims.DefaultBus))
		want(t, code, out, errs, 1, "targets[0].id")
		code, out, errs = runClient(t, "targets", "put", "--bus", "shop", "--rule", "orders", "--id", "gone", "--arn", wims.BusARN("nope"))
		want(t, code, out, errs, 1, "gone", "ValidationException")
		code, out, errs = runClient(t, "targets", "list", "--bus", "shop", "--rule", "orders")
		want(t, code, out, errs, 0, "fwd", `input {"a":1}`, "2m0s", "tx")
		code, out, errs = runClient(t, "targets", "list", "--bus", "shop")
		want(t, code, out, errs, 2, "--rule is required")
		code, out, errs = runClient(t, "targets", "remove", "--bus", "shop", "--rule", "orders", "--id", "tx")
		want(t, code, out, errs, 0, "removed target tx")
		code, out, errs = runClient(t, "rules", "delete", "orders", "--bus", "shop")
		want(t, code, out, errs, 1, "targets")
	})
	t.Run("Connections", func(t *testing.T) {
		code, out, errs := runClientIn(t, secret+"\n", "connections", "create", "key", "--auth", "API_KEY", "--api-key-name", "X-Key", "--api-key-value", "@-")
		want(t, code, out, errs, 0, "key", "API_KEY", "X-Key", "AUTHORIZED")
		if strings.Contains(errs, "warning") {
			t.Fatalf("@- warned: %q", errs)
		}
		code, out, errs = runClient(t, "connections", "create", "basic", "--auth", "basic", "--username", "u", "--password", secret)
		want(t, code, out, errs, 0, "BASIC", "shell history")
		code, out, errs = runClient(t, "connections", "create", "k2", "--auth", "API_KEY", "--api-key-name", "X")
		want(t, code, out, errs, 1, "apiKeyValue")
		code, out, errs = runClient(t, "connections", "list", "--json")
		want(t, code, out, errs, 0, `"connections"`, `"basic"`)
		code, out, errs = runClient(t, "connections", "get", "key", "--json")
		want(t, code, out, errs, 0, `"apiKeyName": "X-Key"`)
	})
	t.Run("APIDestinations", func(t *testing.T) {
		code, out, errs := runClient(t, "api-destinations", "create", "hook", "--connection", "key", "--endpoint", "https://example.com/hook", "--rate", "5")
		want(t, code, out, errs, 0, "hook", "POST", "https://example.com/hook", "ACTIVE")
		code, out, errs = runClient(t, "api-destinations", "create", "bad", "--connection", "key", "--endpoint", "ftp://x")
		want(t, code, out, errs, 1, "invocationEndpoint")
		code, out, errs = runClient(t, "api-destinations", "list")
		want(t, code, out, errs, 0, "hook")
		code, out, errs = runClient(t, "api-destinations", "get", "hook", "--json")
		var d wims.APIDestination
		if code != 0 || json.Unmarshal([]byte(out), &d) != nil || d.InvocationRateLimitPerSecond != 5 {
			t.Fatalf("get: %d %q %q", code, out, errs)
		}
		code, out, errs = runClient(t, "connections", "delete", "key")
		want(t, code, out, errs, 1, "409")
		code, out, errs = runClient(t, "api-destinations", "delete", "hook")
		want(t, code, out, errs, 0, "deleted")
		code, out, errs = runClient(t, "connections", "delete", "key")
		want(t, code, out, errs, 0, "deleted")
	})
	t.Run("Events", func(t *testing.T) {
		code, out, errs := runClient(t, "events", "put", "--source", "shop", "--detail-type", "OrderPlaced", "--detail", `{"orderId":"o1"}`, "--bus", "shop", "--api-key", "shop-key")
		want(t, code, out, errs, 0, "EVENT ID", "shop")
		code, out, errs = runClient(t, "events", "put", "--source", "shop", "--detail-type", "T", "--detail", `{}`, "--json")
		var res struct {
			FailedEntryCount int
			Entries          []wims.PutEventsResult
		}
		if code != 0 || json.Unmarshal([]byte(out), &res) != nil || res.FailedEntryCount != 0 || res.Entries[0].EventID == "" {
			t.Fatalf("put --json: %d %q %q", code, out, errs)
		}
		code, out, errs = runClient(t, "events", "put", "--source", "shop", "--detail-type", "T", "--detail", `{}`, "--bus", "nope")
		want(t, code, out, errs, 1, "ResourceNotFoundException")
		code, out, errs = runClient(t, "events", "put", "--source", "shop", "--detail-type", "T", "--detail", `[1]`)
		want(t, code, out, errs, 1, "MalformedDetail")
		code, out, errs = runClient(t, "events", "put", "--source", "shop")
		want(t, code, out, errs, 2, "required")
		code, out, errs = runClient(t, "events", "put", "--source", "shop", "--detail-type", "T", "--detail", `{}`, "--api-key", "ro-key")
		want(t, code, out, errs, 1, "403")
	})
	t.Run("Cleanup", func(t *testing.T) {
		code, out, errs := runClient(t, "buses", "delete", "shop")
		want(t, code, out, errs, 1, "409")
		code, out, errs = runClient(t, "rules", "delete", "orders", "--bus", "shop", "--force")
		want(t, code, out, errs, 0, "deleted rule orders")
		code, out, errs = runClient(t, "buses", "delete", "shop")
		want(t, code, out, errs, 0, "deleted bus shop")
	})
}

// TestArchiveCommands: `wims archives` and `wims replays` over the REST API,
// including a bad pattern and a replay of an unknown archive.
func TestArchiveCommands(t *testing.T) {
	app := startTestApp(t, nil)
	t.Setenv("WIMS_URL", app.url)
	code, out, errs := runClient(t, "archives", "create", "all-default", "--retention-days", "2", "--description", "everything")
	if code != 0 || !strings.Contains(out, "all-default") || !strings.Contains(out, "2d") {
		t.Fatalf("archives create: %d %q %q", code, out, errs)
	}
	code, out, errs = runClient(t, "archives", "create", "bad", "--pattern", `{"source":"x"}`)
	if code != 1 || !strings.Contains(out+errs, "eventPattern") {
		t.Fatalf("archives create with a bad pattern: %d %q %q", code, out, errs)
	}
	code, out, errs = runClient(t, "archives", "update", "all-default", "--pattern", `{"source":["wims.cdc"]}`, "--json")
	var a wims.Archive
	if code != 0 || json.Unmarshal([]byte(out), &a) != nil || a.EventPattern != `{"source":["wims.cdc"]}` || a.RetentionDays != 0 {
		t.Fatalf("archives update: %d %q %q", code, out, errs)
	}
	code, out, errs = runClient(t, "replays", "start", "r1", "--archive", "all-default", "--from", "1h")
	if code != 0 || !strings.Contains(out, "STARTING") {
		t.Fatalf("replays start: %d %q %q", code, out, errs)
	}
	eventually(t, 20*time.Second, func() error {
		code, out, errs := runClient(t, "replays", "get", "r1", "--json")
		var r wims.Replay
		if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
			return fmt.Errorf("replays get: %d %q %q", code, out, errs)
		}
		if r.State != wims.ReplayCompleted {
			return fmt.Errorf("replay %s", r.State)
		}
		return nil
	})
	code, out, errs = runClient(t, "replays", "start", "r2", "--archive", "nope", "--from", "1h")
	if code != 1 || !strings.Contains(out+errs, "404") {
		t.Fatalf("replay of an unknown archive: %d %q %q", code, out, errs)
	}
	code, out, errs = runClient(t, "replays", "start", "r3", "--archive", "all-default", "--from", "yesterday")
	if code != 2 || !strings.Contains(errs, "--from") {
		t.Fatalf("replay with a bad --from: %d %q %q", code, out, errs)
	}
	code, out, errs = runClient(t, "replays", "list")
	if code != 0 || !strings.Contains(out, "r1") || !strings.Contains(out, "COMPLETED") {
		t.Fatalf("replays list: %d %q %q", code, out, errs)
	}
	code, out, errs = runClient(t, "archives", "delete", "all-default")
	if code != 0 {
		t.Fatalf("archives delete: %d %q %q", code, out, errs)
	}
}

// syncWriter is a buffer a command writes to while the test reads it.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestEventLogCommands: `wims events list` by order and time, and `wims
// events tail` printing an order's events as they happen.
func TestEventLogCommands(t *testing.T) {
	app := startTestApp(t, nil)
	t.Setenv("WIMS_URL", app.url)
	first := app.placeOrder("cli", 1, "")
	waitStatus(t, app, first.ID, wims.OrderPaid)

	var got struct {
		Events []map[string]any
		Next   string
	}
	eventually(t, 20*time.Second, func() error {
		code, out, errs := runClient(t, "events", "list", "--order", first.ID, "--since", "1h", "--json")
		if code != 0 {
			return fmt.Errorf("events list: %d %q %q", code, out, errs)
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			return err
		}
		sources := map[string]bool{}
		for _, ev := range got.Events {
			sources[ev["source"].(string)] = true
		}
		if !sources["wims.orders"] || !sources["wims.payments"] || !sources["wims.cdc"] {
			return fmt.Errorf("events of order %s come from %v", first.ID, sources)
		}
		return nil
	})
	if code, out, errs := runClient(t, "events", "list", "--since", "tomorrow"); code != 2 || !strings.Contains(errs, "--since") {
		t.Fatalf("bad --since: %d %q %q", code, out, errs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	out := &syncWriter{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"events", "tail", "--source", "wims.payments", "--json"}, strings.NewReader(""), out, io.Discard)
	}()
	// The tail starts from now (its start is not observable): place orders
	// until one's payment shows.
	var placed []string
	eventually(t, 20*time.Second, func() error {
		for _, id := range placed {
			if strings.Contains(out.String(), id) {
				return nil
			}
		}
		placed = append(placed, app.placeOrder("cli", 1, "").ID)
		return fmt.Errorf("tail printed %q", out.String())
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("tail exited %d", code)
	}
	if strings.Contains(out.String(), first.ID) {
		t.Fatalf("tail from now printed the earlier order: %s", out.String())
	}
}
