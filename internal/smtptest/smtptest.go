// Package smtptest runs a real SMTP server in-process for tests
// (github.com/emersion/go-smtp), recording what it receives: the mail
// tests and the end-to-end notification tests talk to it over TCP, as wims
// talks to a real mail server.
package smtptest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is one message the server accepted.
type Mail struct {
	From string
	To   []string
	Data string
	// User is who authenticated ("" without AUTH).
	User string
}

// Server is an SMTP server on a loopback port.
type Server struct {
	// Addr is host:port.
	Addr string
	// User and Password, if set, are required (AUTH PLAIN, allowed without
	// TLS on loopback).
	User, Password string

	mu    sync.Mutex
	mails []Mail
	fail  int // DATA commands still to refuse
}

// Start starts a server that lives as long as tb.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return s
}

// FailNext makes the server refuse the next n messages (a 451, which a
// sender must retry).
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// Mails returns the messages accepted so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

type session struct {
	s    *Server
	user string
	cur  Mail
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != se.s.User || pass != se.s.Password {
			return errors.New("invalid credentials")
		}
		se.user = user
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.User != "" && se.user == "" {
		return smtp.ErrAuthRequired
	}
	se.cur = Mail{From: from, User: se.user}
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.cur.To = append(se.cur.To, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	if se.s.fail > 0 {
		se.s.fail--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	se.cur.Data = string(b)
	se.s.mails = append(se.s.mails, se.cur)
	return nil
}

func (se *session) Reset()        { se.cur = Mail{} }
func (se *session) Logout() error { return nil }
