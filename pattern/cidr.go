package pattern

import (
	"net/netip"
	"strconv"
	"strings"
)

// parseCIDR validates a cidr operand. Following event-ruler (CIDR.java), which
// is what AWS runs: exactly one '/', integer mask bits, a standard IPv4 or
// IPv6 address, and a mask of 0-31 (IPv4) or 0-127 (IPv6): /32 and /128 are
// rejected (use an exact string match for a single host). Host bits may be set;
// they are masked off.
func parseCIDR(s string) (netip.Prefix, string) {
	if strings.Count(s, "/") != 1 {
		return netip.Prefix{}, "cidr: malformed CIDR, one '/' required"
	}
	ip, bits, _ := strings.Cut(s, "/")
	if bits == "" || len(bits) > 4 || strings.Trim(bits, "0123456789") != "" {
		return netip.Prefix{}, "cidr: malformed CIDR, mask bits must be an integer"
	}
	n, _ := strconv.Atoi(bits)
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, "cidr: nonstandard IP address: " + ip
	}
	if addr.Is4() && n >= 32 {
		return netip.Prefix{}, "cidr: IPv4 mask bits must be < 32"
	}
	if addr.Is6() && n >= 128 {
		return netip.Prefix{}, "cidr: IPv6 mask bits must be < 128"
	}
	p, err := addr.Prefix(n)
	if err != nil {
		return netip.Prefix{}, "cidr: malformed CIDR, mask bits must be an integer"
	}
	return p, ""
}

// parseEventIP parses an event string as an IP address. Parsing (rather than
// comparing text) makes uncompressed IPv6 match. IPv4 text is parsed without
// allocating.
func parseEventIP(v []byte) (netip.Addr, bool) {
	if len(v) < 2 || len(v) > 64 {
		return netip.Addr{}, false
	}
	if bytesIndexByte(v, ':') < 0 {
		return parseIPv4(v)
	}
	a, err := netip.ParseAddr(string(v))
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// parseIPv4 parses dotted-quad text with the same strictness as
// netip.ParseAddr (four fields, no leading zeros) but without allocating.
func parseIPv4(v []byte) (netip.Addr, bool) {
	var ip [4]byte
	field, digits, val := 0, 0, 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || v[i] == '.' {
			if digits == 0 || field > 3 {
				return netip.Addr{}, false
			}
			ip[field] = byte(val)
			field++
			digits, val = 0, 0
			continue
		}
		c := v[i]
		if c < '0' || c > '9' || (digits == 1 && val == 0) {
			return netip.Addr{}, false
		}
		val = val*10 + int(c-'0')
		digits++
		if val > 255 {
			return netip.Addr{}, false
		}
	}
	if field != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

func bytesIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// maskAddr is a.Prefix(bits) without the allocation netip does there.
func maskAddr(a netip.Addr, bits int) netip.Prefix {
	if a.Is4() {
		if bits > 32 {
			return netip.Prefix{}
		}
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		if bits < 32 {
			v &^= 0xffffffff >> bits
		}
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
	}
	b := a.As16()
	for i := range b {
		switch keep := bits - 8*i; {
		case keep <= 0:
			b[i] = 0
		case keep < 8:
			b[i] &^= 0xff >> keep
		}
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), bits)
}
