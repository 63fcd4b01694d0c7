package console

import (
	"crypto/sha256"
	"crypto/subtle"

	wimshttp "github.com/wims/wims/http"
)

// keyring holds the configured API keys as digests, never the keys.
type keyring struct {
	keys []keyDigest
}

type keyDigest struct {
	digest      [sha256.Size]byte
	fingerprint string
	role        wimshttp.Role
}

func newKeyring(keys []wimshttp.APIKey) *keyring {
	k := &keyring{}
	for _, key := range keys {
		role := key.Role
		if role == "" {
			role = wimshttp.RoleAdmin
		}
		// The role is appended because a key may itself contain ':'.
		if _, err := wimshttp.ParseAPIKey(key.Key + ":" + string(role)); err != nil {
			panic("console: Options.APIKeys: " + err.Error())
		}
		k.keys = append(k.keys, keyDigest{sha256.Sum256([]byte(key.Key)), wimshttp.Fingerprint(key.Key), role})
	}
	return k
}

// enabled reports whether logins are needed.
func (k *keyring) enabled() bool { return len(k.keys) > 0 }

// lookup finds the key equal to token. It compares fixed-size digests with
// every configured key every time, as the API does, so the time taken says
// nothing about the token's length, how much of it matches or which key it is.
func (k *keyring) lookup(token string) (keyDigest, bool) {
	d := sha256.Sum256([]byte(token))
	found := -1
	for i := range k.keys {
		if subtle.ConstantTimeCompare(d[:], k.keys[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return keyDigest{}, false
	}
	return k.keys[found], true
}
