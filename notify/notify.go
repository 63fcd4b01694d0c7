// Package notify reports stock-level crossings (LOW_STOCK, OUT_OF_STOCK,
// OVERSTOCK) to the log, to every configured webhook and by mail to every
// configured address. It is the handler of the
// notifications target and runs on inventory change events.
//
// A crossing is detected from the event's old and new images (see
// wims.Crossings), so it is a property of one change and has a stable id. A
// crossing is reported once per receiver: each successful report is recorded
// in the store, and a redelivered event skips the receivers already done.
// A receiver that fails is retried by the bus consumer, with backoff and, after
// the last attempt, the dead-letter stream. A receiver that throttles (429 or
// 503 with Retry-After) is retried after the delay it asks for, capped by the
// webhook client, and every such answer counts as a failed attempt: on the
// last of Options.MaxAttempts the throttling is reported as an ordinary
// failure, so the consumer dead-letters the event like any other that ran
// out of attempts, instead of waiting on the receiver forever.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/wims/wims"
	"github.com/wims/wims/webhook"
)

// Store records which crossings reached which receiver.
type Store interface {
	MarkNotified(ctx context.Context, id, target string) (bool, error)
	Notified(ctx context.Context, id, target string) (bool, error)
}

// logReceiver names the log in the store's records.
const logReceiver = "log"

// DefaultMaxAttempts is Options.MaxAttempts when unset: the bus consumer's
// default number of deliveries before a failing message is dead-lettered.
const DefaultMaxAttempts = 10

// Mailer sends one notification to one email address (package mail).
type Mailer interface {
	Send(ctx context.Context, to string, n wims.Notification) error
}

// Options configures a Notifier.
type Options struct {
	Store    Store
	Webhooks []string
	Client   *webhook.Client
	// Mailer and Emails: each crossing is mailed once to each address,
	// retried and recorded like a webhook delivery.
	Mailer Mailer
	Emails []string
	Logger *slog.Logger
	// MaxAttempts is the number of deliveries after which the consumer
	// running the notifier dead-letters a failing event (its MaxDeliver;
	// default DefaultMaxAttempts). From that delivery on, a throttled
	// webhook is reported as a plain failure rather than a wims.RetryAfter,
	// which the consumer would honour forever.
	MaxAttempts int
}

// Notifier reports crossings.
type Notifier struct{ opt Options }

// New returns a Notifier.
func New(opt Options) *Notifier {
	if opt.Client == nil {
		opt.Client = &webhook.Client{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = DefaultMaxAttempts
	}
	return &Notifier{opt: opt}
}

// Handle reports the crossings of one inventory change event. It is a wims.Handler.
func (n *Notifier) Handle(ctx context.Context, m *wims.Message) error {
	notes, err := FromEvent(m.Data)
	if err != nil {
		return wims.Permanent(err)
	}
	var errs []error
	for _, note := range notes {
		body, err := json.Marshal(note)
		if err != nil {
			return wims.Permanent(err)
		}
		if first, err := n.opt.Store.MarkNotified(ctx, note.ID, logReceiver); err != nil {
			return fmt.Errorf("notify %s: %w", note.ID, err)
		} else if first {
			n.opt.Logger.Warn("stock level crossed", "notification", note.ID, "kind", note.Kind,
				"sku", note.SKU, "quantity", note.Quantity, "threshold", note.Threshold)
		}
		for _, url := range n.opt.Webhooks {
			if err := n.deliver(ctx, note.ID, url, m.Header[wims.HeaderTraceParent], body, m.Delivered); err != nil {
				errs = append(errs, err)
			}
		}
		for _, addr := range n.opt.Emails {
			if err := n.mail(ctx, note, addr); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// mail sends one notification to one address unless it already got it;
// the record is under "mailto:<address>", next to the webhooks' URLs.
func (n *Notifier) mail(ctx context.Context, note wims.Notification, addr string) error {
	if n.opt.Mailer == nil {
		return nil
	}
	receiver := "mailto:" + addr
	done, err := n.opt.Store.Notified(ctx, note.ID, receiver)
	if err != nil || done {
		return err
	}
	if err := n.opt.Mailer.Send(ctx, addr, note); err != nil {
		n.opt.Logger.Warn("notification mail failed; will retry", "notification", note.ID, "err", err)
		return fmt.Errorf("notify %s by mail: %w", note.ID, err)
	}
	if _, err := n.opt.Store.MarkNotified(ctx, note.ID, receiver); err != nil {
		return fmt.Errorf("notify %s: record mail: %w", note.ID, err)
	}
	return nil
}

// deliver posts one notification to one webhook unless it already got it.
// delivered is the event's delivery count: a throttled answer on the last
// attempt (MaxAttempts) loses its wims.RetryAfter, so the consumer counts it
// like any failure and dead-letters the event instead of waiting forever.
func (n *Notifier) deliver(ctx context.Context, id, url, traceParent string, body []byte, delivered int) error {
	done, err := n.opt.Store.Notified(ctx, id, url)
	if err != nil || done {
		return err
	}
	if err := n.opt.Client.Post(ctx, url, id, traceParent, body); err != nil {
		var ra *wims.RetryAfterError
		if errors.As(err, &ra) && delivered >= n.opt.MaxAttempts {
			return fmt.Errorf("notify %s: %w: still throttled after %d attempts", id, ra.Err, delivered)
		}
		return fmt.Errorf("notify %s: %w", id, err)
	}
	if _, err := n.opt.Store.MarkNotified(ctx, id, url); err != nil {
		return fmt.Errorf("notify %s: record delivery: %w", id, err)
	}
	return nil
}

// FromEvent returns the notifications an inventory change event calls for:
// none for events that are not inventory updates or cross no level.
func FromEvent(data []byte) ([]wims.Notification, error) {
	var ev struct {
		ID     string `json:"id"`
		Detail struct {
			Data struct {
				Table     string     `json:"table"`
				EventType string     `json:"eventType"`
				NewImage  *wims.Item `json:"NewImage"`
				OldImage  *wims.Item `json:"OldImage"`
			} `json:"data"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return nil, fmt.Errorf("decode inventory event: %w", err)
	}
	d := ev.Detail.Data
	if d.Table != wims.TableInventory || d.EventType != wims.ChangeUpdate {
		return nil, nil
	}
	var notes []wims.Notification
	for _, kind := range wims.Crossings(d.OldImage, d.NewImage) {
		if ev.ID == "" {
			return nil, fmt.Errorf("inventory event has no id")
		}
		threshold := kind.Threshold(d.NewImage)
		notes = append(notes, wims.Notification{
			ID: wims.NotificationID(ev.ID, kind), Kind: kind, SKU: d.NewImage.SKU,
			Quantity: d.NewImage.Quantity, Threshold: threshold, Event: json.RawMessage(data),
		})
	}
	return notes, nil
}
