package console

import "testing"

func TestConsoleGroup(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 5: "5", 999: "999", 1000: "1,000", 999995: "999,995", 1000000: "1,000,000", -1001: "-1,001"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}
