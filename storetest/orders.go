package storetest

import (
	"slices"
	"testing"

	"github.com/wims/wims"
)

// testOrders covers CreateOrder, GetOrder, ReserveStock and CompletePayment,
// including that every transition is idempotent.
func testOrders(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("CreateOrder", func(t *testing.T) {
		t.Run("OK", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			in := newOrder("o-1", sku, 3)
			o, created, err := s.CreateOrder(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if !created {
				t.Fatal("created = false for a new order")
			}
			if o.ID != in.ID || o.CustomerID != in.CustomerID || o.SKU != in.SKU || o.Quantity != in.Quantity {
				t.Fatalf("CreateOrder = %+v, want the fields of %+v", o, in)
			}
			if o.Status != wims.OrderPending || o.Reason != "" {
				t.Fatalf("new order status %q reason %q, want PENDING and none", o.Status, o.Reason)
			}
			if o.CreatedAt.IsZero() || !o.CreatedAt.Equal(o.UpdatedAt) {
				t.Fatalf("CreatedAt %v UpdatedAt %v, want equal and set", o.CreatedAt, o.UpdatedAt)
			}
			read, err := s.GetOrder(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			if !read.Equal(o) {
				t.Fatalf("GetOrder = %+v, want %+v", read, o)
			}
			mustQuantity(t, s, sku, 10) // creating reserves nothing
		})
		t.Run("StatusIgnored", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			in := newOrder("o-1", sku, 3)
			in.Status, in.Reason = wims.OrderPaid, "forged"
			o, _, err := s.CreateOrder(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != wims.OrderPending || o.Reason != "" {
				t.Fatalf("status %q reason %q, want PENDING and none", o.Status, o.Reason)
			}
		})
		t.Run("Idempotent", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			first := mustCreateOrder(t, s, "o-1", sku, 3)
			seq := lastSeq(t, s)
			again, created, err := s.CreateOrder(t.Context(), newOrder("o-1", sku, 9))
			if err != nil {
				t.Fatal(err)
			}
			if created {
				t.Fatal("created = true for an existing order id")
			}
			if !again.Equal(first) {
				t.Fatalf("second CreateOrder = %+v, want the first order %+v", again, first)
			}
			mustNoChangesAfter(t, s, seq)
		})
		t.Run("ErrUnknownSKU", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			_, _, err := s.CreateOrder(t.Context(), newOrder("o-1", "NOPE", 1))
			mustField(t, err, "sku")
			_, err = s.GetOrder(t.Context(), "o-1")
			mustCode(t, err, wims.ENOTFOUND)
			mustNoChangesAfter(t, s, 0)
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			seq := lastSeq(t, s)
			for _, tc := range []struct {
				order wims.Order
				field string
			}{
				{wims.Order{ID: "", CustomerID: "c", SKU: sku, Quantity: 1}, "orderId"},
				{wims.Order{ID: "o", CustomerID: "", SKU: sku, Quantity: 1}, "customerId"},
				{wims.Order{ID: "o", CustomerID: "c", SKU: "", Quantity: 1}, "sku"},
				{wims.Order{ID: "o", CustomerID: "c", SKU: sku, Quantity: 0}, "quantity"},
				{wims.Order{ID: "o", CustomerID: "c", SKU: sku, Quantity: wims.MaxOrderQuantity + 1}, "quantity"},
			} {
				_, _, err := s.CreateOrder(t.Context(), tc.order)
				mustField(t, err, tc.field)
			}
			mustNoChangesAfter(t, s, seq)
		})
	})

	t.Run("GetOrder/ErrNotFound", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		_, err := s.GetOrder(t.Context(), "nope")
		mustCode(t, err, wims.ENOTFOUND)
	})

	t.Run("ReserveStock", func(t *testing.T) {
		t.Run("Reserved", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			created := mustCreateOrder(t, s, "o-1", sku, 4)
			o, err := s.ReserveStock(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != wims.OrderReserved || o.Reason != "" {
				t.Fatalf("status %q reason %q, want RESERVED", o.Status, o.Reason)
			}
			if !o.CreatedAt.Equal(created.CreatedAt) || o.UpdatedAt.Before(created.UpdatedAt) {
				t.Fatalf("times: created %v→%v, updated %v→%v", created.CreatedAt, o.CreatedAt, created.UpdatedAt, o.UpdatedAt)
			}
			mustQuantity(t, s, sku, 6)
			read, err := s.GetOrder(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			if !read.Equal(o) {
				t.Fatalf("GetOrder = %+v, ReserveStock returned %+v", read, o)
			}
		})
		t.Run("ExactStock", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 4)
			mustCreateOrder(t, s, "o-1", sku, 4)
			o, err := s.ReserveStock(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != wims.OrderReserved {
				t.Fatalf("status %q, want RESERVED when stock equals the quantity", o.Status)
			}
			mustQuantity(t, s, sku, 0)
		})
		t.Run("Rejected", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 5)
			mustCreateOrder(t, s, "o-1", sku, 10)
			seq := lastSeq(t, s)
			o, err := s.ReserveStock(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			if want := "insufficient stock: requested 10, available 5"; o.Status != wims.OrderRejected || o.Reason != want {
				t.Fatalf("status %q reason %q, want REJECTED %q", o.Status, o.Reason, want)
			}
			mustQuantity(t, s, sku, 5)
			cs := changesAfter(t, s, seq)
			if len(cs) != 1 || cs[0].Table != wims.TableOrders || cs[0].EventType != wims.ChangeUpdate {
				t.Fatalf("changes %v, want one orders UPDATE", summary(cs))
			}
		})
		t.Run("Idempotent", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 10)
			mustCreateOrder(t, s, "o-1", sku, 4)
			mustCreateOrder(t, s, "o-2", sku, 40)
			first1, err := s.ReserveStock(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			first2, err := s.ReserveStock(t.Context(), "o-2")
			if err != nil {
				t.Fatal(err)
			}
			seq := lastSeq(t, s)
			for _, want := range []wims.Order{first1, first2} {
				again, err := s.ReserveStock(t.Context(), want.ID)
				if err != nil {
					t.Fatal(err)
				}
				if !again.Equal(want) {
					t.Fatalf("second ReserveStock = %+v, want %+v", again, want)
				}
			}
			mustQuantity(t, s, sku, 6)
			mustNoChangesAfter(t, s, seq)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			_, err := s.ReserveStock(t.Context(), "nope")
			mustCode(t, err, wims.ENOTFOUND)
		})
	})

	t.Run("CompletePayment", func(t *testing.T) {
		// reserved makes a store with 10 in stock and order o-1 for 4 RESERVED.
		reserved := func(t *testing.T) wims.Store {
			s := open(t)
			mustPutItem(t, s, sku, 10)
			mustCreateOrder(t, s, "o-1", sku, 4)
			if _, err := s.ReserveStock(t.Context(), "o-1"); err != nil {
				t.Fatal(err)
			}
			return s
		}
		t.Run("Paid", func(t *testing.T) {
			t.Parallel()
			s := reserved(t)
			seq := lastSeq(t, s)
			o, err := s.CompletePayment(t.Context(), "o-1", true, "")
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != wims.OrderPaid {
				t.Fatalf("status %q, want PAID", o.Status)
			}
			mustQuantity(t, s, sku, 6)
			cs := changesAfter(t, s, seq)
			if len(cs) != 1 || cs[0].Table != wims.TableOrders || cs[0].EventType != wims.ChangeUpdate {
				t.Fatalf("changes %v, want one orders UPDATE", summary(cs))
			}
			read, err := s.GetOrder(t.Context(), "o-1")
			if err != nil {
				t.Fatal(err)
			}
			if !read.Equal(o) {
				t.Fatalf("GetOrder = %+v, CompletePayment returned %+v", read, o)
			}
		})
		t.Run("Failed", func(t *testing.T) {
			t.Parallel()
			s := reserved(t)
			seq := lastSeq(t, s)
			o, err := s.CompletePayment(t.Context(), "o-1", false, "card declined")
			if err != nil {
				t.Fatal(err)
			}
			if o.Status != wims.OrderPaymentFailed || o.Reason != "card declined" {
				t.Fatalf("status %q reason %q, want PAYMENT_FAILED and the reason", o.Status, o.Reason)
			}
			mustQuantity(t, s, sku, 10) // released
			got := summary(changesAfter(t, s, seq))
			if len(got) != 2 || !slices.Contains(got, "inventory UPDATE") || !slices.Contains(got, "orders UPDATE") {
				t.Fatalf("changes %v, want one inventory UPDATE and one orders UPDATE", got)
			}
		})
		t.Run("Idempotent", func(t *testing.T) {
			t.Parallel()
			for _, paid := range []bool{true, false} {
				s := reserved(t)
				first, err := s.CompletePayment(t.Context(), "o-1", paid, "declined")
				if err != nil {
					t.Fatal(err)
				}
				seq := lastSeq(t, s)
				for _, again := range []bool{paid, !paid} {
					o, err := s.CompletePayment(t.Context(), "o-1", again, "other")
					if err != nil {
						t.Fatal(err)
					}
					if !o.Equal(first) {
						t.Fatalf("repeated CompletePayment = %+v, want %+v", o, first)
					}
				}
				want := int64(6)
				if !paid {
					want = 10
				}
				mustQuantity(t, s, sku, want)
				mustNoChangesAfter(t, s, seq)
			}
		})
		t.Run("NotReserved", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			mustPutItem(t, s, sku, 1)
			pending := mustCreateOrder(t, s, "pending", sku, 1)
			mustCreateOrder(t, s, "rejected", sku, 2)
			rejected, err := s.ReserveStock(t.Context(), "rejected")
			if err != nil {
				t.Fatal(err)
			}
			seq := lastSeq(t, s)
			for _, want := range []wims.Order{pending, rejected} {
				for _, paid := range []bool{true, false} {
					o, err := s.CompletePayment(t.Context(), want.ID, paid, "x")
					if err != nil {
						t.Fatal(err)
					}
					if !o.Equal(want) {
						t.Fatalf("CompletePayment on %s order = %+v, want it unchanged %+v", want.Status, o, want)
					}
				}
			}
			mustQuantity(t, s, sku, 1)
			mustNoChangesAfter(t, s, seq)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			t.Parallel()
			s := open(t)
			_, err := s.CompletePayment(t.Context(), "nope", true, "")
			mustCode(t, err, wims.ENOTFOUND)
		})
	})
}
