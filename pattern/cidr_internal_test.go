package pattern

import (
	"net/netip"
	"testing"
)

func TestMaskAddr(t *testing.T) {
	for _, s := range []string{"10.1.2.3", "255.255.255.255", "2001:db8::ff:1", "::1"} {
		a := netip.MustParseAddr(s)
		for bits := 0; bits <= a.BitLen(); bits++ {
			want, _ := a.Prefix(bits)
			if got := maskAddr(a, bits); got != want {
				t.Fatalf("maskAddr(%s,%d) = %v, want %v", s, bits, got, want)
			}
		}
	}
}
