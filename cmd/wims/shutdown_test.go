package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
)

// TestServeShutsDownGracefully runs the serve command as main does, stops it
// as SIGTERM would (by cancelling its context), and checks that it exits 0
// and that a restart on the same data dir has the accepted order.
func TestServeShutsDownGracefully(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	serve := func() (stop func() (int, string)) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		var errb bytes.Buffer
		go func() {
			done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--log-level", "warn"}, nil, &bytes.Buffer{}, &errb)
		}()
		eventually(t, 30*time.Second, func() error {
			resp, err := http.Get("http://" + addr + "/healthz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthz %d", resp.StatusCode)
			}
			return nil
		})
		return func() (int, string) {
			cancel()
			select {
			case code := <-done:
				return code, errb.String()
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not stop within 30s of SIGTERM")
				return -1, ""
			}
		}
	}
	stop := serve()
	resp, err := http.Post("http://"+addr+"/orders", "application/json", strings.NewReader(`{"customerId":"g","quantity":2}`))
	if err != nil {
		t.Fatal(err)
	}
	var o wims.Order
	_ = json.NewDecoder(resp.Body).Decode(&o)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /orders = %d", resp.StatusCode)
	}
	if code, logs := stop(); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM; logs:\n%s", code, logs)
	}
	stop = serve()
	defer stop()
	resp, err = http.Get("http://" + addr + "/orders/" + o.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("order %s lost across a graceful restart: GET = %d", o.ID, resp.StatusCode)
	}
}

// TestDataDirIsExclusive: a second wims on the same data dir refuses to
// start (two embedded JetStream servers on one store would corrupt it).
func TestDataDirIsExclusive(t *testing.T) {
	first := startTestApp(t, nil)
	_, err := StartApp(context.Background(), Config{
		Addr: "127.0.0.1:0", DataDir: first.cfg.DataDir, Namespace: "wims", NATSReplicas: 1,
		PaymentsRate: 5, Architecture: "v2", NoSync: true,
	}, first.log)
	if err == nil || !strings.Contains(err.Error(), "in use by another wims") {
		t.Fatalf("second StartApp on the same data dir: %v, want a refusal", err)
	}
	// The first is unharmed.
	if code, _ := first.do("GET", "/healthz", nil); code != http.StatusOK {
		t.Fatalf("first instance /healthz = %d", code)
	}
}

// TestShutdownStopsInDependencyOrder: closing wims while payments are in
// progress against the built-in mock records no failed attempt: the mock
// (what the pipeline calls) stops only after the dispatcher has.
func TestShutdownStopsInDependencyOrder(t *testing.T) {
	dir := t.TempDir()
	a := startTestApp(t, func(c *Config) { c.DataDir = dir; c.PaymentsRate = 20 })
	var ids []string
	for i := range 40 {
		ids = append(ids, a.placeOrder(fmt.Sprintf("s%d", i), 1, "").ID)
	}
	eventually(t, 30*time.Second, func() error {
		for _, id := range ids {
			if a.order(id).Status == wims.OrderPaid {
				return nil
			}
		}
		return fmt.Errorf("nothing paid yet")
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	b := startTestApp(t, func(c *Config) { c.DataDir = dir; c.PaymentsRate = 20 })
	for _, id := range ids {
		for _, p := range b.order(id).Payments {
			if p.Outcome == wims.PaymentError {
				t.Fatalf("order %s has a failed attempt from the shutdown: %+v", id, p)
			}
		}
	}
}
