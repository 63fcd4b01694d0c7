package mail_test

import (
	"context"
	"strings"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/smtptest"
	"github.com/wims/wims/mail"
)

var note = wims.Notification{ID: "ev-1:LOW_STOCK", Kind: wims.LowStock, SKU: "W-1", Quantity: 9, Threshold: 10}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "http://x", "smtp://", "smtp://:25", "smtp://host:99999", "smtp://u:secret@host:x"} {
		_, err := mail.New(u, "wims@localhost")
		if wims.ErrorField(err) != "smtp-url" {
			t.Errorf("New(%q) = %v, want an smtp-url error", u, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error quotes the password: %v", err)
		}
	}
	if _, err := mail.New("smtp://host", ""); wims.ErrorField(err) != "from" {
		t.Errorf("no from: %v", err)
	}
}

// TestSendWithAuth: a mail through a real SMTP server, authenticated, with
// the notification's subject, body and a Message-ID derived from its id.
func TestSendWithAuth(t *testing.T) {
	srv := smtptest.Start(t)
	srv.User, srv.Password = "wims", "s3cret"
	s, err := mail.New("smtp://wims:s3cret@"+srv.Addr, "wims@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), "ops@example.com", note); err != nil {
		t.Fatal(err)
	}
	m := srv.Mails()
	if len(m) != 1 || m[0].User != "wims" || m[0].From != "wims@example.com" || len(m[0].To) != 1 || m[0].To[0] != "ops@example.com" {
		t.Fatalf("mails = %+v", m)
	}
	for _, want := range []string{"Subject: wims: LOW_STOCK W-1 (quantity 9)", "Message-ID: <ev-1:LOW_STOCK@wims>", "low-stock threshold of 10"} {
		if !strings.Contains(m[0].Data, want) {
			t.Errorf("mail lacks %q:\n%s", want, m[0].Data)
		}
	}
	bad, _ := mail.New("smtp://wims:wrong@"+srv.Addr, "wims@example.com")
	if err := bad.Send(context.Background(), "ops@example.com", note); err == nil {
		t.Fatal("sent with a wrong password")
	}
}
