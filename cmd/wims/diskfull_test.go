package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/paymentsmock"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips when this
// machine does not allow mounting (it needs root, as in CI).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	mustNil(t, err)
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	for { // the last partial chunks
		if _, err := f.Write(chunk[:512]); err != nil {
			return path
		}
	}
}

// TestDiskFullRecovers: with the data dir's disk full, wims answers 503
// with Retry-After (not 500) and /healthz names the failing part; once
// space is back it recovers by itself: /healthz is 200 again, the embedded
// JetStream runs again, and every order it acknowledged is PAID.
func TestDiskFullRecovers(t *testing.T) {
	disk := smallDisk(t, "96m")
	_, payURL := fastPayments(t, paymentsmock.Options{})
	a := startTestApp(t, func(c *Config) {
		c.DataDir, c.PaymentsURL = filepath.Join(disk, "data"), payURL
		c.NoSync = false // fsync, as in production: a full disk must fail the write, not a later flush
	})
	a.putItem("DSK", 1000, 1)
	var accepted []string
	accepted = append(accepted, a.placeOrder("before", 1, "DSK").ID)

	filler := fill(t, disk)
	// Orders keep coming while the disk is full: each is either accepted
	// (202, then it must not be lost) or refused with 503 + Retry-After.
	eventually(t, 60*time.Second, func() error {
		res, err := http.Post(a.url+"/orders", "application/json", strings.NewReader(`{"customerId":"during","quantity":1,"sku":"DSK"}`))
		mustNil(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		switch res.StatusCode {
		case 202:
			var o wims.Order
			mustNil(t, json.Unmarshal(body, &o))
			accepted = append(accepted, o.ID)
			return fmt.Errorf("still accepted")
		case 503:
			if res.Header.Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After: %s", body)
			}
			return nil
		default:
			t.Fatalf("POST /orders on a full disk: %d %s", res.StatusCode, body)
		}
		return nil
	})
	// Events put on the bus hit the full disk in JetStream itself.
	eventually(t, 60*time.Second, func() error {
		res, err := a.platform.PutEvents(context.Background(), []wims.PutEventsEntry{{Source: "shop", DetailType: "Fill", Detail: `{"pad":"` + strings.Repeat("x", 60000) + `"}`}})
		if err == nil && res[0].ErrorCode == "" {
			return fmt.Errorf("the bus still stores events")
		}
		return nil
	})
	eventually(t, 60*time.Second, func() error {
		code, body := a.do("GET", "/healthz", nil)
		var h struct{ Checks map[string]string }
		_ = json.Unmarshal(body, &h)
		if code != 503 || h.Checks["bus"] != "failing" {
			return fmt.Errorf("healthz %d %s on a full disk", code, body)
		}
		return nil
	})

	mustNil(t, os.Remove(filler))
	eventually(t, 60*time.Second, func() error {
		code, body := a.do("GET", "/healthz", nil)
		if code != 200 {
			return fmt.Errorf("healthz %d %s after space came back", code, body)
		}
		return nil
	})
	res, err := a.platform.PutEvents(context.Background(), []wims.PutEventsEntry{{Source: "shop", DetailType: "After", Detail: `{}`}})
	if err != nil || res[0].ErrorCode != "" {
		t.Fatalf("put after recovery: %v %+v", err, res)
	}
	for range 3 {
		accepted = append(accepted, a.placeOrder("after", 1, "DSK").ID)
	}
	for _, id := range accepted {
		waitStatus(t, a, id, wims.OrderPaid)
	}
}
