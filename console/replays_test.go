package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/console"
	"github.com/wims/wims/sqlite"
)

// replayPlatform answers DescribeReplay with the states of a replay that
// runs and then completes, one per call.
type replayPlatform struct {
	*fakePlatform
	mu     sync.Mutex
	states []wims.Replay
}

func (p *replayPlatform) DescribeReplay(_ context.Context, name string) (wims.Replay, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if name != "r1" {
		return wims.Replay{}, wims.Errorf(wims.ENOTFOUND, "Replay %s does not exist.", name)
	}
	rp := p.states[0]
	if len(p.states) > 1 {
		p.states = p.states[1:]
	}
	return rp, nil
}

// TestConsoleReplayStream: the replay stream sends the progress until the
// replay has ended, then ends itself.
func TestConsoleReplayStream(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "wims.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	rp := &replayPlatform{fakePlatform: newFakePlatform(), states: []wims.Replay{
		{Name: "r1", State: wims.ReplayRunning, Replayed: 1, Checkpoint: 1, EndSeq: 3},
		{Name: "r1", State: wims.ReplayRunning, Replayed: 2, Checkpoint: 2, EndSeq: 3},
		{Name: "r1", State: wims.ReplayCompleted, Replayed: 1234, Checkpoint: 3, EndSeq: 3},
	}}
	srv := httptest.NewServer(console.New(console.Options{Store: db, StreamInterval: 10 * time.Millisecond, Platform: rp}))
	t.Cleanup(srv.Close)
	c := client(t)
	resp, page := get(t, c, srv.URL+"/ui/replays/r1")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `data-replay-stream="/ui/replays/r1/stream"`) {
		t.Fatalf("replay page: %d\n%s", resp.StatusCode, page)
	}
	resp, err = c.Get(srv.URL + "/ui/replays/r1/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // ends: the replay completed
	if err != nil {
		t.Fatal(err)
	}
	if got := string(body); !strings.Contains(got, "event: progress\ndata: {") || !strings.Contains(got, `"state":"COMPLETED"`) ||
		!strings.Contains(got, `"replayed":"1,234"`) || !strings.Contains(got, `"done":true`) {
		t.Errorf("stream:\n%s", got)
	}
	if resp, page := get(t, c, srv.URL+"/ui/replays/r1"); resp.StatusCode != http.StatusOK || strings.Contains(page, "data-replay-stream") || !strings.Contains(page, "COMPLETED") {
		t.Errorf("completed replay page: %d\n%s", resp.StatusCode, page)
	}
}
