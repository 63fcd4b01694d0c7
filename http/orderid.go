package http

import (
	"crypto/sha256"

	"github.com/google/uuid"
)

// orderIDDomain separates order-id hashes from any other use of SHA-256 over
// client-chosen strings. Changing it would change every derived id, and a
// client retrying across the upgrade would create a second order: never do.
const orderIDDomain = "wims/order-id/v1\x00"

// OrderIDForKey derives the order id for an Idempotency-Key: a UUID version
// 8 (RFC 9562's custom layout) whose 122 free bits are the first bits of
// SHA-256(domain || key). The id is a pure function of the key, so a retried
// request maps to the same order row even after the server crashed between
// committing the order and answering; the store's insert-if-absent does the
// rest. The server scopes keys per API key before deriving (orderIDFor), so
// this function of the key alone is the anonymous scope's, unchanged since
// before API keys existed.
func OrderIDForKey(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(orderIDDomain + idempotencyKey))
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x80 // version 8
	u[8] = (u[8] & 0x3f) | 0x80 // variant 10 (RFC 9562)
	return u.String()
}

// newOrderIDV7 is the default Options.NewOrderID: a UUID version 7, time
// ordered so new rows land at the right edge of the primary-key index.
func newOrderIDV7() string {
	u, err := uuid.NewV7()
	if err != nil {
		// Only a failing crypto/rand gets here; a v4 is still unique.
		return uuid.NewString()
	}
	return u.String()
}
