// Package sigv4 verifies AWS Signature Version 4 on incoming requests, so
// the AWS CLI and SDKs can drive wims' wire APIs with credentials wims
// issued. The signature is recomputed with the AWS SDK's own signer over the
// headers the client signed, and compared in constant time.
package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// MaxSkew is how far a request's X-Amz-Date may be from the server's clock,
// as on AWS.
const MaxSkew = 15 * time.Minute

// Error is a verification failure with AWS's exception name.
type Error struct {
	// Type is the AWS exception: MissingAuthenticationTokenException,
	// IncompleteSignatureException, UnrecognizedClientException,
	// InvalidSignatureException or SignatureDoesNotMatch-like expiry.
	Type    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Lookup returns the secret and role of an access key id.
type Lookup func(accessKeyID string) (secret, role string, ok bool)

// Verifier checks signatures.
type Verifier struct {
	Lookup Lookup
	// Now is the server's clock (default time.Now).
	Now func() time.Time
}

const algorithm = "AWS4-HMAC-SHA256"

// Verify checks r's signature over body and returns the key's role.
func (v *Verifier) Verify(r *http.Request, body []byte) (role string, err error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return "", &Error{"MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	cred, signed, sig, err := parseAuthorization(auth)
	if err != nil {
		return "", err
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return "", &Error{"IncompleteSignatureException", "Credential should be scoped correctly: <key>/<date>/<region>/<service>/aws4_request"}
	}
	keyID, day, region, service := parts[0], parts[1], parts[2], parts[3]
	secret, role, ok := v.Lookup(keyID)
	if !ok {
		return "", &Error{"UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	at, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil || !strings.HasPrefix(amzDate, day) {
		return "", &Error{"IncompleteSignatureException", "X-Amz-Date must be yyyyMMddTHHmmssZ and match the credential's date"}
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if d := now().Sub(at); d > MaxSkew || d < -MaxSkew {
		return "", &Error{"InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now().UTC().Add(-MaxSkew).Format("20060102T150405Z"), now().UTC().Format("20060102T150405Z"))}
	}

	// Rebuild the request from exactly what the client signed.
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return "", &Error{"IncompleteSignatureException", "cannot rebuild the request"}
	}
	req.Host = r.Host
	req.ContentLength = 0
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			if vals := r.Header.Values(h); len(vals) > 0 {
				req.Header[http.CanonicalHeaderKey(h)] = vals
			}
		}
	}
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" && h != "UNSIGNED-PAYLOAD" && !hmac.Equal([]byte(h), []byte(payload)) {
		return "", &Error{"InvalidSignatureException", "The request body does not match X-Amz-Content-Sha256."}
	}
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, service, region, at); err != nil {
		return "", &Error{"InvalidSignatureException", "cannot compute the signature"}
	}
	_, mySigned, mySig, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil || mySigned != signed {
		return "", &Error{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided: signed headers " + signed + " cannot be verified (wims signs " + mySigned + ")."}
	}
	if !hmac.Equal([]byte(mySig), []byte(sig)) {
		return "", &Error{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return role, nil
}

// parseAuthorization splits "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…".
func parseAuthorization(h string) (cred, signed, sig string, err error) {
	rest, ok := strings.CutPrefix(h, algorithm+" ")
	if !ok {
		return "", "", "", &Error{"IncompleteSignatureException", "Authorization must use " + algorithm}
	}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	if cred == "" || signed == "" || sig == "" {
		return "", "", "", &Error{"IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'."}
	}
	return cred, signed, sig, nil
}

// As reports whether err is a verification *Error, for callers mapping it.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
