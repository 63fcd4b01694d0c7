package http_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	wimshttp "github.com/wims/wims/http"
)

func TestOrderIDForKey(t *testing.T) {
	a := wimshttp.OrderIDForKey("key-1")
	if a != wimshttp.OrderIDForKey("key-1") {
		t.Fatal("not deterministic")
	}
	if a == wimshttp.OrderIDForKey("key-2") || a == wimshttp.OrderIDForKey("key-1 ") {
		t.Fatal("different keys, same id")
	}
	u, err := uuid.Parse(a)
	if err != nil {
		t.Fatal(err)
	}
	if u.Version() != 8 || u.Variant() != uuid.RFC4122 {
		t.Fatalf("version %d variant %v, want 8 and RFC 4122/9562", u.Version(), u.Variant())
	}
	// Pinned: changing the derivation would let a client retrying across an
	// upgrade create a second order.
	if want := pinnedOrderID; a != want {
		t.Fatalf("OrderIDForKey(key-1) = %s, want %s", a, want)
	}
}

func TestListenAndServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t)
	h := e.srv.Config.Handler
	addr, done, err := wimshttp.ListenAndServe(ctx, "127.0.0.1:0", h, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Get("http://" + addr.String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", res.StatusCode)
	}

	t.Run("ErrAddrInUse", func(t *testing.T) {
		if _, _, err := wimshttp.ListenAndServe(ctx, addr.String(), h, nil); err == nil {
			t.Fatal("second bind to the same address succeeded")
		}
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no shutdown after ctx was cancelled")
	}
	if _, ok := <-done; ok {
		t.Fatal("done not closed")
	}
	if _, err := http.Get("http://" + addr.String() + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

// pinnedOrderID is OrderIDForKey("key-1") as first released.
const pinnedOrderID = "5ab9f0a8-77be-838b-927e-d64e508a0ea3"
