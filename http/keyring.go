package http

import (
	"crypto/sha256"
	"crypto/subtle"
)

// KeyRing holds API keys as SHA-256 digests, never the keys, and finds a
// presented key in constant time. The API's authentication and the
// console's login both use it, so there is one place that compares keys.
type KeyRing struct {
	digests [][sha256.Size]byte
}

// NewKeyRing returns the ring of keys, in their order.
func NewKeyRing(keys []APIKey) *KeyRing {
	r := &KeyRing{digests: make([][sha256.Size]byte, len(keys))}
	for i, k := range keys {
		r.digests[i] = sha256.Sum256([]byte(k.Key))
	}
	return r
}

// Len is how many keys the ring holds.
func (r *KeyRing) Len() int { return len(r.digests) }

// Find returns the index of the key equal to token. Comparing fixed-size
// digests, and every key every time, keeps the time taken independent of
// the token's length, of how much of it matches, and of which key (if any)
// it is.
func (r *KeyRing) Find(token string) (int, bool) {
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range r.digests {
		if subtle.ConstantTimeCompare(d[:], r.digests[i][:]) == 1 {
			found = i
		}
	}
	return found, found >= 0
}
