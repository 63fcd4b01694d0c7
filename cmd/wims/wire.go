package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/wims/wims/eventbridge"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/sigv4"
)

// awsCredentials maps the configured API keys to AWS credentials for the
// wire APIs (DESIGN §8): a key written ID=SECRET signs as access key id ID
// with secret SECRET; any other key signs with its fingerprint (as `wims
// serve` logs it, "key-…") as the access key id and the key itself as the
// secret, so the id that travels in every request reveals nothing.
func awsCredentials(keys []wimshttp.APIKey) map[string]awsCredential {
	out := make(map[string]awsCredential, len(keys))
	for _, k := range keys {
		if id, secret, ok := strings.Cut(k.Key, "="); ok && id != "" && secret != "" {
			out[id] = awsCredential{secret: secret, role: string(k.Role)}
			continue
		}
		out[wimshttp.Fingerprint(k.Key)] = awsCredential{secret: k.Key, role: string(k.Role)}
	}
	return out
}

type awsCredential struct{ secret, role string }

// sigV4Auth verifies AWS Signature Version 4 against the configured keys.
type sigV4Auth struct{ v *sigv4.Verifier }

func newSigV4Auth(keys []wimshttp.APIKey) *sigV4Auth {
	creds := awsCredentials(keys)
	return &sigV4Auth{v: &sigv4.Verifier{Lookup: func(id string) (string, string, bool) {
		c, ok := creds[id]
		return c.secret, c.role, ok
	}}}
}

// Authenticate implements eventbridge.Authenticator.
func (a *sigV4Auth) Authenticate(r *http.Request, body []byte) (string, error) {
	role, err := a.v.Verify(r, body)
	if err != nil {
		var e *sigv4.Error
		if errors.As(err, &e) {
			return "", &eventbridge.AuthError{Type: e.Type, Message: e.Message}
		}
		return "", err
	}
	return role, nil
}

// withWireAPI serves the EventBridge wire protocol (POST / with an
// X-Amz-Target) and the Schemas API (/v1/registries, /v1/discoverers) next
// to the REST API on the same port.
func withWireAPI(rest, wire, schemas http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case eventbridge.IsWireRequest(r):
			wire.ServeHTTP(w, r)
		case eventbridge.IsSchemasRequest(r):
			schemas.ServeHTTP(w, r)
		default:
			rest.ServeHTTP(w, r)
		}
	})
}
