package notify_test

import (
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/notify"
)

// FuzzFromEvent: any bytes give notifications or an error, never a panic, and
// every notification is a real crossing with a stable id.
func FuzzFromEvent(f *testing.F) {
	f.Add([]byte(`{"id":"e","detail":{"data":{"table":"inventory","eventType":"UPDATE","OldImage":{"sku":"A","quantity":150,"lowStockThreshold":100},"NewImage":{"sku":"A","quantity":0,"lowStockThreshold":100}}}}`))
	f.Add([]byte(`{"id":"e","detail":{"data":{"table":"inventory","eventType":"UPDATE","NewImage":null}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		notes, err := notify.FromEvent(data)
		if err != nil {
			return
		}
		for _, n := range notes {
			if n.ID == "" || (n.Kind != wims.LowStock && n.Kind != wims.OutOfStock && n.Kind != wims.Overstock) {
				t.Fatalf("notification %+v", n)
			}
		}
	})
}
