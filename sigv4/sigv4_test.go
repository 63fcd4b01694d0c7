package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wims/wims/sigv4"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func verifier() *sigv4.Verifier {
	return &sigv4.Verifier{Now: func() time.Time { return now }, Lookup: func(id string) (string, string, bool) {
		if id == "AKID" {
			return "secret", "admin", true
		}
		return "", "", false
	}}
}

// signed builds a request signed by the AWS SDK's signer, as a client does.
func signed(t *testing.T, body, secret string, at time.Time) *http.Request {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://127.0.0.1:8080/", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSEvents.ListRules")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKID", SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "events", "local", at)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func wantType(t *testing.T, err error, typ string) {
	t.Helper()
	e, ok := sigv4.As(err)
	if !ok || e.Type != typ {
		t.Fatalf("err = %v, want %s", err, typ)
	}
}

func TestVerify(t *testing.T) {
	v := verifier()
	body := `{"Limit":5}`
	role, err := v.Verify(signed(t, body, "secret", now), []byte(body))
	if err != nil || role != "admin" {
		t.Fatalf("valid signature: %q, %v", role, err)
	}
	_, err = v.Verify(signed(t, body, "other", now), []byte(body))
	wantType(t, err, "InvalidSignatureException")
	_, err = v.Verify(signed(t, body, "secret", now), []byte(`{"Limit":6}`))
	wantType(t, err, "InvalidSignatureException")
	_, err = v.Verify(signed(t, body, "secret", now.Add(-16*time.Minute)), []byte(body))
	wantType(t, err, "InvalidSignatureException")
	r := signed(t, body, "secret", now)
	r.Header.Set("X-Amz-Target", "AWSEvents.DeleteRule") // a signed header changed
	_, err = v.Verify(r, []byte(body))
	wantType(t, err, "InvalidSignatureException")
	r = signed(t, body, "secret", now)
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=NOPE/20261202/local/events/aws4_request, SignedHeaders=host, Signature=ab")
	_, err = v.Verify(r, []byte(body))
	wantType(t, err, "UnrecognizedClientException")
	r.Header.Del("Authorization")
	_, err = v.Verify(r, []byte(body))
	wantType(t, err, "MissingAuthenticationTokenException")
	r.Header.Set("Authorization", "Bearer x")
	_, err = v.Verify(r, []byte(body))
	wantType(t, err, "IncompleteSignatureException")
}

func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261202/local/events/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "20261202T120000Z", "{}")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=, Signature=", "x", "")
	v := verifier()
	f.Fuzz(func(t *testing.T, auth, date, body string) {
		req, _ := http.NewRequest("POST", "http://h/", nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", date)
		if _, err := v.Verify(req, []byte(body)); err == nil {
			t.Fatalf("forged request accepted: %q %q", auth, date)
		}
	})
}
