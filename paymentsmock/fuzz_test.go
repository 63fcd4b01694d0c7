package paymentsmock_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/wims/wims/paymentsmock"
)

// FuzzMockRequest checks that no request, however odd, makes the mock answer
// 5xx or panic, and that every error is a well-formed problem.
func FuzzMockRequest(f *testing.F) {
	f.Add("POST", "order-1", "application/json", `{"orderId":"order-1","customerId":"1","sku":"A","quantity":1}`)
	f.Add("POST", "", "application/json", `{}`)
	f.Add("POST", "k", "application/json", `{"orderId":"o","customerId":"1","sku":"A","quantity":3,"lines":[{"sku":"A","quantity":1},{"sku":"B","quantity":2}]}`)
	f.Add("POST", "k", "application/json", `{"orderId":"o","customerId":"1","sku":"A","quantity":3,"lines":[{"sku":"","quantity":-1},null]}`)
	f.Add("GET", "k", "", ``)
	f.Add("POST", "k", "text/plain", `{"orderId":"o","customerId":"1","sku":"A","quantity":1e30}`)
	f.Add("POST", "k", "application/json", `{"orderId":"o"} trailing`)
	f.Add("PUT", "k\x00", "application/json", `null`)
	f.Add("POST", "k", "application/json", `{"orderId":"\ud800","customerId":"1","sku":"A","quantity":9223372036854775807}`)
	s := paymentsmock.New(paymentsmock.Options{Rate: 1e9, Burst: 1 << 30})
	f.Fuzz(func(t *testing.T, method, key, contentType, body string) {
		if !validMethod(method) {
			method = http.MethodPost
		}
		r := httptest.NewRequest(method, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("status=%d for %s key=%q body=%q", w.Code, method, key, body)
		}
		if w.Code >= 400 {
			var p struct {
				Type   string `json:"type"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code || p.Type == "" {
				t.Fatalf("status=%d: bad problem %q", w.Code, w.Body.String())
			}
		}
		if st := s.Stats(); st.InFlight != 0 {
			t.Fatalf("InFlight=%d after the answer", st.InFlight)
		}
	})
}

// validMethod reports whether m is an HTTP token, which httptest.NewRequest
// insists on.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, c) {
			return false
		}
	}
	return true
}
