// Package mail sends the stock notifications as email over SMTP (DESIGN
// §10), through github.com/wneessen/go-mail: STARTTLS when the server offers
// it on smtp://, implicit TLS on smtps://, AUTH when the URL carries a user
// (only over TLS, or to a server on loopback).
package mail

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/wims/wims"
)

// Sender sends notifications to one SMTP server.
type Sender struct {
	host, from string
	opts       []gomail.Option
}

// sendTimeout bounds one delivery (connect, TLS, AUTH, DATA): a hung server
// must not hold the notifications consumer.
const sendTimeout = 20 * time.Second

// New parses smtpURL (smtp://[user:pass@]host[:port], default port 25;
// smtps:// for implicit TLS, default port 465) and returns a Sender whose
// mails come from from. Returns EINVALID naming "smtp-url" or "from".
func New(smtpURL, from string) (*Sender, error) {
	u, err := url.Parse(smtpURL)
	if err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "smtp" && u.Scheme != "smtps") {
		// The URL may hold a password: never quote it.
		return nil, wims.FieldError("smtp-url", "must be smtp://[user:pass@]host[:port] or smtps://…")
	}
	if from == "" {
		return nil, wims.FieldError("from", "is required")
	}
	port := 25
	opts := []gomail.Option{gomail.WithTimeout(sendTimeout), gomail.WithTLSPolicy(gomail.TLSOpportunistic)}
	if u.Scheme == "smtps" {
		port = 465
		opts = []gomail.Option{gomail.WithTimeout(sendTimeout), gomail.WithSSL()}
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, wims.FieldError("smtp-url", "has an invalid port")
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if u.User != nil {
		pass, _ := u.User.Password()
		// Credentials go only over TLS (STARTTLS or smtps), except to a
		// server on this machine, where there is no wire to tap.
		auth := gomail.SMTPAuthAutoDiscover
		if ip := net.ParseIP(u.Hostname()); u.Scheme == "smtp" && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass))
	}
	return &Sender{host: u.Hostname(), from: from, opts: opts}, nil
}

// Send mails one notification to one address. The Message-ID is derived
// from the notification's id, so a receiver (or its mail client) can tell a
// re-sent copy after a crash between sending and recording.
func (s *Sender) Send(ctx context.Context, to string, n wims.Notification) error {
	m := gomail.NewMsg()
	if err := m.From(s.from); err != nil {
		return wims.Permanent(fmt.Errorf("mail from %q: %w", s.from, err))
	}
	if err := m.To(to); err != nil {
		return wims.Permanent(fmt.Errorf("mail to %q: %w", to, err))
	}
	m.SetMessageIDWithValue(n.ID + "@wims")
	m.SetDate()
	m.Subject(Subject(n))
	m.SetBodyString(gomail.TypeTextPlain, Body(n))
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, m); err != nil {
		return fmt.Errorf("send mail to %s: %w", to, err)
	}
	return nil
}

// Subject is a notification's mail subject.
func Subject(n wims.Notification) string {
	return fmt.Sprintf("wims: %s %s (quantity %d)", n.Kind, n.SKU, n.Quantity)
}

// Body is a notification's plain-text mail body.
func Body(n wims.Notification) string {
	what := map[wims.NotificationKind]string{
		wims.LowStock:   fmt.Sprintf("fell to %d, at or below its low-stock threshold of %d", n.Quantity, n.Threshold),
		wims.OutOfStock: "is out of stock",
		wims.Overstock:  fmt.Sprintf("rose to %d, above its overstock threshold of %d", n.Quantity, n.Threshold),
	}[n.Kind]
	return fmt.Sprintf("The stock of %s %s.\n\nNotification %s (%s). wims sends one mail per crossing of a level.\n",
		n.SKU, what, n.ID, n.Kind)
}
