package wims

import (
	"slices"
	"testing"
)

// FuzzDecodeOrderLines: whatever the lines column holds, decoding never
// panics, and lines that decode and validate survive EncodeOrderLines and
// DecodeOrderLines unchanged (a one-line order as NULL).
func FuzzDecodeOrderLines(f *testing.F) {
	for _, s := range []string{
		`[{"sku":"A","quantity":1},{"sku":"B","quantity":2}]`, `[{"sku":"A","quantity":1}]`, `[]`, `null`,
		`[{"sku":"A","quantity":1},{"sku":"A","quantity":1}]`, `{"sku":"A"}`, `[{"sku":1}]`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, col string) {
		o := Order{ID: "o", CustomerID: "c", SKU: "X", Quantity: 1}
		if err := DecodeOrderLines(&o, &col); err != nil || len(o.Lines) == 0 {
			return
		}
		o.SKU, o.Quantity = "", 0
		if o.Validate() != nil {
			return
		}
		o = o.WithLines()
		enc, err := EncodeOrderLines(o)
		if err != nil {
			t.Fatal(err)
		}
		back := Order{ID: o.ID, SKU: o.SKU, Quantity: o.Quantity}
		if err := DecodeOrderLines(&back, enc); err != nil || !slices.Equal(back.Lines, o.Lines) {
			t.Fatalf("%q: lines %v came back as %v (%v)", col, o.Lines, back.Lines, err)
		}
	})
}

// TestValidateLines: the fields a line's error names, and SKU and Quantity
// beside Lines accepted only as WithLines sets them.
func TestValidateLines(t *testing.T) {
	l := func(sku string, q int64) OrderLine { return OrderLine{SKU: sku, Quantity: q} }
	two := []OrderLine{l("A", 1), l("B", 2)}
	for _, tt := range []struct {
		o     Order
		field string
	}{
		{Order{CustomerID: "c", Lines: two}, ""},
		{Order{CustomerID: "c", Lines: two}.WithLines(), ""},
		{Order{CustomerID: "c", Lines: two, SKU: "A", Quantity: 1}, "lines"},
		{Order{CustomerID: "c", Lines: two, SKU: "B", Quantity: 3}, "lines"},
		{Order{CustomerID: "c", Lines: []OrderLine{l("A", 1), l("A", 1)}}, "lines[1].sku"},
		{Order{CustomerID: "c", Lines: []OrderLine{l("", 1)}}, "lines[0].sku"},
		{Order{CustomerID: "c", Lines: []OrderLine{l("A", MaxOrderQuantity+1)}}, "lines[0].quantity"},
		{Order{Lines: two}, "customerId"},
	} {
		if got := ErrorField(tt.o.Validate()); got != tt.field {
			t.Errorf("%+v: error field %q, want %q", tt.o, got, tt.field)
		}
	}
}
