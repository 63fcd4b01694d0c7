package payments

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims"
)

// Defaults for Options.
const (
	DefaultRate        = 5.0
	DefaultConcurrency = 8
	DefaultTimeout     = 10 * time.Second
)

// notReadyRetry is how long to wait before looking again at an order that is
// not RESERVED yet; the workflow enqueues the payment only after reserving,
// so this is a replica lag or a bug, and worth a short wait, not a failure.
const notReadyRetry = time.Second

// ErrTooManyFailures is wrapped, with wims.Permanent, in the error Handle
// returns for a payment that has failed wims.MaxPaymentFailures times.
var ErrTooManyFailures = errors.New("payments: too many failed attempts")

// ErrBusy is wrapped, with wims.RetryAfter, in the error Handle returns when
// the same order is being handled by another goroutine of this dispatcher.
var ErrBusy = errors.New("payments: order is being handled")

// Store is what the dispatcher needs of wims.Store.
type Store interface {
	// GetOrder returns ENOTFOUND when there is no such order.
	GetOrder(ctx context.Context, id string) (wims.Order, error)
	// CompletePayment moves a RESERVED order to PAID or PAYMENT_FAILED and
	// returns an order in any other status unchanged.
	CompletePayment(ctx context.Context, orderID string, paid bool, reason string) (wims.Order, error)
	// CompleteRefund moves a REFUND_PENDING order to REFUNDED and returns
	// an order in any other status unchanged.
	CompleteRefund(ctx context.Context, orderID string) (wims.Order, error)
	// RecordPaymentAttempt appends an attempt.
	RecordPaymentAttempt(ctx context.Context, a wims.PaymentAttempt) error
	// PaymentAttempts lists an order's attempts, oldest first.
	PaymentAttempts(ctx context.Context, orderID string) ([]wims.PaymentAttempt, error)
}

// wims' own store is what the dispatcher runs on in production.
var _ Store = wims.Store(nil)

// Options configures a Dispatcher. URL and Store are required.
type Options struct {
	// URL is the payments API endpoint; refunds go to URL + "/refunds".
	URL string
	// Rate is the most requests per second sent to the API (default 5).
	// Requests are evenly spaced (burst 1), so an API limited to 5/s with a
	// burst of 5 never throttles in steady state.
	Rate float64
	// Concurrency bounds the requests in flight (default 8). The API may be
	// slow, so the rate can only be kept with several in flight: at 5/s and
	// 1 s per answer, 5 are needed.
	Concurrency int
	// Timeout bounds one request (default 10 s).
	Timeout time.Duration
	// MaxBackoff caps the delay between failed attempts (default 30 s); the
	// delay starts at 200 ms and doubles. Tests shorten it.
	MaxBackoff time.Duration
	// Client sends the requests (default: a client whose connection pool
	// fits Concurrency and which does not follow redirects).
	Client *http.Client
	// Store holds the orders and the attempts.
	Store Store
	// Now stamps the recorded attempts and resolves Retry-After dates
	// (default time.Now). Durations are measured with the monotonic clock.
	Now wims.Clock
	// Logger receives one line per call (default: discard). It never gets
	// request bodies or customer ids.
	Logger *slog.Logger
	// Registry, if set, receives the dispatcher's metrics.
	Registry prometheus.Registerer
}

// Dispatcher sends payments from the work queue to the payments API. Its
// Handle method is safe to call from many goroutines at once; the rate and
// concurrency limits hold across all of them.
type Dispatcher struct {
	opt       Options
	refundURL string // URL + "/refunds"
	gate      *gate
	inflight  inflight
	metrics   *metrics
	log       *slog.Logger
}

// New returns a Dispatcher. It returns an EINVALID *wims.Error for a missing
// Store or a URL that is not absolute http(s), and an error if the metrics
// cannot be registered.
func New(opt Options) (*Dispatcher, error) {
	if opt.Store == nil {
		return nil, wims.FieldError("Store", "is required")
	}
	u, err := url.Parse(opt.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, wims.FieldError("URL", "must be an absolute http or https URL")
	}
	if opt.Rate <= 0 {
		opt.Rate = DefaultRate
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultTimeout
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = maxBackoff
	}
	if opt.Client == nil {
		opt.Client = defaultClient(opt.Concurrency)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(opt.Registry)
	if err != nil {
		return nil, fmt.Errorf("payments: metrics: %w", err)
	}
	refundURL, err := url.JoinPath(opt.URL, "refunds")
	if err != nil {
		return nil, wims.FieldError("URL", "cannot take the /refunds path: %v", err)
	}
	return &Dispatcher{
		opt:       opt,
		refundURL: refundURL,
		gate:      newGate(opt.Rate, opt.Concurrency),
		metrics:   m,
		log:       opt.Logger.With("component", "payments"),
	}, nil
}

// defaultClient keeps up to n idle connections to the API (the default
// transport keeps 2 per host, which would make every third request dial
// anew) and refuses redirects, which would turn the POST into a GET.
func defaultClient(n int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = n
	return &http.Client{
		Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Handle processes one payments queue message; it is a wims.Handler. A
// message is a charge, or a refund when its wims.HeaderPaymentKind header
// says so (see refund). For a charge it returns:
//   - nil when the order is settled: paid, declined, or already final (then
//     nothing is sent, so a paid order is never sent again), and for a
//     CANCELLED order that no call can have charged (see mayHaveCharged);
//   - a wims.Permanent error for a malformed message, an unknown order, or an
//     order with wims.MaxPaymentFailures failed attempts (ErrTooManyFailures);
//   - a wims.RetryAfter error when the payment should be tried again: after
//     the API's Retry-After when throttled, after an exponential backoff when
//     the call failed, after a short wait when the order is not yet RESERVED
//     or is being handled by another goroutine (ErrBusy);
//   - ctx's error when ctx ends first.
func (d *Dispatcher) Handle(ctx context.Context, m *wims.Message) error {
	req, err := DecodeRequest(m.Data)
	if err != nil {
		return wims.Permanent(fmt.Errorf("payments: decode message: %w", err))
	}
	kind := wims.PaymentKind(m.Header[wims.HeaderPaymentKind])
	if kind != wims.PaymentCharge && kind != wims.PaymentRefund {
		return wims.Permanent(fmt.Errorf("payments: message of unknown kind %q", kind))
	}
	// One goroutine per order, whatever the kind: a charge completing a
	// CANCELLED order and its refund then never interleave.
	if !d.inflight.start(req.OrderID) {
		return wims.RetryAfter(busyRetry, ErrBusy)
	}
	defer d.inflight.done(req.OrderID)

	o, err := d.opt.Store.GetOrder(ctx, req.OrderID)
	if err != nil {
		if wims.ErrorCode(err) == wims.ENOTFOUND {
			return wims.Permanent(fmt.Errorf("payments: order %s: %w", req.OrderID, err))
		}
		return wims.RetryAfter(d.backoff(1), fmt.Errorf("payments: get order %s: %w", req.OrderID, err))
	}
	if kind == wims.PaymentRefund {
		return d.refund(ctx, m, o)
	}
	switch o.Status {
	case wims.OrderReserved, wims.OrderCancelled:
	case wims.OrderPending:
		return wims.RetryAfter(notReadyRetry, fmt.Errorf("payments: order %s is %s, not %s", o.ID, o.Status, wims.OrderReserved))
	default: // settled, refunding or refunded: nothing to charge
		return nil
	}

	prior, err := d.attempts(ctx, o.ID, wims.PaymentCharge)
	if err != nil {
		return err
	}
	// A crash between recording a final answer and completing the order
	// leaves the order RESERVED (or CANCELLED meanwhile): finish from the
	// record, without another call. For a CANCELLED order that was charged,
	// completing it owes the refund (wims.Tx.CompletePayment).
	if last := settled(prior); last != nil {
		return d.complete(ctx, o.ID, last.Outcome, last.StatusCode)
	}
	if o.Status == wims.OrderCancelled && !mayHaveCharged(prior, m) {
		return nil // cancelled before any charge could reach the API: none is sent
	}
	return d.attempt(ctx, m, o, wims.PaymentCharge, prior, d.complete)
}

// attempt makes the next call of kind for order o after the prior attempts,
// finishing with done on a final answer (paid or declined). It returns a
// wims.Permanent error after wims.MaxPaymentFailures failures, so the
// message is dead-lettered, and RetryAfter errors for a throttled or failed
// call: the throttle's delay, or the backoff after that many failures.
func (d *Dispatcher) attempt(ctx context.Context, m *wims.Message, o wims.Order, kind wims.PaymentKind, prior []wims.PaymentAttempt,
	done func(ctx context.Context, orderID string, outcome wims.PaymentOutcome, status int) error) error {
	failures, throttles := count(prior, redrivenAt(m))
	if failures >= wims.MaxPaymentFailures {
		d.log.Warn(kind.String()+" dead-lettered", "order_id", o.ID, "failures", failures)
		return wims.Permanent(fmt.Errorf("%s of order %s: %d failures: %w", kind, o.ID, failures, ErrTooManyFailures))
	}
	r, a, err := d.call(ctx, m, o, kind, len(prior)+1, throttles)
	if err != nil {
		return err
	}
	switch r.outcome {
	case wims.PaymentPaid, wims.PaymentDeclined:
		return done(ctx, o.ID, r.outcome, r.status)
	case wims.PaymentThrottled:
		return wims.RetryAfter(r.delay, fmt.Errorf("payments: %s of order %s: %w", kind, o.ID, r.err))
	default:
		return wims.RetryAfter(d.backoff(failures+1), fmt.Errorf("payments: %s of order %s: attempt %d: %w", kind, o.ID, a.Attempt, r.err))
	}
}

// refund handles a refund message: POST <URL>/refunds with Idempotency-Key
// refund:<orderId>, under the same rate gate, classification and retries as
// a charge. It returns nil when the order is not REFUND_PENDING (refunded
// already, or no refund is owed) and once the API refunded it
// (CompleteRefund then releases its stock, unless that happened at its
// cancel); a wims.Permanent error, so the refund is dead-lettered where a
// person sees it, when the API declined it for good (ErrRefundDeclined) or
// after wims.MaxPaymentFailures failures; and RetryAfter errors otherwise.
// The order stays REFUND_PENDING, holding its stock, until the refund
// succeeds.
func (d *Dispatcher) refund(ctx context.Context, m *wims.Message, o wims.Order) error {
	if o.Status != wims.OrderRefundPending {
		return nil
	}
	prior, err := d.attempts(ctx, o.ID, wims.PaymentRefund)
	if err != nil {
		return err
	}
	if last := settled(prior); last != nil {
		return d.completeRefund(ctx, o.ID, last.Outcome, last.StatusCode)
	}
	return d.attempt(ctx, m, o, wims.PaymentRefund, prior, d.completeRefund)
}

// ErrRefundDeclined is wrapped, with wims.Permanent, in the error Handle
// returns for a refund the payments API declined for good (a 4xx): the
// order stays REFUND_PENDING with its stock, and the dead letter says why.
var ErrRefundDeclined = errors.New("payments: refund declined")

// completeRefund finishes a refund after a final answer: REFUNDED, or a
// dead letter when declined.
func (d *Dispatcher) completeRefund(ctx context.Context, orderID string, outcome wims.PaymentOutcome, status int) error {
	if outcome != wims.PaymentPaid {
		d.log.Warn("refund declined", "order_id", orderID, "status", status)
		return wims.Permanent(fmt.Errorf("order %s: payments API answered %d: %w", orderID, status, ErrRefundDeclined))
	}
	if _, err := d.opt.Store.CompleteRefund(ctx, orderID); err != nil {
		return wims.RetryAfter(d.backoff(1), fmt.Errorf("payments: complete refund of order %s: %w", orderID, err))
	}
	return nil
}

// attempts returns the order's recorded attempts of one kind, oldest first.
func (d *Dispatcher) attempts(ctx context.Context, orderID string, kind wims.PaymentKind) ([]wims.PaymentAttempt, error) {
	all, err := d.opt.Store.PaymentAttempts(ctx, orderID)
	if err != nil {
		return nil, wims.RetryAfter(d.backoff(1), fmt.Errorf("payments: attempts of order %s: %w", orderID, err))
	}
	var out []wims.PaymentAttempt
	for _, a := range all {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out, nil
}

// call makes one call of the kind for order o under the rate gate, honours
// a throttling answer (every sender pauses), and records the attempt,
// numbered attempt. throttles is how many earlier attempts were throttled,
// for the backoff when the API gave no Retry-After. The error, when not
// nil, is what Handle returns: ctx ended, or the attempt was not recorded.
func (d *Dispatcher) call(ctx context.Context, m *wims.Message, o wims.Order, kind wims.PaymentKind, attempt, throttles int) (result, wims.PaymentAttempt, error) {
	wait, err := d.gate.acquire(ctx)
	d.metrics.wait.Observe(wait.Seconds())
	if err != nil {
		return result{}, wims.PaymentAttempt{}, err
	}
	at := d.opt.Now()
	endpoint, key := d.opt.URL, o.ID
	if kind == wims.PaymentRefund {
		endpoint, key = d.refundURL, wims.RefundIdempotencyKey(o.ID)
	}
	r, err := d.send(ctx, endpoint, key, requestFor(o), m.Header[wims.HeaderTraceParent])
	d.gate.release()
	if err != nil {
		return result{}, wims.PaymentAttempt{}, err
	}
	if r.outcome == wims.PaymentThrottled {
		if !r.hasDelay {
			r.delay = d.backoff(throttles + 1)
		}
		if r.capped {
			d.metrics.capped.Inc()
			d.log.Warn("payments API asked to wait longer than --payments-max-backoff; capped",
				"order_id", o.ID, "wait", r.delay)
		}
		// 409 concerns one key; 429 and 503 concern everyone, so every
		// sender waits until the API is ready again.
		if r.status != http.StatusConflict {
			d.gate.pause(r.delay)
		}
	}
	d.metrics.requests.WithLabelValues(string(r.outcome)).Inc()
	d.metrics.duration.Observe(r.took.Seconds())
	d.logResult(o.ID, kind, attempt, r)

	a := wims.PaymentAttempt{
		OrderID:    o.ID,
		Kind:       kind,
		Attempt:    attempt,
		Outcome:    r.outcome,
		StatusCode: r.status,
		At:         at,
		DurationMS: float64(r.took) / float64(time.Millisecond),
	}
	if r.err != nil {
		a.Error = r.err.Error()
	}
	if err := d.opt.Store.RecordPaymentAttempt(ctx, a); err != nil {
		// The next delivery calls again; the Idempotency-Key turns a paid
		// call into a replay, so nothing is charged (or refunded) twice.
		return result{}, a, wims.RetryAfter(d.backoff(1), fmt.Errorf("payments: record attempt of order %s: %w", o.ID, err))
	}
	return r, a, nil
}

// StartTerm is called when this dispatcher becomes the one that sends (it
// won the "payments" leadership), with when the previous sender may last
// have sent: nothing is sent until a second after that. The previous
// leader, killed or replaced, may have sent up to the rate in its last
// second; without the quiet second, a window straddling the hand-over
// would see both (108 requests in a second at --payments-rate 100). With
// it, every one-second window holds sends of one dispatcher only, so the
// API never sees more than the rate, across restarts and leader changes.
// A zero previousEnd (no sender in the last seconds, as on a fresh start)
// sends at once.
func (d *Dispatcher) StartTerm(previousEnd time.Time) {
	if !previousEnd.IsZero() {
		d.gate.pauseUntil(previousEnd.Add(time.Second))
	}
}

// complete settles a RESERVED order after a final answer: PAID, or
// PAYMENT_FAILED with its stock released. A CANCELLED order that was paid
// moves to REFUND_PENDING; one that was declined stays as it is.
func (d *Dispatcher) complete(ctx context.Context, orderID string, outcome wims.PaymentOutcome, status int) error {
	paid, reason := outcome == wims.PaymentPaid, ""
	if !paid {
		reason = fmt.Sprintf("declined: %d", status)
	}
	o, err := d.opt.Store.CompletePayment(ctx, orderID, paid, reason)
	if err != nil {
		return wims.RetryAfter(d.backoff(1), fmt.Errorf("payments: complete order %s: %w", orderID, err))
	}
	if o.Status == wims.OrderPaid {
		d.metrics.paid.Observe(o.UpdatedAt.Sub(o.CreatedAt).Seconds())
	}
	return nil
}

// mayHaveCharged reports whether an earlier call for this order may have
// charged it without wims knowing: an attempt whose outcome is unknown (a
// 5xx, a timeout or a lost connection: the API may have charged before it
// failed; a 409: another request with the key was in flight), or an earlier
// delivery that recorded no attempt (wims may have crashed mid-call). A
// CANCELLED order for which this holds is charged again with the same
// Idempotency-Key, which the API answers with the earlier outcome if there
// was one: if it was (or now is) charged, CompletePayment owes the refund,
// so the money comes back either way; never charging it again could keep a
// charge that nothing refunds.
func mayHaveCharged(prior []wims.PaymentAttempt, m *wims.Message) bool {
	for _, a := range prior {
		if a.Outcome == wims.PaymentError || a.StatusCode == http.StatusConflict {
			return true
		}
	}
	return m.Delivered > len(prior)+1
}

// settled returns the attempt that got a final answer (paid or declined), if any.
func settled(attempts []wims.PaymentAttempt) *wims.PaymentAttempt {
	for i := range attempts {
		if o := attempts[i].Outcome; o == wims.PaymentPaid || o == wims.PaymentDeclined {
			return &attempts[i]
		}
	}
	return nil
}

// redrivenAt is when a person sent the message back from the dead-letter
// stream (zero if never): failures before it do not count again.
func redrivenAt(m *wims.Message) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, m.Header[wims.HeaderRedrivenAt])
	return t
}

// count returns how many of the attempts since since failed and how many
// were throttled.
func count(attempts []wims.PaymentAttempt, since time.Time) (failures, throttles int) {
	for _, a := range attempts {
		if a.At.Before(since) {
			continue
		}
		switch a.Outcome {
		case wims.PaymentError:
			failures++
		case wims.PaymentThrottled:
			throttles++
		}
	}
	return failures, throttles
}

// logResult logs one call: settled payments at info, the rest at warn. Only
// the order id identifies the payment; customer ids and bodies stay out of
// the logs.
func (d *Dispatcher) logResult(orderID string, kind wims.PaymentKind, attempt int, r result) {
	level := slog.LevelInfo
	if r.outcome == wims.PaymentError || r.outcome == wims.PaymentThrottled {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{
		slog.String("order_id", orderID),
		slog.Int("attempt", attempt),
		slog.String("kind", string(cmp.Or(kind, "charge"))),
		slog.String("outcome", string(r.outcome)),
		slog.Int("status", r.status),
		slog.Duration("took", r.took),
	}
	if r.err != nil {
		attrs = append(attrs, slog.String("err", r.err.Error()))
	}
	d.log.LogAttrs(context.Background(), level, "payment call", attrs...)
}
