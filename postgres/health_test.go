package postgres_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/postgres"
	"github.com/wims/wims/postgres/pgtest"
)

// tcpProxy forwards connections to target until cut, which closes the
// listener and every connection: the database, seen from the store, is
// gone. resume listens again on the same address.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) resume() {
	var ln net.Listener
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("listen again on %s: %v", p.addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.serve(ln)
}

// TestLostDatabaseIsUnavailable: while the database cannot be reached,
// reads and writes fail with EUNAVAILABLE (the API's 503 with
// Retry-After), not an internal error, and Check says so; when it is back
// the store works again without a restart.
func TestLostDatabaseIsUnavailable(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	p := newProxy(t, u.Host)
	u.Host = p.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	ctx := context.Background()
	st, err := postgres.Open(ctx, postgres.Options{URL: u.String(), Seed: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(ctx); err != nil {
		t.Fatalf("check of a reachable database: %v", err)
	}

	p.cut()
	for _, op := range []struct {
		name string
		run  func(context.Context) error
	}{
		{"read", func(ctx context.Context) error { _, err := st.GetItem(ctx, wims.SeedItem().SKU); return err }},
		{"write", func(ctx context.Context) error {
			_, _, err := st.CreateOrder(ctx, wims.Order{ID: "lost-db-1", CustomerID: "c", SKU: wims.SeedItem().SKU, Quantity: 1, Status: wims.OrderPending, CreatedAt: time.Now()})
			return err
		}},
		{"check", st.Check},
	} {
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := op.run(octx)
		cancel()
		if op.name == "check" {
			if err == nil {
				t.Fatal("check passes with the database gone")
			}
			continue
		}
		if wims.ErrorCode(err) != wims.EUNAVAILABLE {
			t.Fatalf("%s with the database gone: %v (code %s), want EUNAVAILABLE", op.name, err, wims.ErrorCode(err))
		}
	}

	p.resume()
	deadline := time.Now().Add(20 * time.Second)
	for st.Check(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the store did not come back: %v", st.Check(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, _, err := st.CreateOrder(ctx, wims.Order{ID: "lost-db-2", CustomerID: "c", SKU: wims.SeedItem().SKU, Quantity: 1, Status: wims.OrderPending, CreatedAt: time.Now()}); err != nil {
		t.Fatalf("write after the database came back: %v", err)
	}
}
