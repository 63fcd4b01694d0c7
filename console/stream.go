package console

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/wims/wims"
)

// maxStreamOrders bounds the orders one stream follows by id.
const maxStreamOrders = 100

// snapshot is one event of /ui/stream: what the page's script writes into
// the page (as text, never as HTML).
type snapshot struct {
	Overview overview `json:"overview"`
	// Orders are the followed orders (by id, and the newest page's).
	Orders []orderRow `json:"orders,omitempty"`
	// Newest lists the ids of the newest page, newest first, when asked
	// for: the script adds the rows it does not have yet.
	Newest []string `json:"newest,omitempty"`
	// History is the followed order's status history, when asked for
	// (detail=1).
	History []historyRow `json:"history,omitempty"`
	// Payments are the followed order's payment attempts, when asked for.
	Payments []paymentRow `json:"payments,omitempty"`
	// Journey is the followed order's journey, when asked for and changed
	// since the stream last sent it.
	Journey json.RawMessage `json:"journey,omitempty"`
	// Live is the overview's live figures and plots (live=1), with the
	// stock plots (stock=1).
	Live *live `json:"live,omitempty"`
}

// journeySettle is how long after an order's last change in a final
// status its journey is taken to be complete: its last events are logged
// by then, so a stream stops gathering it.
const journeySettle = time.Minute

// journeyState is what one stream remembers of the journey it follows.
type journeyState struct {
	last    []byte // the journey last sent, as JSON
	settled bool   // complete: not gathered again
}

// paymentRow is one payment attempt, as the order page shows it.
type paymentRow struct {
	Attempt  int    `json:"attempt"`
	At       string `json:"at"`
	Outcome  string `json:"outcome"`
	Code     string `json:"code"`
	Duration string `json:"duration"`
	Error    string `json:"error,omitempty"`
}

func newPaymentRow(p wims.PaymentAttempt) paymentRow {
	row := paymentRow{Attempt: p.Attempt, At: formatTime(p.At), Outcome: string(p.Outcome), Code: "—",
		Duration: strconv.FormatFloat(p.DurationMS, 'f', 1, 64), Error: p.Error}
	if p.StatusCode != 0 {
		row.Code = strconv.Itoa(p.StatusCode)
	}
	return row
}

// orderRow is an order as a row of the orders table.
type orderRow struct {
	ID        string `json:"id"`
	Href      string `json:"href"`
	Created   string `json:"created"`
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	Customer  string `json:"customer"`
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"`
	UpdatedAt string `json:"updated"`
}

// historyRow is one entry of an order's history.
type historyRow struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	At     string `json:"at"`
}

func newOrderRow(o wims.Order, seesCustomers bool) orderRow {
	row := orderRow{
		ID: o.ID, Href: "/ui/orders/" + url.PathEscape(o.ID), Created: formatTime(o.CreatedAt), SKU: o.SKU,
		Quantity: o.Quantity, Customer: o.CustomerID, Status: string(o.Status), Reason: o.Reason, UpdatedAt: formatTime(o.UpdatedAt),
	}
	if !seesCustomers {
		row.Customer = "REDACTED"
	}
	return row
}

// streamQuery is what a stream follows, from its query string.
type streamQuery struct {
	ids    []string
	newest bool
	status wims.OrderStatus
	detail bool
	live   bool
	stock  bool
	after  string // the inventory page whose stock plots are sent
}

func parseStreamQuery(q url.Values) (streamQuery, error) {
	sq := streamQuery{ids: q["order"], newest: q.Get("newest") == "1", status: wims.OrderStatus(q.Get("status")), detail: q.Get("detail") == "1"}
	sq.live, sq.stock = q.Get("live") == "1", q.Get("stock") == "1"
	if sq.after = q.Get("after"); len(sq.after) > maxSKULength {
		return sq, fmt.Errorf("after: at most %d characters, the longest SKU", maxSKULength)
	}
	if len(sq.ids) > maxStreamOrders {
		return sq, fmt.Errorf("at most %d orders", maxStreamOrders)
	}
	f := wims.OrderFilter{Status: sq.status}
	if err := f.Validate(); err != nil {
		return sq, err
	}
	return sq, nil
}

// handleStream sends a snapshot every interval as server-sent events, until
// the client goes, the session ends or the server shuts down.
func (h *Handler) handleStream(w http.ResponseWriter, r *http.Request, s *session) {
	sq, err := parseStreamQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	select {
	case <-h.closing:
		// 204 tells an EventSource to stop reconnecting.
		w.WriteHeader(http.StatusNoContent)
		return
	default:
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // proxies must not buffer the stream
	rc := http.NewResponseController(w)
	ctx := r.Context()
	tick := time.NewTicker(h.interval)
	defer tick.Stop()
	var js journeyState
	for {
		snap, err := h.snapshot(ctx, s, sq, &js)
		if err != nil {
			if ctx.Err() == nil {
				h.log.WarnContext(ctx, "console: stream snapshot", "err", err)
			}
			return
		}
		data, err := json.Marshal(snap)
		if err != nil {
			h.log.ErrorContext(ctx, "console: stream encode", "err", err)
			return
		}
		// The server's WriteTimeout would cut a long stream; each event
		// gets its own deadline instead.
		_ = rc.SetWriteDeadline(time.Now().Add(10*h.interval + 5*time.Second))
		if _, err := fmt.Fprintf(w, "event: snapshot\ndata: %s\n\n", data); err != nil {
			return
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-h.closing:
			return
		case <-tick.C:
		}
		if h.sessions.getByID(s.id) == nil {
			return // logged out or expired: stop showing data
		}
	}
}

// snapshot gathers what sq follows, as s may see it; js is the stream's
// memory of the journey it sent.
func (h *Handler) snapshot(ctx context.Context, s *session, sq streamQuery, js *journeyState) (snapshot, error) {
	var snap snapshot
	var err error
	if snap.Overview, err = h.counts.get(ctx); err != nil {
		return snap, err
	}
	seen := map[string]bool{}
	if sq.newest {
		page, err := h.store.ListOrders(ctx, wims.OrderFilter{Status: sq.status, Limit: ordersPerPage})
		if err != nil {
			return snap, err
		}
		snap.Newest = []string{}
		for _, o := range page.Orders {
			snap.Newest = append(snap.Newest, o.ID)
			snap.Orders = append(snap.Orders, newOrderRow(o, s.seesCustomers()))
			seen[o.ID] = true
		}
	}
	var followed *wims.Order // the one order of a detail stream
	for _, id := range sq.ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		o, err := h.store.GetOrder(ctx, id)
		if wims.ErrorCode(err) == wims.ENOTFOUND {
			continue
		}
		if err != nil {
			return snap, err
		}
		snap.Orders = append(snap.Orders, newOrderRow(o, s.seesCustomers()))
		followed = &o
	}
	if sq.live || sq.stock {
		l, err := h.liveFigures(ctx, sq.after, sq.live, sq.stock, false)
		if err != nil {
			return snap, err
		}
		snap.Live = &l
	}
	if sq.detail && len(sq.ids) == 1 {
		hist, err := h.store.OrderHistory(ctx, sq.ids[0])
		if err != nil && wims.ErrorCode(err) != wims.ENOTFOUND {
			return snap, err
		}
		for _, c := range hist {
			snap.History = append(snap.History, historyRow{Status: string(c.Status), Reason: c.Reason, At: formatTime(c.At)})
		}
		pays, err := h.store.PaymentAttempts(ctx, sq.ids[0])
		if err != nil && wims.ErrorCode(err) != wims.ENOTFOUND {
			return snap, err
		}
		for _, p := range pays {
			snap.Payments = append(snap.Payments, newPaymentRow(p))
		}
		if followed != nil && !js.settled {
			if snap.Journey, err = h.streamJourney(ctx, s, *followed, hist, pays, js); err != nil {
				return snap, err
			}
		}
	}
	return snap, nil
}

// streamJourney gathers o's journey for a stream, as JSON: nil when it is
// what the stream sent last.
func (h *Handler) streamJourney(ctx context.Context, s *session, o wims.Order, hist []wims.StatusChange, pays []wims.PaymentAttempt, js *journeyState) (json.RawMessage, error) {
	execs, err := h.store.Executions(ctx, o.ID)
	if err != nil && wims.ErrorCode(err) != wims.ENOTFOUND {
		return nil, err
	}
	j := h.orderJourney(ctx, s, o, hist, pays, execs)
	js.settled = o.Status.Final() && time.Since(o.UpdatedAt) > journeySettle && !j.unread
	b, err := json.Marshal(j)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(b, js.last) {
		return nil, nil
	}
	js.last = b
	return b, nil
}
