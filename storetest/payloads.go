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
