package v1

import (
	"testing"

	"github.com/wims/wims"
)

// TestClassify pins V1's reading of the payments API contract (DESIGN §4),
// which must agree with the dispatcher's.
func TestClassify(t *testing.T) {
	for status, want := range map[int]wims.PaymentOutcome{
		200: wims.PaymentPaid, 201: wims.PaymentPaid,
		429: wims.PaymentThrottled, 503: wims.PaymentThrottled, 409: wims.PaymentThrottled,
		408: wims.PaymentError, 500: wims.PaymentError, 502: wims.PaymentError, 302: wims.PaymentError,
		400: wims.PaymentDeclined, 402: wims.PaymentDeclined, 422: wims.PaymentDeclined,
	} {
		r := classify(status)
		if r.outcome != want || r.status != status {
			t.Errorf("classify(%d) = %s, want %s", status, r.outcome, want)
		}
		if (want == wims.PaymentPaid) != (r.err == nil) {
			t.Errorf("classify(%d).err = %v", status, r.err)
		}
	}
}
