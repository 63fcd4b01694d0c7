package platform_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/platform"
	"github.com/wims/wims/platform/platformtest"
)

// capture is a Publisher that keeps what it is given.
type capture struct {
	mu  sync.Mutex
	out []wims.Outgoing
}

func (c *capture) PublishBatch(_ context.Context, ms []wims.Outgoing) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = append(c.out, ms...)
	return len(ms), nil
}

// TestPutEventsClaimCheck: a request over 256 KB has its largest detail
// stored and replaced by a reference (the small entry goes as it is); the
// reference resolves to the detail byte for byte; over 1 MiB fails whole;
// without a payload store the 256 KB limit stands.
func TestPutEventsClaimCheck(t *testing.T) {
	ctx := context.Background()
	st := platformtest.Store(t)
	bus := &capture{}
	svc := platform.New(platform.Options{Store: st, Bus: bus, Payloads: st, Subjects: platform.Subjects{Events: "t.events"}})

	big := `{"blob":"` + strings.Repeat("x", 300_000) + `"}`
	res, err := svc.PutEvents(ctx, []wims.PutEventsEntry{
		{Source: "shop", DetailType: "Small", Detail: `{"n":1}`},
		{Source: "shop", DetailType: "Big", Detail: big},
	})
	mustNil(t, err)
	if len(bus.out) != 2 || res[0].ErrorCode != "" || res[1].ErrorCode != "" {
		t.Fatalf("results %+v, %d published", res, len(bus.out))
	}
	if bus.out[0].Header[wims.HeaderClaimCheck] != "" || !strings.Contains(string(bus.out[0].Data), `"detail":{"n":1}`) {
		t.Fatalf("the small entry was changed: %s %v", bus.out[0].Data, bus.out[0].Header)
	}
	m := bus.out[1]
	if len(m.Data) > 1024 || m.Header[wims.HeaderClaimCheck] != res[1].EventID {
		t.Fatalf("the big entry went on the bus as %d bytes, header %v", len(m.Data), m.Header)
	}
	var ev wims.Event
	mustNil(t, json.Unmarshal(m.Data, &ev))
	ref, ok := wims.ParseClaimCheck(ev.Detail)
	if !ok || ref.ID != ev.ID || ref.Size != len(big) || ref != wims.NewClaimCheck(ev.ID, []byte(big)) {
		t.Fatalf("detail = %s, want the reference to the payload", ev.Detail)
	}
	p, err := st.GetEventPayload(ctx, ev.ID)
	mustNil(t, err)
	if string(p.Detail) != big || p.Bus != wims.DefaultBus || p.SHA256 != ref.SHA256 {
		t.Fatalf("stored payload: %d bytes on bus %q, sha %s", len(p.Detail), p.Bus, p.SHA256)
	}

	huge := `{"blob":"` + strings.Repeat("x", wims.MaxClaimCheckBytes) + `"}`
	if _, err := svc.PutEvents(ctx, []wims.PutEventsEntry{{Source: "shop", DetailType: "Huge", Detail: huge}}); wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("over 1 MiB: %v, want EINVALID", err)
	}
	plain := platform.New(platform.Options{Store: st, Bus: bus, Subjects: platform.Subjects{Events: "t.events"}})
	if _, err := plain.PutEvents(ctx, []wims.PutEventsEntry{{Source: "shop", DetailType: "Big", Detail: big}}); wims.ErrorCode(err) != wims.EINVALID {
		t.Fatalf("without a payload store: %v, want EINVALID (EventBridge's 256 KB)", err)
	}
	if len(bus.out) != 2 {
		t.Fatalf("refused requests published %d events", len(bus.out)-2)
	}
}
