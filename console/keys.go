package console

import (
	wimshttp "github.com/wims/wims/http"
)

// keyring is the configured API keys: the API's KeyRing compares them, and
// each key's fingerprint and role are kept at the same index.
type keyring struct {
	ring *wimshttp.KeyRing
	keys []keyDigest
}

// keyDigest is what the console knows of a key: never the key itself.
type keyDigest struct {
	fingerprint string
	role        wimshttp.Role
}

func newKeyring(keys []wimshttp.APIKey) *keyring {
	k := &keyring{ring: wimshttp.NewKeyRing(keys)}
	for _, key := range keys {
		role := key.Role
		if role == "" {
			role = wimshttp.RoleAdmin
		}
		// The role is appended because a key may itself contain ':'.
		if _, err := wimshttp.ParseAPIKey(key.Key + ":" + string(role)); err != nil {
			panic("console: Options.APIKeys: " + err.Error())
		}
		k.keys = append(k.keys, keyDigest{wimshttp.Fingerprint(key.Key), role})
	}
	return k
}

// enabled reports whether logins are needed.
func (k *keyring) enabled() bool { return len(k.keys) > 0 }

// lookup finds the key equal to token, in constant time (KeyRing.Find).
func (k *keyring) lookup(token string) (keyDigest, bool) {
	i, ok := k.ring.Find(token)
	if !ok {
		return keyDigest{}, false
	}
	return k.keys[i], true
}
