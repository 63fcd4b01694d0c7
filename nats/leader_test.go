package nats_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// runLeader runs name under l until the returned stop is called; running
// reports whether f is currently running.
func runLeader(t *testing.T, l *nats.Leadership, name string) (running *atomic.Bool, stop func()) {
	t.Helper()
	running = &atomic.Bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Run(ctx, name, func(ctx context.Context) error {
			running.Store(true)
			<-ctx.Done()
			running.Store(false)
			return nil
		}, nil)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return running, stop
}

func waitUntil(t *testing.T, what string, timeout time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLeadershipOneLeaderAndHandover(t *testing.T) {
	bus := natstest.Open(t)
	ctx := context.Background()
	// A TTL well above a loaded CI machine's scheduling stalls: a renewal
	// late by more than TTL/3·2 would (rightly) hand over.
	a, err := bus.Leadership(ctx, "a", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bus.Leadership(ctx, "b", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ra, stopA := runLeader(t, a, "relay")
	waitUntil(t, "a leads", 5*time.Second, ra.Load)
	rb, _ := runLeader(t, b, "relay")
	// b must not lead while a renews: check over several TTLs.
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if rb.Load() {
			t.Fatal("two leaders at once")
		}
	}
	if id, _ := b.Leader(ctx, "relay"); id != "a" {
		t.Fatalf("leader = %q, want a", id)
	}
	stopA()
	if ra.Load() {
		t.Fatal("a still running after stop")
	}
	waitUntil(t, "b takes over after a stops", 5*time.Second, rb.Load)
}

// TestLeadershipExpires: a leader that vanishes without handing over (its
// connection is gone, as when its process is killed) is replaced once its key
// expires; an instance restarted with the same id reclaims its key at once.
func TestLeadershipExpires(t *testing.T) {
	url, _ := natstest.Server(t)
	ns := natstest.Namespace()
	ctx := context.Background()
	open := func() *nats.Bus {
		b, err := nats.Open(ctx, nats.Config{URLs: []string{url}, Namespace: ns})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dying := open()
	ghost, err := dying.Leadership(ctx, "ghost", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rg, _ := runLeader(t, ghost, "payments")
	waitUntil(t, "ghost leads", 5*time.Second, rg.Load)

	survivor := open()
	defer survivor.Close()
	s, err := survivor.Leadership(ctx, "survivor", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := runLeader(t, s, "payments")
	dying.Close() // no clean hand-over: the key must expire
	waitUntil(t, "ghost stops when it cannot renew", 5*time.Second, func() bool { return !rg.Load() })
	waitUntil(t, "survivor takes over after expiry", 10*time.Second, rs.Load)
	if id, _ := s.Leader(ctx, "payments"); id != "survivor" {
		t.Fatalf("leader = %q", id)
	}
}

// TestLeadershipTerm: a term says when the previous holder may last have
// acted: never on a fresh key, when it released the key on a clean stop,
// and now when the previous term was this id's own (a restart).
func TestLeadershipTerm(t *testing.T) {
	bus := natstest.Open(t)
	ctx := context.Background()
	terms := make(chan nats.Term, 4)
	lead := func(id string) (stop func()) {
		t.Helper()
		l, err := bus.Leadership(ctx, id, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		lctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.Run(lctx, "payments", func(ctx context.Context) error {
				terms <- nats.TermOf(ctx)
				<-ctx.Done()
				return nil
			}, nil)
		}()
		return func() { cancel(); <-done }
	}
	next := func(what string) nats.Term {
		t.Helper()
		select {
		case term := <-terms:
			return term
		case <-time.After(15 * time.Second):
			t.Fatalf("%s: no term began", what)
			return nats.Term{}
		}
	}

	stopA := lead("a")
	if term := next("a on a fresh key"); !term.PreviousEnd.IsZero() {
		t.Fatalf("first term: previous end %s, want none", term.PreviousEnd)
	}
	stopB := lead("b")
	defer stopB()
	beforeRelease := time.Now()
	stopA() // a clean stop deletes the key
	afterRelease := time.Now()
	term := next("b after a's hand-over")
	// The server stamps the release; allow its clock a second's skew.
	if term.PreviousEnd.Before(beforeRelease.Add(-time.Second)) || term.PreviousEnd.After(afterRelease.Add(time.Second)) {
		t.Fatalf("b's term: previous end %s, want a's release between %s and %s", term.PreviousEnd, beforeRelease, afterRelease)
	}

	// A second process with b's id (b restarted before its key expired,
	// its old process still counting as alive) reclaims the key when it
	// next changes hands, and must assume the other acted until now.
	l, err := bus.Leadership(ctx, "b", 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	before := time.Now()
	go l.Run(lctx, "payments", func(ctx context.Context) error { terms <- nats.TermOf(ctx); <-ctx.Done(); return nil }, nil)
	if term := next("b's restart"); term.PreviousEnd.Before(before) {
		t.Fatalf("restarted b's term: previous end %s, want at least %s", term.PreviousEnd, before)
	}
}
