package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/notify"
	"github.com/wims/wims/relay"
	"github.com/wims/wims/sqlite"
	"github.com/wims/wims/webhook"
)

func inventoryEvent(t *testing.T, id string, oldQ, newQ, threshold int64) *wims.Message {
	t.Helper()
	img := func(q int64) json.RawMessage {
		b, _ := json.Marshal(wims.Item{SKU: "A", ProductName: "A", Quantity: q, LowStockThreshold: threshold})
		return b
	}
	m, err := relay.Message(wims.Change{
		Seq: 1, EventID: id, Table: wims.TableInventory, EventType: wims.ChangeUpdate,
		Key: json.RawMessage(`{"sku":"A"}`), ChangedColumns: []string{"quantity"},
		OldImage: img(oldQ), NewImage: img(newQ), Time: time.Now(),
	}, "wims.events.cdc", "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	return &wims.Message{Data: m.Data, ID: m.ID, Header: m.Header, Delivered: 1}
}

func TestFromEvent(t *testing.T) {
	tests := []struct {
		name               string
		oldQ, newQ, thresh int64
		want               []wims.NotificationKind
	}{
		{"no crossing", 500, 400, 100, nil},
		{"low", 101, 100, 100, []wims.NotificationKind{wims.LowStock}},
		{"low and out", 150, 0, 100, []wims.NotificationKind{wims.LowStock, wims.OutOfStock}},
		{"out only", 10, 0, 100, []wims.NotificationKind{wims.OutOfStock}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			notes, err := notify.FromEvent(inventoryEvent(t, "ev", tt.oldQ, tt.newQ, tt.thresh).Data)
			if err != nil {
				t.Fatal(err)
			}
			if len(notes) != len(tt.want) {
				t.Fatalf("notifications = %+v, want kinds %v", notes, tt.want)
			}
			for i, n := range notes {
				wantThreshold := tt.thresh
				if n.Kind == wims.OutOfStock {
					wantThreshold = 0
				}
				if n.Kind != tt.want[i] || n.ID != wims.NotificationID("ev", n.Kind) || n.SKU != "A" ||
					n.Quantity != tt.newQ || n.Threshold != wantThreshold || len(n.Event) == 0 {
					t.Fatalf("notification %d = %+v", i, n)
				}
			}
		})
	}
	if notes, err := notify.FromEvent([]byte(`{"id":"x","detail":{"data":{"table":"orders","eventType":"UPDATE"}}}`)); err != nil || notes != nil {
		t.Fatalf("orders event gave %v, %v", notes, err)
	}
	if _, err := notify.FromEvent([]byte(`nope`)); err == nil {
		t.Fatal("malformed event accepted")
	}
}

type receiver struct {
	mu     sync.Mutex
	bodies []wims.Notification
	keys   []string
	fail   int
	status int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		w.WriteHeader(r.status)
		return
	}
	var n wims.Notification
	_ = json.Unmarshal(b, &n)
	r.bodies = append(r.bodies, n)
	r.keys = append(r.keys, req.Header.Get("Idempotency-Key"))
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

func newNotifier(t *testing.T, urls ...string) *notify.Notifier {
	t.Helper()
	return newNotifierWith(t, notify.Options{Webhooks: urls, Client: &webhook.Client{}})
}

// newNotifierWith returns a Notifier with opt and a fresh SQLite store.
func newNotifierWith(t *testing.T, opt notify.Options) *notify.Notifier {
	t.Helper()
	store, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "n.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	opt.Store = store
	return notify.New(opt)
}

// TestRedeliveryReportsOnce handles the same crossing event three times, as a
// consumer would after losing its acks: each receiver gets it once.
func TestRedeliveryReportsOnce(t *testing.T) {
	a, b := &receiver{}, &receiver{}
	sa, sb := httptest.NewServer(a), httptest.NewServer(b)
	t.Cleanup(sa.Close)
	t.Cleanup(sb.Close)
	n := newNotifier(t, sa.URL, sb.URL)
	m := inventoryEvent(t, "ev1", 150, 50, 100)
	for i := range 3 {
		m.Delivered = i + 1
		if err := n.Handle(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if a.count() != 1 || b.count() != 1 {
		t.Fatalf("receivers got %d and %d notifications, want 1 each", a.count(), b.count())
	}
	if a.keys[0] != wims.NotificationID("ev1", wims.LowStock) || a.bodies[0].Kind != wims.LowStock {
		t.Fatalf("got %+v with key %q", a.bodies[0], a.keys[0])
	}
}

// TestFailingReceiverIsRetriedAlone: one receiver fails; the handler asks for
// a retry, and the retry reaches only that receiver.
func TestFailingReceiverIsRetriedAlone(t *testing.T) {
	ok, flaky := &receiver{}, &receiver{fail: 1, status: http.StatusBadGateway}
	s1, s2 := httptest.NewServer(ok), httptest.NewServer(flaky)
	t.Cleanup(s1.Close)
	t.Cleanup(s2.Close)
	n := newNotifier(t, s1.URL, s2.URL)
	m := inventoryEvent(t, "ev2", 150, 0, 100)
	err := n.Handle(context.Background(), m)
	if err == nil || wims.IsPermanent(err) {
		t.Fatalf("first delivery: %v, want a retryable error", err)
	}
	if err := n.Handle(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if ok.count() != 2 || flaky.count() != 2 {
		t.Fatalf("receivers got %d and %d, want both crossings (LOW_STOCK, OUT_OF_STOCK) once each", ok.count(), flaky.count())
	}
}

func TestRefusingReceiverIsPermanent(t *testing.T) {
	r := &receiver{fail: 1, status: http.StatusBadRequest}
	s := httptest.NewServer(r)
	t.Cleanup(s.Close)
	n := newNotifier(t, s.URL)
	if err := n.Handle(context.Background(), inventoryEvent(t, "ev3", 150, 50, 100)); !wims.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent for a 400", err)
	}
}
