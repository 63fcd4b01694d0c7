package batchloop_test

import (
	"slices"
	"testing"

	"github.com/wims/wims/internal/batchloop"
)

// Queued operations are committed in order, in batches of at most max,
// and everything queued before the close is committed.
func TestRunBatchesAndFlushesOnClose(t *testing.T) {
	ops := make(chan int, 10)
	for i := range 10 {
		ops <- i
	}
	close(ops)
	var got []int
	var sizes []int
	batchloop.Run(ops, 4, func(b []int) {
		got = append(got, b...)
		sizes = append(sizes, len(b))
	})
	if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("committed %v", got)
	}
	for _, n := range sizes {
		if n < 1 || n > 4 {
			t.Fatalf("batch sizes %v, want 1..4", sizes)
		}
	}
}
