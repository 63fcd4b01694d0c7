package payments

import "testing"

func TestBackoff(t *testing.T) {
	for n := 1; n <= 20; n++ {
		ceiling := min(minBackoff<<(n-1), maxBackoff)
		if n > 10 {
			ceiling = maxBackoff
		}
		for range 50 {
			d := backoff(n, maxBackoff)
			if d < minBackoff || d > ceiling || d < ceiling/2 {
				t.Fatalf("backoff(%d)=%s, want within [%s, %s]", n, d, max(minBackoff, ceiling/2), ceiling)
			}
		}
	}
}
