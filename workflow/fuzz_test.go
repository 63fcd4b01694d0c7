package workflow_test

import (
	"testing"

	"github.com/wims/wims/workflow"
)

// FuzzOrderIDFromEvent: any bytes give an order id or an error, never a panic.
func FuzzOrderIDFromEvent(f *testing.F) {
	f.Add([]byte(`{"detail":{"data":{"table":"orders","key":{"orderId":"o1"}}}}`))
	f.Add([]byte(`{"detail":{"data":{"table":"orders","key":{"orderId":7}}}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := workflow.OrderIDFromEvent(data)
		if err == nil && id == "" {
			t.Fatal("no error and no id")
		}
	})
}
