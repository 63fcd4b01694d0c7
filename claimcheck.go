package wims

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Claim check (the course's "upload the larger data to S3 and emit an event
// containing the bucket and key"): an event whose entries would go over
// EventBridge's 256 KB has its detail kept in the store as an EventPayload,
// and the event on the bus carries only a reference,
//
//	"detail": {"claimCheck": {"id": "<event id>", "size": N, "sha256": "<hex>", "href": "/events/<event id>/payload"}}
//
// so the bus, the event log, archives and every target stay within the limit
// and the payload is written once. GET /events/{id}/payload resolves it.
const (
	// MaxClaimCheckBytes bounds one claim-checked detail, and the sum of a
	// PutEvents request's entries as EventBridge counts them: claim checks
	// lift the 256 KB limit, not every limit.
	MaxClaimCheckBytes = 1 << 20
	// HeaderClaimCheck marks a claim-checked event: on the bus message it
	// holds the event id (only wims sets bus headers, so unlike the detail a
	// publisher cannot forge it); on a call to an API destination it holds
	// the path of the payload on the wims API, relative to its base URL.
	HeaderClaimCheck = "Wims-Claim-Check"
)

// ClaimCheck is the reference an event carries instead of its detail.
type ClaimCheck struct {
	// ID is the event's id, which is also the payload's.
	ID string `json:"id"`
	// Size is the payload's length in bytes.
	Size int `json:"size"`
	// SHA256 is the hex SHA-256 of the payload, so a target can check what
	// it fetched.
	SHA256 string `json:"sha256"`
	// Href is where the wims API serves the payload.
	Href string `json:"href"`
}

// EventPayload is a claim-checked event's detail, kept in the store.
type EventPayload struct {
	// ID is the event id.
	ID string
	// Bus is the bus the event was put on.
	Bus string
	// Detail is the event's detail as it was put (a JSON object).
	Detail []byte
	// SHA256 is the hex SHA-256 of Detail.
	SHA256    string
	CreatedAt time.Time
}

// EventPayloadStore keeps claim-checked payloads. They are not captured
// tables: a payload write appends no change (its event is the change).
type EventPayloadStore interface {
	// PutEventPayload stores p. Storing the same id again keeps the first
	// payload and succeeds, so a retried PutEvents is harmless. Returns
	// EINVALID for an empty id or detail.
	PutEventPayload(ctx context.Context, p EventPayload) error
	// GetEventPayload returns ENOTFOUND when no payload has the id.
	GetEventPayload(ctx context.Context, id string) (EventPayload, error)
	// DeleteEventPayloads deletes at most limit payloads created before
	// olderThan, oldest first, and returns how many it deleted; the caller
	// (platform.PayloadJanitor) decides when nothing can refer to them.
	DeleteEventPayloads(ctx context.Context, olderThan time.Time, limit int) (int64, error)
}

// ValidateEventPayload checks what PutEventPayload needs.
func ValidateEventPayload(p EventPayload) error {
	switch {
	case p.ID == "":
		return FieldError("id", "is required")
	case len(p.ID) > 256:
		return FieldError("id", "must be at most 256 bytes")
	case len(p.Detail) == 0:
		return FieldError("detail", "is required")
	}
	return nil
}

// ClaimCheckHref is the API path that serves event id's payload.
func ClaimCheckHref(id string) string { return "/events/" + id + "/payload" }

// NewClaimCheck returns the reference to detail stored under event id.
func NewClaimCheck(id string, detail []byte) ClaimCheck {
	sum := sha256.Sum256(detail)
	return ClaimCheck{ID: id, Size: len(detail), SHA256: hex.EncodeToString(sum[:]), Href: ClaimCheckHref(id)}
}

// Detail is the event detail that carries c.
func (c ClaimCheck) Detail() json.RawMessage {
	b, _ := json.Marshal(struct {
		ClaimCheck ClaimCheck `json:"claimCheck"`
	}{c}) // cannot fail: strings and an int
	return b
}

// ParseClaimCheck returns the claim check an event's detail carries, and
// false if the detail is not exactly a claim-check reference (a detail
// with other members is a publisher's own data, never resolved).
func ParseClaimCheck(detail []byte) (ClaimCheck, bool) {
	if !bytes.Contains(detail, []byte(`"claimCheck"`)) {
		return ClaimCheck{}, false // the common case, without decoding
	}
	var d map[string]json.RawMessage
	if json.Unmarshal(detail, &d) != nil || len(d) != 1 || d["claimCheck"] == nil {
		return ClaimCheck{}, false
	}
	var c ClaimCheck
	dec := json.NewDecoder(bytes.NewReader(d["claimCheck"]))
	dec.DisallowUnknownFields()
	if dec.Decode(&c) != nil || c.ID == "" || c.Size < 0 || len(c.SHA256) != 64 || c.Href != ClaimCheckHref(c.ID) {
		return ClaimCheck{}, false
	}
	return c, true
}
