package console_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims/console"
	"github.com/wims/wims/sqlite"
)

// TestConsoleLiveFigures: the overview shows the figures Options.Stats
// reads, and its stream pushes them as they move; a failing reading leaves
// the page up.
func TestConsoleLiveFigures(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db"), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var accepted atomic.Int64
	var fail atomic.Bool
	stats := func(context.Context) (console.Stats, error) {
		if fail.Load() {
			return console.Stats{}, errors.New("registry down")
		}
		n := accepted.Add(10) // 10 more orders every reading
		return console.Stats{
			OrdersAccepted: float64(n), PaymentsLimit: 5, DeadLetters: 3,
			Backlogs: []console.Backlog{{Consumer: "<b>target-x</b>", Pending: 1200, OldestAge: 2 * time.Second}},
		}, nil
	}
	srv := httptest.NewServer(console.New(console.Options{Store: db, Stats: stats, StreamInterval: 20 * time.Millisecond}))
	t.Cleanup(srv.Close)
	c := client(t)
	_, page := get(t, c, srv.URL+"/ui/")
	for _, want := range []string{`id="fig-dead-letters">3<`, `id="fig-payments-limit">5/s<`, "&lt;b&gt;target-x&lt;/b&gt;", ">1,200<", `id="plot-orders-rate"`, `data-stream="/ui/stream?live=1"`} {
		if !strings.Contains(page, want) {
			t.Errorf("overview lacks %s", want)
		}
	}
	resp, err := c.Get(srv.URL + "/ui/stream?live=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 64<<10)
	var got strings.Builder
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(got.String(), `"orders-rate":"`) || strings.Contains(lastEvent(got.String()), `"orders-rate":"0/s"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no orders rate in the stream:\n%s", got.String())
		}
		n, err := resp.Body.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(buf[:n])
	}
	fail.Store(true)
	if resp, _ := get(t, c, srv.URL+"/ui/"); resp.StatusCode != 200 {
		t.Errorf("overview with a failing reading: %d, want 200", resp.StatusCode)
	}
}

// lastEvent is the last complete event of an SSE text.
func lastEvent(s string) string {
	ev := strings.Split(strings.TrimSpace(s), "\n\n")
	return ev[len(ev)-1]
}
