package paymentsmock

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/wims/wims"
)

// Defaults for Options, matching the course's payments API.
const (
	DefaultRate  = 5.0
	DefaultBurst = 5
)

// MaxBodyBytes bounds a request body; a payment request is about 100 bytes.
const MaxBodyBytes = 64 << 10

// maxKeyLen bounds the Idempotency-Key so that a hostile client cannot make
// the key table hold large strings.
const maxKeyLen = 255

// unitPriceCents is what one unit costs; the mock only needs an amount that
// is plausible and a pure function of the request.
const unitPriceCents = 1999

// Options configures a Server. The zero value is the course's API: 5
// requests/s, burst 5, instant answers, no failures, nobody declined.
type Options struct {
	// Rate is the token bucket's refill rate in requests/s (default 5).
	Rate float64
	// Burst is the token bucket's size (default 5).
	Burst int
	// Latency is how long an admitted, valid request is processed before it
	// is answered (default 0). It lets tests and demos show that the
	// dispatcher keeps its rate with several requests in flight.
	Latency time.Duration
	// FailRate is the fraction (0..1) of requests answered 500, drawn from a
	// generator seeded with Seed so that runs are repeatable.
	FailRate float64
	// DeclineCustomers are customer ids whose payments are always declined
	// with 402.
	DeclineCustomers []string
	// Seed seeds the FailRate draws.
	Seed int64
	// Now is the clock of the token bucket and of Stats.MaxObservedRate
	// (default time.Now).
	Now func() time.Time
}

// Server is the mock payments API. It is an http.Handler and safe for
// concurrent use.
type Server struct {
	opt     Options
	decline map[string]bool

	// mu guards everything below. One mutex is enough: the critical sections
	// are map and counter updates, never I/O or the simulated latency.
	mu      sync.Mutex
	limiter *rate.Limiter
	rng     *rand.Rand
	keys    map[string]*keyEntry
	charges map[string]int
	refunds map[string]int
	nextID  int64
	// inFlight counts keys claimed but not yet answered.
	inFlight int
	stats    Stats
	window   window
}

// New returns a Server with opt's zero fields set to their defaults.
func New(opt Options) *Server {
	if opt.Rate <= 0 {
		opt.Rate = DefaultRate
	}
	if opt.Burst <= 0 {
		opt.Burst = DefaultBurst
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.FailRate = min(max(opt.FailRate, 0), 1)
	s := &Server{
		opt:     opt,
		decline: make(map[string]bool, len(opt.DeclineCustomers)),
		limiter: rate.NewLimiter(rate.Limit(opt.Rate), opt.Burst),
		rng:     rand.New(rand.NewPCG(uint64(opt.Seed), uint64(opt.Seed)^0x9e3779b97f4a7c15)),
		keys:    make(map[string]*keyEntry),
		charges: make(map[string]int),
		refunds: make(map[string]int),
		window:  window{span: time.Second},
	}
	for _, c := range opt.DeclineCustomers {
		s.decline[c] = true
	}
	return s
}

// ServeHTTP answers one payment request; see the package documentation for
// the protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The bucket comes first, as at an API gateway: every request the API
	// receives costs a token, whatever it turns out to be.
	if wait, ok := s.admit(); !ok {
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(wait), 10))
		writeProblem(w, http.StatusTooManyRequests, "rate-limited", "Too Many Requests",
			fmt.Sprintf("rate limit of %g requests/s (burst %d) exceeded", s.opt.Rate, s.opt.Burst), "")
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.count(func(st *Stats) { st.Invalid++ })
		writeProblem(w, http.StatusMethodNotAllowed, "method-not-allowed", "Method Not Allowed",
			"only POST is supported", "")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > maxKeyLen {
		s.count(func(st *Stats) { st.Invalid++ })
		writeProblem(w, http.StatusBadRequest, "invalid-request", "Bad Request",
			fmt.Sprintf("Idempotency-Key header is required (1-%d characters)", maxKeyLen), "Idempotency-Key")
		return
	}
	req, status, err := decodeRequest(w, r)
	if err != nil {
		s.count(func(st *Stats) { st.Invalid++ })
		writeProblem(w, status, problemType(status), http.StatusText(status), wims.ErrorMessage(err), wims.ErrorField(err))
		return
	}

	switch e, state := s.claim(key, req); state {
	case claimInFlight:
		writeProblem(w, http.StatusConflict, "in-flight", "Conflict",
			"a request with this Idempotency-Key is still being processed", "Idempotency-Key")
		return
	case claimMismatch:
		writeProblem(w, http.StatusUnprocessableEntity, "idempotency-key-reuse", "Unprocessable Content",
			"this Idempotency-Key was used with a different request", "Idempotency-Key")
		return
	case claimReplay:
		w.Header().Set("Idempotent-Replayed", "true")
		writeStored(w, e.status, e.contentType, e.body)
		return
	}

	if s.opt.Latency > 0 {
		t := time.NewTimer(s.opt.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			// The client gave up before we "processed" it: nothing was
			// charged, so forget the key and let a retry start afresh.
			t.Stop()
			s.release(key)
			return
		}
	}
	if strings.HasSuffix(r.URL.Path, "/refunds") {
		s.processRefund(w, key, req)
		return
	}
	s.process(w, key, req)
}

// admit takes a token from the bucket. If there is none it returns how long
// until there would be, and takes nothing.
func (s *Server) admit() (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Reading the clock under the lock keeps the admitted times in order,
	// which the sliding window relies on.
	now := s.opt.Now()
	res := s.limiter.ReserveN(now, 1)
	if !res.OK() { // only if Burst < 1, which New rules out
		s.stats.Throttled++
		return time.Second, false
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		s.stats.Throttled++
		return d, false
	}
	s.stats.Accepted++
	if n := s.window.add(now); n > s.stats.MaxObservedRate {
		s.stats.MaxObservedRate = n
	}
	return 0, true
}

// retryAfterSeconds rounds a wait up to whole seconds, at least 1, because
// Retry-After has one-second resolution and 0 would invite an instant retry.
func retryAfterSeconds(d time.Duration) int64 {
	return max(1, int64(math.Ceil(d.Seconds())))
}

// process decides the fate of a claimed request and answers it.
func (s *Server) process(w http.ResponseWriter, key string, req wims.PaymentRequest) {
	s.mu.Lock()
	s.inFlight--
	switch {
	case s.decline[req.CustomerID]:
		s.stats.Declined++
		body := problemBody(http.StatusPaymentRequired, "declined", "Payment Required", "the payment was declined", "")
		s.answerLocked(w, key, http.StatusPaymentRequired, problemContentType, body)
	case s.opt.FailRate > 0 && s.rng.Float64() < s.opt.FailRate:
		s.failLocked(w, key)
	default:
		s.nextID++
		s.charges[req.OrderID]++
		s.stats.Charged++
		body, _ := json.Marshal(receipt{
			PaymentID: fmt.Sprintf("pay_%08d", s.nextID),
			OrderID:   req.OrderID,
			Status:    "PAID",
			Amount:    amount(req),
			Currency:  "USD",
		})
		s.answerLocked(w, key, http.StatusOK, "application/json", body)
	}
}

// processRefund decides the fate of a claimed refund and answers it: 500
// for a share FailRate (not remembered), 404 for an order the mock never
// charged (declined for good: nothing to give back), else 200 and the
// order's refund counted.
func (s *Server) processRefund(w http.ResponseWriter, key string, req wims.PaymentRequest) {
	s.mu.Lock()
	s.inFlight--
	switch {
	case s.opt.FailRate > 0 && s.rng.Float64() < s.opt.FailRate:
		s.failLocked(w, key)
	case s.charges[req.OrderID] == 0:
		s.stats.Declined++
		body := problemBody(http.StatusNotFound, "no-payment", "Not Found", "no payment of this order to refund", "orderId")
		s.answerLocked(w, key, http.StatusNotFound, problemContentType, body)
	default:
		s.nextID++
		s.refunds[req.OrderID]++
		s.stats.Refunded++
		body, _ := json.Marshal(refundReceipt{
			RefundID: fmt.Sprintf("ref_%08d", s.nextID),
			OrderID:  req.OrderID,
			Status:   "REFUNDED",
			Amount:   amount(req),
			Currency: "USD",
		})
		s.answerLocked(w, key, http.StatusOK, "application/json", body)
	}
}

// amount is what a request costs, in cents: Σ quantity × unit price over its
// lines, or quantity × unit price for a request without lines (a sender
// that predates them).
func amount(req wims.PaymentRequest) int64 {
	if len(req.Lines) == 0 {
		return req.Quantity * unitPriceCents
	}
	var cents int64
	for _, l := range req.Lines {
		cents += l.Quantity * unitPriceCents
	}
	return cents
}

// refundReceipt is the body of a 200 answer to a refund.
type refundReceipt struct {
	RefundID string `json:"refundId"`
	OrderID  string `json:"orderId"`
	Status   string `json:"status"`
	Amount   int64  `json:"amount"` // cents
	Currency string `json:"currency"`
}

// receipt is the body of a 200 answer.
type receipt struct {
	PaymentID string `json:"paymentId"`
	OrderID   string `json:"orderId"`
	Status    string `json:"status"`
	Amount    int64  `json:"amount"` // cents
	Currency  string `json:"currency"`
}

// decodeRequest reads and validates the body. On error it returns the status
// to answer with and a *wims.Error naming the field.
func decodeRequest(w http.ResponseWriter, r *http.Request) (wims.PaymentRequest, int, error) {
	var req wims.PaymentRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err := dec.Decode(&req); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return req, http.StatusRequestEntityTooLarge, wims.Errorf(wims.ETOOLARGE, "body exceeds %d bytes", MaxBodyBytes)
		}
		return req, http.StatusBadRequest, wims.Errorf(wims.EINVALID, "body is not a JSON payment request")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return req, http.StatusRequestEntityTooLarge, wims.Errorf(wims.ETOOLARGE, "body exceeds %d bytes", MaxBodyBytes)
		}
		return req, http.StatusBadRequest, wims.Errorf(wims.EINVALID, "body must hold exactly one JSON object")
	}
	switch {
	case req.OrderID == "":
		return req, http.StatusBadRequest, wims.FieldError("orderId", "is required")
	case req.CustomerID == "":
		return req, http.StatusBadRequest, wims.FieldError("customerId", "is required")
	case req.SKU == "":
		return req, http.StatusBadRequest, wims.FieldError("sku", "is required")
	case len(req.Lines) > wims.MaxOrderLines:
		return req, http.StatusBadRequest, wims.FieldError("lines", "must hold at most %d lines", wims.MaxOrderLines)
	case len(req.Lines) == 0 && (req.Quantity <= 0 || req.Quantity > wims.MaxQuantity):
		return req, http.StatusBadRequest, wims.FieldError("quantity", "must be between 1 and %d", wims.MaxQuantity)
	}
	// With lines, each line is bounded instead of the total quantity, which
	// a multi-line order may take above one line's bound.
	for i, l := range req.Lines {
		switch {
		case l.SKU == "":
			return req, http.StatusBadRequest, wims.FieldError(fmt.Sprintf("lines[%d].sku", i), "is required")
		case l.Quantity <= 0 || l.Quantity > wims.MaxQuantity:
			return req, http.StatusBadRequest, wims.FieldError(fmt.Sprintf("lines[%d].quantity", i),
				"must be between 1 and %d", wims.MaxQuantity)
		}
	}
	return req, 0, nil
}

// count applies f to the counters under the lock.
func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// answerLocked remembers the answer for key, releases s.mu (held by the
// caller) and writes the answer.
func (s *Server) answerLocked(w http.ResponseWriter, key string, status int, contentType string, body []byte) {
	s.keys[key].finish(status, contentType, body)
	s.mu.Unlock()
	writeStored(w, status, contentType, body)
}

// failLocked answers a simulated failure (500), releasing s.mu (held by
// the caller). A failure is not an answer to remember: the retry must be
// able to succeed, as with a real API that crashed mid-request.
func (s *Server) failLocked(w http.ResponseWriter, key string) {
	s.stats.Failed++
	delete(s.keys, key)
	s.mu.Unlock()
	writeProblem(w, http.StatusInternalServerError, "internal", "Internal Server Error", "simulated failure", "")
}
