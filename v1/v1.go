// Package v1 is the course's first, synchronous architecture, kept only to
// be measured beside the event-driven one (`wims serve --architecture v1`).
//
// The course's V1 "create order" Lambda did three things in one request: put
// the order, decrement the inventory, and call the payments API with fetch,
// answering only when all three were done. [Handler] does the same on the
// same store and the same API paths, so one load generator (`wims bench`)
// drives both architectures:
//
//	POST /orders → CreateOrder (PENDING) → ReserveStock (RESERVED) →
//	POST <payments-url> (Idempotency-Key = orderId) → CompletePayment (PAID)
//
// Every other route is the normal API. There is no bus, relay, workflow or
// dispatcher: a throttled or failing payments API surfaces to the client as
// an error, which is the weakness the course's V2 removes.
//
// # What a failed payment leaves behind
//
// The course's Lambda decremented the stock before calling the payments API
// and did nothing when the call failed: the order stayed as it was, with its
// stock gone. V1 does the same: on a throttled (429/503), failing (5xx) or
// unreachable payments API the order stays RESERVED with its stock held and
// the client gets 429, 502 or 504. That is faithful to the course, and it
// keeps conservation (DESIGN §5) exact, because a RESERVED order holds its
// stock. Unlike the course, the order is not lost to the client: a retry with
// the same Idempotency-Key finds the order and resumes at the payment call,
// and the payments API's idempotency key prevents a double charge. A payment
// declined for good (another 4xx) releases the stock (PAYMENT_FAILED) and
// answers 402, as V2 does.
//
// POST /orders/{id}/cancel is the normal API's, so a cancel moves and
// releases stock as in V2; but with no dispatcher the refund of a cancelled
// PAID order is never sent: it stays REFUND_PENDING, holding its stock.
package v1

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/wims/wims/internal/retryafter"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/payments"
)

// Store is what V1 needs from a wims.Store.
type Store interface {
	wims.OrderStore
	wims.PaymentLog
}

// Options configures a Handler.
type Options struct {
	// API serves every request, and creates the order of a POST /orders
	// (validation, idempotency key, authentication, metrics: all as in V2).
	// Required.
	API http.Handler
	// Store is the system of record the API writes to. Required.
	Store Store
	// PaymentsURL is the payments API endpoint. Required.
	PaymentsURL string
	// Client calls the payments API. Defaults to a client with Timeout.
	Client *http.Client
	// Timeout bounds one payments call (default 10s, as a Lambda's fetch).
	Timeout time.Duration
	// Now stamps payment attempts (default time.Now).
	Now wims.Clock
	// Logger receives payment failures (Warn). Defaults to discarding.
	Logger *slog.Logger
}

// Handler serves the API with POST /orders done synchronously, V1 style.
type Handler struct {
	opt Options
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler. It panics when API or Store is nil (a wiring bug).
func New(opt Options) *Handler {
	if opt.API == nil || opt.Store == nil {
		panic("v1: Options.API and Options.Store are required")
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: opt.Timeout}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opt: opt}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/orders" {
		h.opt.API.ServeHTTP(w, r)
		return
	}
	// Step 1, insert: the normal API creates the order (and answers 202).
	buf := &bufferedWriter{header: http.Header{}}
	h.opt.API.ServeHTTP(buf, r)
	if buf.status != http.StatusAccepted {
		buf.copyTo(w) // a validation error, an auth failure, …: as V2 answers it
		return
	}
	var o wims.Order
	if err := json.Unmarshal(buf.body.Bytes(), &o); err != nil || o.ID == "" {
		h.fail(w, r, buf.header, http.StatusInternalServerError, "internal", "Internal server error",
			"The server failed to handle the request.", 0)
		return
	}
	hdr := buf.header
	o, status, err := h.complete(r.Context(), o)
	if err != nil {
		h.opt.Logger.LogAttrs(r.Context(), slog.LevelWarn, "v1 order not completed",
			slog.String("order_id", o.ID), slog.Int("status", status), slog.Any("error", err))
	}
	switch {
	case err == nil:
		body, _ := json.Marshal(o)
		copyHeader(w.Header(), hdr)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
		w.WriteHeader(http.StatusCreated)
		w.Write(append(body, '\n'))
	default:
		var pe *paymentError
		if errors.As(err, &pe) {
			h.fail(w, r, hdr, pe.clientStatus, pe.slug, pe.title, pe.detail(o.ID), pe.retryAfter)
			return
		}
		if wims.ErrorCode(err) == wims.EINSUFFICIENT {
			h.fail(w, r, hdr, http.StatusConflict, "insufficient-stock", "Insufficient stock", wims.ErrorMessage(err), 0)
			return
		}
		h.fail(w, r, hdr, http.StatusInternalServerError, "internal", "Internal server error",
			"The server failed to handle the request.", 0)
	}
}

// complete runs steps 2 and 3 for a created order: reserve its stock, charge
// it, record the outcome. An order already past a step (a retried request)
// resumes where it stopped.
func (h *Handler) complete(ctx context.Context, o wims.Order) (wims.Order, int, error) {
	// Step 2, decrement.
	o, err := h.opt.Store.ReserveStock(ctx, o.ID)
	if err != nil {
		return o, 0, err
	}
	switch o.Status {
	case wims.OrderRejected:
		return o, 0, wims.Errorf(wims.EINSUFFICIENT, "Not enough stock for order %s: %s", o.ID, o.Reason)
	case wims.OrderPaid:
		return o, 0, nil
	case wims.OrderBackordered:
		// Waits for a restock. V1 has no pipeline to charge it once a
		// restock fills it: that needs V2's order-backorder-filled rule.
		return o, 0, nil
	case wims.OrderPaymentFailed:
		return o, 0, &paymentError{clientStatus: http.StatusPaymentRequired, slug: "payment-declined",
			title: "Payment declined", reason: o.Reason}
	case wims.OrderReserved:
	default:
		return o, 0, fmt.Errorf("order %s is %s after reserving", o.ID, o.Status)
	}
	// Step 3, charge, inline.
	res := h.charge(ctx, o)
	if err := h.record(ctx, o.ID, res); err != nil {
		return o, res.status, err
	}
	switch res.outcome {
	case wims.PaymentPaid:
		o, err = h.opt.Store.CompletePayment(ctx, o.ID, true, "")
		return o, res.status, err
	case wims.PaymentDeclined:
		o, err = h.opt.Store.CompletePayment(ctx, o.ID, false, res.err.Error())
		if err != nil {
			return o, res.status, err
		}
		return o, res.status, &paymentError{clientStatus: http.StatusPaymentRequired, slug: "payment-declined",
			title: "Payment declined", reason: res.err.Error()}
	case wims.PaymentThrottled:
		return o, res.status, &paymentError{clientStatus: http.StatusTooManyRequests, slug: "payments-throttled",
			title: "Payments API throttled", reason: res.err.Error(), retryAfter: res.retryAfter}
	default:
		st := http.StatusBadGateway
		if res.timeout {
			st = http.StatusGatewayTimeout
		}
		return o, res.status, &paymentError{clientStatus: st, slug: "payments-unavailable",
			title: "Payments API failed", reason: res.err.Error()}
	}
}

// result is one payments call, classified per the payments API contract
// (DESIGN §4) exactly as the dispatcher classifies it.
type result struct {
	outcome    wims.PaymentOutcome
	status     int
	err        error
	timeout    bool
	retryAfter time.Duration
	took       time.Duration
}

// charge makes the one payments call, with the dispatcher's request encoding.
func (h *Handler) charge(ctx context.Context, o wims.Order) result {
	body, err := payments.EncodeRequest(o)
	if err != nil {
		return result{outcome: wims.PaymentError, err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, h.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.opt.PaymentsURL, bytes.NewReader(body))
	if err != nil {
		return result{outcome: wims.PaymentError, err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", o.ID)
	if tp := wims.TraceParent(ctx); tp != "" {
		req.Header.Set(wims.HeaderTraceParent, tp)
	}
	start := time.Now()
	resp, err := h.opt.Client.Do(req)
	took := time.Since(start)
	if err != nil {
		r := result{outcome: wims.PaymentError, took: took, err: errors.New("payments API: connection failed")}
		var ue *url.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ue) && ue.Timeout()) {
			r.timeout, r.err = true, fmt.Errorf("payments API timed out after %s", h.opt.Timeout)
		}
		return r
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	r := classify(resp.StatusCode)
	r.took = took
	if r.outcome == wims.PaymentThrottled {
		r.retryAfter = retryafter.Parse(resp.Header.Get("Retry-After"), h.opt.Now(), 5*time.Minute).Delay
	}
	return r
}

// classify maps a payments API status to an outcome: 2xx paid; 429, 503 and
// 409 (the key in flight elsewhere) throttled; 408 and 5xx a failure; any
// other 4xx declined for good. It mirrors the dispatcher's classification.
func classify(status int) result {
	r := result{status: status}
	switch {
	case status >= 200 && status < 300:
		r.outcome = wims.PaymentPaid
		return r
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || status == http.StatusConflict:
		r.outcome = wims.PaymentThrottled
	case status == http.StatusRequestTimeout:
		r.outcome = wims.PaymentError
	case status >= 400 && status < 500:
		r.outcome = wims.PaymentDeclined
	default:
		r.outcome = wims.PaymentError
	}
	r.err = fmt.Errorf("payments API answered %d %s", status, http.StatusText(status))
	return r
}

// record appends the attempt to the order's payment log, so GET /orders/{id}
// shows V1's calls as it shows the dispatcher's.
func (h *Handler) record(ctx context.Context, orderID string, r result) error {
	prev, err := h.opt.Store.PaymentAttempts(ctx, orderID)
	if err != nil {
		return err
	}
	a := wims.PaymentAttempt{
		OrderID: orderID, Attempt: len(prev) + 1, Outcome: r.outcome, StatusCode: r.status,
		At: h.opt.Now().UTC(), DurationMS: float64(r.took.Microseconds()) / 1000,
	}
	if r.err != nil {
		a.Error = r.err.Error()
	}
	return h.opt.Store.RecordPaymentAttempt(ctx, a)
}

// paymentError is a payments outcome that the client hears about.
type paymentError struct {
	clientStatus int
	slug, title  string
	reason       string
	retryAfter   time.Duration
}

func (e *paymentError) Error() string { return e.title + ": " + e.reason }

func (e *paymentError) detail(orderID string) string {
	if e.clientStatus == http.StatusPaymentRequired {
		return fmt.Sprintf("Order %s was not paid (%s); its stock was released.", orderID, e.reason)
	}
	return fmt.Sprintf("Order %s is RESERVED but not paid (%s). Retry with the same Idempotency-Key to resume it.",
		orderID, e.reason)
}

// fail answers a problem, keeping the API's headers (X-Request-Id, Location).
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, hdr http.Header, status int, slug, title, detail string, retryAfter time.Duration) {
	copyHeader(w.Header(), hdr)
	p := wimshttp.Problem{
		Type: wimshttp.ProblemTypeBase + slug, Title: title, Status: status, Detail: detail,
		Instance: r.URL.Path, RequestID: hdr.Get("X-Request-Id"),
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		if k == "Content-Length" || k == "Content-Type" {
			continue
		}
		dst[k] = v
	}
}

// bufferedWriter holds the API's answer to the order insert until V1 has
// finished the order.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	w.Write(b.body.Bytes())
}
