package storetest

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
)

// testEventPayloads covers the claim-check payload table: a payload of
// more than a megabyte round-trips byte for byte, a second put of the same
// id keeps the first, an unknown id is ENOTFOUND and bad input EINVALID.
func testEventPayloads(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	detail := []byte(`{"blob":"` + strings.Repeat("é\\\"x", 300_000) + `"}`)
	ref := wims.NewClaimCheck("ev-1", detail)
	want := wims.EventPayload{ID: "ev-1", Bus: "shop", Detail: detail, SHA256: ref.SHA256,
		CreatedAt: time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)}
	if err := s.PutEventPayload(ctx, want); err != nil {
		t.Fatal(err)
	}
	again := want
	again.Detail, again.Bus = []byte(`{"other":1}`), "default"
	if err := s.PutEventPayload(ctx, again); err != nil {
		t.Fatalf("a second put of the same id: %v, want success", err)
	}
	got, err := s.GetEventPayload(ctx, "ev-1")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Detail, detail) {
		t.Fatalf("detail of %d bytes came back as %d bytes (or changed)", len(detail), len(got.Detail))
	}
	got.Detail, want.Detail = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetEventPayload = %+v, want %+v", got, want)
	}
	_, err = s.GetEventPayload(ctx, "nope")
	mustCode(t, err, wims.ENOTFOUND)
	mustField(t, s.PutEventPayload(ctx, wims.EventPayload{Detail: detail}), "id")
	mustField(t, s.PutEventPayload(ctx, wims.EventPayload{ID: "ev-2"}), "detail")
	_, err = s.GetEventPayload(ctx, "ev-2")
	mustCode(t, err, wims.ENOTFOUND)
	mustNoChangesAfter(t, s, 0) // not a captured table
}

// testEventPayloadExpiry: DeleteEventPayloads deletes only payloads created
// before the horizon, the oldest first and at most limit at a time; the
// others stay readable, a deleted one is ENOTFOUND.
func testEventPayloadExpiry(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i, id := range []string{"old-2", "old-1", "new"} { // put out of age order
		at := t0.Add(time.Duration([]int{1, 0, 3}[i]) * time.Hour)
		detail := []byte(`{"n":` + string(rune('0'+i)) + `}`)
		p := wims.EventPayload{ID: id, Bus: "shop", Detail: detail, SHA256: wims.NewClaimCheck(id, detail).SHA256, CreatedAt: at}
		if err := s.PutEventPayload(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	horizon := t0.Add(2 * time.Hour)
	n, err := s.DeleteEventPayloads(ctx, horizon, 1)
	if err != nil || n != 1 {
		t.Fatalf("DeleteEventPayloads(limit 1) = %d, %v; want 1", n, err)
	}
	_, err = s.GetEventPayload(ctx, "old-1")
	mustCode(t, err, wims.ENOTFOUND) // the oldest went first
	if _, err := s.GetEventPayload(ctx, "old-2"); err != nil {
		t.Fatalf("old-2 after a delete of one: %v", err)
	}
	if n, err := s.DeleteEventPayloads(ctx, horizon, 100); err != nil || n != 1 {
		t.Fatalf("DeleteEventPayloads(limit 100) = %d, %v; want 1", n, err)
	}
	if n, err := s.DeleteEventPayloads(ctx, horizon, 100); err != nil || n != 0 {
		t.Fatalf("DeleteEventPayloads again = %d, %v; want 0", n, err)
	}
	if _, err := s.GetEventPayload(ctx, "new"); err != nil {
		t.Fatalf("the payload younger than the horizon: %v", err)
	}
	mustNoChangesAfter(t, s, 0)
}
