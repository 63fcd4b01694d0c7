package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wims/wims"
)

// testQueries covers ListOrders (paging, filters, cursor stability, bad
// input) and OrderHistory.
func testQueries(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("ListOrdersPaging", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 1000)
		var all []wims.Order
		for i := range 57 {
			all = append(all, mustCreateOrder(t, s, fmt.Sprintf("o-%03d", i), sku, 1))
		}
		want := newestFirst(all)
		for _, limit := range []int{1, 7, 10, 57, 100} {
			got := listAll(t, s, wims.OrderFilter{Limit: limit})
			if !slices.EqualFunc(got, want, sameOrder) {
				t.Fatalf("limit %d: listed %v, want %v", limit, ids(got), ids(want))
			}
		}
		// The default limit applies when none is given.
		page, err := s.ListOrders(t.Context(), wims.OrderFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Orders) != wims.DefaultOrderLimit || page.NextCursor == "" {
			t.Fatalf("default page: %d orders, next %q", len(page.Orders), page.NextCursor)
		}
	})
	t.Run("CountOrders", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		counts, err := s.CountOrders(t.Context())
		if err != nil || len(counts) != 0 {
			t.Fatalf("empty store: %v, %v", counts, err)
		}
		mustPutItem(t, s, sku, 10)
		for i := range 7 {
			mustCreateOrder(t, s, fmt.Sprintf("c-%d", i), sku, 1)
		}
		for _, id := range []string{"c-0", "c-1", "c-2"} {
			if _, err := s.ReserveStock(t.Context(), id); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CompletePayment(t.Context(), "c-0", true, ""); err != nil {
			t.Fatal(err)
		}
		big := mustCreateOrder(t, s, "c-big", sku, 100)
		if _, err := s.ReserveStock(t.Context(), big.ID); err != nil {
			t.Fatal(err)
		}
		counts, err = s.CountOrders(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := map[wims.OrderStatus]int64{wims.OrderPending: 4, wims.OrderReserved: 2, wims.OrderPaid: 1, wims.OrderRejected: 1}
		if fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("counts = %v, want %v", counts, want)
		}
	})
	t.Run("ListOrdersEmpty", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		page, err := s.ListOrders(t.Context(), wims.OrderFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if page.Orders == nil || len(page.Orders) != 0 || page.NextCursor != "" {
			t.Fatalf("empty store: %+v, want [] and no cursor", page)
		}
	})
	t.Run("ListOrdersFilters", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 5)
		var a, rejected []wims.Order
		for i := range 6 {
			o := newOrder(fmt.Sprintf("o-%d", i), sku, 2)
			if i%2 == 0 {
				o.CustomerID = "alice"
			}
			created, _, err := s.CreateOrder(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			// Stock 5 covers the first two orders of 2; the rest are rejected.
			r, err := s.ReserveStock(t.Context(), created.ID)
			if err != nil {
				t.Fatal(err)
			}
			if o.CustomerID == "alice" {
				a = append(a, r)
			}
			if r.Status == wims.OrderRejected {
				rejected = append(rejected, r)
			}
		}
		got := listAll(t, s, wims.OrderFilter{CustomerID: "alice", Limit: 2})
		if !slices.EqualFunc(got, newestFirst(a), sameOrder) {
			t.Fatalf("customer alice: %v, want %v", ids(got), ids(newestFirst(a)))
		}
		got = listAll(t, s, wims.OrderFilter{Status: wims.OrderRejected, Limit: 3})
		if !slices.EqualFunc(got, newestFirst(rejected), sameOrder) || len(got) != 4 {
			t.Fatalf("status REJECTED: %v, want %v", ids(got), ids(newestFirst(rejected)))
		}
		var both []wims.Order
		for _, o := range rejected {
			if o.CustomerID == "alice" {
				both = append(both, o)
			}
		}
		got = listAll(t, s, wims.OrderFilter{CustomerID: "alice", Status: wims.OrderRejected, Limit: 1})
		if !slices.EqualFunc(got, newestFirst(both), sameOrder) {
			t.Fatalf("alice REJECTED: %v, want %v", ids(got), ids(newestFirst(both)))
		}
		got = listAll(t, s, wims.OrderFilter{CustomerID: "nobody"})
		if len(got) != 0 {
			t.Fatalf("unknown customer: %v", ids(got))
		}
	})
	t.Run("ListOrdersBySKU", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 100)
		mustPutItem(t, s, "OTHER-SKU", 100)
		var want, wantAlice []wims.Order
		for i := range 7 {
			o := newOrder(fmt.Sprintf("k-%d", i), sku, 1)
			if i%3 == 0 {
				o.SKU = "OTHER-SKU"
			}
			if i%2 == 0 {
				o.CustomerID = "alice"
			}
			created, _, err := s.CreateOrder(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			if created.SKU == sku {
				want = append(want, created)
				if created.CustomerID == "alice" {
					wantAlice = append(wantAlice, created)
				}
			}
		}
		if got := listAll(t, s, wims.OrderFilter{SKU: sku, Limit: 2}); !slices.EqualFunc(got, newestFirst(want), sameOrder) {
			t.Fatalf("sku %s: %v, want %v", sku, ids(got), ids(newestFirst(want)))
		}
		if got := listAll(t, s, wims.OrderFilter{SKU: sku, CustomerID: "alice", Status: wims.OrderPending}); !slices.EqualFunc(got, newestFirst(wantAlice), sameOrder) {
			t.Fatalf("sku %s, alice, PENDING: %v, want %v", sku, ids(got), ids(newestFirst(wantAlice)))
		}
		if got := listAll(t, s, wims.OrderFilter{SKU: "NO-SUCH"}); len(got) != 0 {
			t.Fatalf("unknown SKU: %v", ids(got))
		}
		if _, err := s.ListOrders(t.Context(), wims.OrderFilter{SKU: "bad sku"}); wims.ErrorCode(err) != wims.EINVALID || wims.ErrorField(err) != "sku" {
			t.Fatalf("bad SKU: %v, want EINVALID on sku", err)
		}
	})
	t.Run("ListOrdersCursorStable", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 1000)
		var first []wims.Order
		for i := range 10 {
			first = append(first, mustCreateOrder(t, s, fmt.Sprintf("a-%02d", i), sku, 1))
		}
		page, err := s.ListOrders(t.Context(), wims.OrderFilter{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		// Orders created after the first page was read, and status changes,
		// neither repeat nor skip anything on the pages that follow.
		for i := range 5 {
			mustCreateOrder(t, s, fmt.Sprintf("b-%02d", i), sku, 1)
		}
		if _, err := s.ReserveStock(t.Context(), "a-00"); err != nil {
			t.Fatal(err)
		}
		rest := listAll(t, s, wims.OrderFilter{Limit: 4, Cursor: page.NextCursor})
		got := append(page.Orders, rest...)
		want := newestFirst(first)
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("pages = %v, want %v", ids(got), ids(want))
		}
	})
	t.Run("ListOrdersTies", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 1000)
		// A cursor made by hand at one instant pages through orders created
		// in the same microsecond by id, whatever the clock did.
		for i := range 5 {
			mustCreateOrder(t, s, fmt.Sprintf("t-%d", i), sku, 1)
		}
		all := listAll(t, s, wims.OrderFilter{Limit: 500})
		last := all[2]
		page, err := s.ListOrders(t.Context(), wims.OrderFilter{Limit: 500, Cursor: wims.EncodeOrderCursor(last.CreatedAt, last.ID)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(page.Orders), ids(all[3:])) {
			t.Fatalf("after %s: %v, want %v", last.ID, ids(page.Orders), ids(all[3:]))
		}
	})
	t.Run("ListOrdersBadInput", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, c := range []string{"x", "o1.", "o1.!!!", "o1." + strings.Repeat("A", 600), "o1.MTIz"} {
			_, err := s.ListOrders(t.Context(), wims.OrderFilter{Cursor: c})
			mustField(t, err, "cursor")
		}
		_, err := s.ListOrders(t.Context(), wims.OrderFilter{Status: "LOST"})
		mustField(t, err, "status")
		_, err = s.ListOrders(t.Context(), wims.OrderFilter{Limit: wims.MaxOrderLimit + 1})
		mustField(t, err, "limit")
		_, err = s.ListOrders(t.Context(), wims.OrderFilter{Limit: -1})
		mustField(t, err, "limit")
	})
	t.Run("OrderHistory", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPutItem(t, s, sku, 3)
		paid := mustCreateOrder(t, s, "paid", sku, 1)
		failed := mustCreateOrder(t, s, "failed", sku, 1)
		rejected := mustCreateOrder(t, s, "rejected", sku, 5)
		steps := func(id string, fns ...func() (wims.Order, error)) []wims.Order {
			var out []wims.Order
			for _, f := range fns {
				o, err := f()
				if err != nil {
					t.Fatalf("%s: %v", id, err)
				}
				out = append(out, o)
			}
			return out
		}
		ctx := t.Context()
		p := steps("paid",
			func() (wims.Order, error) { return s.ReserveStock(ctx, "paid") },
			func() (wims.Order, error) { return s.ReserveStock(ctx, "paid") }, // redelivered: no entry
			func() (wims.Order, error) { return s.CompletePayment(ctx, "paid", true, "") },
			func() (wims.Order, error) { return s.CompletePayment(ctx, "paid", false, "late") }, // no entry
		)
		f := steps("failed",
			func() (wims.Order, error) { return s.ReserveStock(ctx, "failed") },
			func() (wims.Order, error) { return s.CompletePayment(ctx, "failed", false, "card declined") },
		)
		r := steps("rejected", func() (wims.Order, error) { return s.ReserveStock(ctx, "rejected") })
		for _, tc := range []struct {
			id   string
			want []wims.StatusChange
		}{
			{"paid", []wims.StatusChange{
				{Status: wims.OrderPending, At: paid.CreatedAt},
				{Status: wims.OrderReserved, At: p[0].UpdatedAt},
				{Status: wims.OrderPaid, At: p[2].UpdatedAt},
			}},
			{"failed", []wims.StatusChange{
				{Status: wims.OrderPending, At: failed.CreatedAt},
				{Status: wims.OrderReserved, At: f[0].UpdatedAt},
				{Status: wims.OrderPaymentFailed, Reason: "card declined", At: f[1].UpdatedAt},
			}},
			{"rejected", []wims.StatusChange{
				{Status: wims.OrderPending, At: rejected.CreatedAt},
				{Status: wims.OrderRejected, Reason: r[0].Reason, At: r[0].UpdatedAt},
			}},
		} {
			got, err := s.OrderHistory(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b wims.StatusChange) bool {
				return a.Status == b.Status && a.Reason == b.Reason && a.At.Equal(b.At)
			}) {
				t.Fatalf("OrderHistory(%s) = %+v, want %+v", tc.id, got, tc.want)
			}
		}
		if r[0].Reason == "" {
			t.Fatal("rejected order has no reason")
		}
		_, err := s.OrderHistory(ctx, "nope")
		mustCode(t, err, wims.ENOTFOUND)
	})
}

// listAll follows cursors from f until the last page, checking each page's
// size against f.Limit.
func listAll(t *testing.T, s wims.Store, f wims.OrderFilter) []wims.Order {
	t.Helper()
	var out []wims.Order
	for range 1000 {
		page, err := s.ListOrders(t.Context(), f)
		if err != nil {
			t.Fatalf("ListOrders(%+v): %v", f, err)
		}
		if f.Limit > 0 && len(page.Orders) > f.Limit {
			t.Fatalf("page of %d orders for limit %d", len(page.Orders), f.Limit)
		}
		out = append(out, page.Orders...)
		if page.NextCursor == "" {
			return out
		}
		if len(page.Orders) == 0 {
			t.Fatalf("empty page with a next cursor")
		}
		f.Cursor = page.NextCursor
	}
	t.Fatal("listing did not end")
	return nil
}

// newestFirst sorts a copy of orders as ListOrders does.
func newestFirst(orders []wims.Order) []wims.Order {
	out := slices.Clone(orders)
	slices.SortFunc(out, func(a, b wims.Order) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

func sameOrder(a, b wims.Order) bool {
	return a.ID == b.ID && a.Status == b.Status && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt)
}

func ids(orders []wims.Order) []string {
	out := make([]string, len(orders))
	for i, o := range orders {
		out[i] = o.ID
	}
	return out
}
