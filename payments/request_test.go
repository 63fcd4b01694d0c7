package payments_test

import (
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/payments"
)

func TestEncodeDecodeRequest(t *testing.T) {
	o := wims.Order{ID: "o1", CustomerID: "123", SKU: "MACGUFFIN-LX", Quantity: 3, Status: wims.OrderReserved}
	b, err := payments.EncodeRequest(o)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"orderId":"o1","customerId":"123","sku":"MACGUFFIN-LX","quantity":3,"lines":[{"sku":"MACGUFFIN-LX","quantity":3}]}`; got != want {
		t.Fatalf("EncodeRequest=%s, want %s", got, want)
	}
	req, err := payments.DecodeRequest(b)
	if err != nil || !req.Equal(wims.PaymentRequest{OrderID: "o1", CustomerID: "123", SKU: "MACGUFFIN-LX", Quantity: 3,
		Lines: []wims.OrderLine{{SKU: "MACGUFFIN-LX", Quantity: 3}}}) {
		t.Fatalf("DecodeRequest=%+v, %v", req, err)
	}
}

func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{`{"orderId":"o1","customerId":"1","sku":"A","quantity":1}`, `{}`, `[]`, `{"orderId":"a"} x`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := payments.DecodeRequest(b)
		if err == nil && req.OrderID == "" {
			t.Fatalf("DecodeRequest(%q) accepted a request without orderId", b)
		}
		if err != nil && wims.ErrorCode(err) != wims.EINVALID {
			t.Fatalf("DecodeRequest(%q): err=%v, want EINVALID", b, err)
		}
	})
}

// TestEncodeRequestLines: a multi-line order's request carries its lines,
// with sku the first line's and quantity the total.
func TestEncodeRequestLines(t *testing.T) {
	o := wims.Order{ID: "o1", CustomerID: "123", Lines: []wims.OrderLine{{SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 5}}}
	b, err := payments.EncodeRequest(o.WithLines())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"orderId":"o1","customerId":"123","sku":"B","quantity":7,"lines":[{"sku":"B","quantity":2},{"sku":"A","quantity":5}]}`; got != want {
		t.Fatalf("EncodeRequest=%s, want %s", got, want)
	}
}
