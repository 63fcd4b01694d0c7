package apidest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/wims/wims"
	"github.com/wims/wims/apidest"
)

func TestLimiterConfig(t *testing.T) {
	var l apidest.Limiter
	if _, _, ok := l.Limit("a"); ok {
		t.Fatal("limiter before first Wait")
	}
	ctx := context.Background()
	check := func(name string, wantRate rate.Limit) {
		t.Helper()
		r, b, ok := l.Limit(name)
		if !ok || r != wantRate || b != 1 {
			t.Fatalf("%s: Limit()=%v burst %d ok %v, want %v burst 1", name, r, b, ok, wantRate)
		}
	}
	if err := l.Wait(ctx, "a", 10); err != nil {
		t.Fatal(err)
	}
	check("a", 10)
	if err := l.Wait(ctx, "a", 25); err != nil {
		t.Fatal(err)
	}
	check("a", 25)
	if err := l.Wait(ctx, "b", 0); err != nil {
		t.Fatal(err)
	}
	check("b", wims.DefaultInvocationRate)
	check("a", 25) // destinations do not share a limiter
	l.Forget("a")
	if _, _, ok := l.Limit("a"); ok {
		t.Fatal("limiter after Forget")
	}
}

func TestLimiterWaitHonoursContext(t *testing.T) {
	var l apidest.Limiter
	ctx, cancel := context.WithCancel(context.Background())
	if err := l.Wait(ctx, "slow", 1); err != nil { // takes the only token
		t.Fatal(err)
	}
	cancel()
	if err := l.Wait(ctx, "slow", 1); err == nil {
		t.Fatal("Wait after cancel returned nil")
	}
}

// TestLimiterSpacing sends concurrent invocations through Wait and counts,
// at the server, those that arrived within windows measured from before
// the first Wait. A call can only arrive after its token was granted, so
// any delay makes the count smaller: the bound rate×window+burst holds
// however slow the machine is, with no timing threshold.
func TestLimiterSpacing(t *testing.T) {
	const ratePerSecond, calls = 20, 30
	var (
		mu       sync.Mutex
		arrivals []time.Time
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	var l apidest.Limiter
	inv := &apidest.Invoker{}
	d := dest(srv.URL)
	d.InvocationRateLimitPerSecond = ratePerSecond
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for range calls {
		wg.Go(func() {
			ctx := context.Background()
			if err := l.Wait(ctx, d.Name, d.InvocationRateLimitPerSecond); err != nil {
				errs <- err
				return
			}
			errs <- inv.Invoke(ctx, d, wims.Connection{AuthorizationType: wims.AuthNone}, nil, []byte(`{}`), "e")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != calls {
		t.Fatalf("server got %d calls, want %d", len(arrivals), calls)
	}
	for _, window := range []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second} {
		n := 0
		for _, at := range arrivals {
			if at.Sub(start) <= window {
				n++
			}
		}
		if limit := int(ratePerSecond*window.Seconds()) + 1; n > limit {
			t.Fatalf("%d calls within %s of the start, want at most %d", n, window, limit)
		}
	}
}
