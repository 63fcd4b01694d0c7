package eventcrypt

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// History is what a store remembers of the event keys its events were
// encrypted with, so that a key ring that no longer fits them is refused at
// start instead of quietly failing to match (a rule compiled without the
// key that encrypted an event never matches it) — above all when instances
// sharing a store are started with different keys, e.g. each with the key
// file of its own data directory.
type History struct {
	// Keys maps the id of every key ever given to its Fingerprint.
	Keys map[string]string `json:"keys"`
	// Encrypting is the id of the key that encrypted last: events carrying
	// it may exist, and a ring without it could not match them.
	Encrypting string `json:"encrypting"`
}

// fingerprint identifies a key without revealing it: a keyed hash of the
// secret under a purpose of its own, separate from the encryption and
// token keys.
func fingerprint(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("wims event key fingerprint"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// Admit checks the ring against what the store remembers and returns the
// history to remember from now on (the same value when nothing changed,
// which Equal reports). It refuses, with an error that says what to do:
//   - a key whose id the store knows with another secret (its events'
//     tokens would not match, and two secrets under one id would make the
//     id in a ciphertext ambiguous);
//   - a ring without the key that encrypted last: rotating drops a key only
//     after a start with it still in the ring and the new key last, so that
//     every instance matched both while the new one took over.
//
// Keys dropped that way stay in the history: an id is never reused for
// another secret.
func (k *Keyring) Admit(h History) (History, error) {
	next := History{Keys: map[string]string{}, Encrypting: k.keys[len(k.keys)-1].id}
	for id, fp := range h.Keys {
		next.Keys[id] = fp
	}
	var ids []string
	for i, key := range k.keys {
		ids = append(ids, key.id)
		fp := k.fingerprints[i]
		if known, ok := h.Keys[key.id]; ok && known != fp {
			return h, fmt.Errorf("event key %s is not the key %s this store's events were encrypted with "+
				"(fingerprint %s, the store's %s): give the same secret to every instance sharing the store, or a new key under a new id", key.id, key.id, fp, known)
		}
		next.Keys[key.id] = fp
	}
	if h.Encrypting != "" && k.byID[h.Encrypting] == nil {
		return h, fmt.Errorf("this store's newest events are encrypted with event key %s, which the key ring [%s] lacks: "+
			"rules would no longer match them. To rotate, start with %s first and the new key last (--event-key %s:… --event-key NEW:…), "+
			"and drop %s only on a later start", h.Encrypting, strings.Join(ids, " "), h.Encrypting, h.Encrypting, h.Encrypting)
	}
	return next, nil
}

// Equal reports whether two histories are the same.
func (h History) Equal(o History) bool {
	if h.Encrypting != o.Encrypting || len(h.Keys) != len(o.Keys) {
		return false
	}
	for id, fp := range h.Keys {
		if o.Keys[id] != fp {
			return false
		}
	}
	return true
}
