package pattern

import (
	"math"
	"strconv"
)

// Numbers, in patterns and events, are normalised to float64 so that 300,
// 300.0 and 3e2 compare equal (event-ruler and AWS behaviour; see the package
// doc). Events are parsed without allocating: a Clinger fast path covers the
// usual short decimals exactly, and everything else goes to strconv.

var pow10tab = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber converts a JSON number (already validated by scanNumber) to
// float64. Out-of-range values become ±Inf, as strconv does. Negative zero is
// returned as +0 so that map lookups and comparisons need no special case.
func parseNumber(b []byte) float64 {
	i := 0
	neg := false
	if b[0] == '-' {
		neg = true
		i = 1
	}
	var m uint64
	digits := 0 // significant digits accumulated in m
	exp := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if m == 0 && b[i] == '0' {
			continue
		}
		if digits >= 19 {
			return parseSlow(b)
		}
		m = m*10 + uint64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		for i++; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			exp--
			if m == 0 && b[i] == '0' {
				continue
			}
			if digits >= 19 {
				return parseSlow(b)
			}
			m = m*10 + uint64(b[i]-'0')
			digits++
		}
	}
	if i < len(b) { // exponent
		i++
		eneg := false
		if b[i] == '+' || b[i] == '-' {
			eneg = b[i] == '-'
			i++
		}
		e := 0
		for ; i < len(b); i++ {
			if e > 10000 {
				return parseSlow(b)
			}
			e = e*10 + int(b[i]-'0')
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if m == 0 {
		return 0
	}
	if m > 1<<53 || exp < -22 || exp > 22 {
		return parseSlow(b)
	}
	f := float64(m)
	if exp < 0 {
		f /= pow10tab[-exp]
	} else {
		f *= pow10tab[exp]
	}
	if neg {
		f = -f
	}
	return f
}

func parseSlow(b []byte) float64 {
	f, _ := strconv.ParseFloat(string(b), 64) // range errors give ±Inf, which we keep
	if f == 0 {
		return 0
	}
	return f
}

// decimalDigits splits a decimal number literal into its significant digits
// (no leading or trailing zeros) and the power of ten of the last digit.
func decimalDigits(lit string) (neg bool, digits string, exp int) {
	i := 0
	if i < len(lit) && (lit[i] == '-' || lit[i] == '+') {
		neg = lit[i] == '-'
		i++
	}
	buf := make([]byte, 0, len(lit))
	for ; i < len(lit) && lit[i] >= '0' && lit[i] <= '9'; i++ {
		buf = append(buf, lit[i])
	}
	if i < len(lit) && lit[i] == '.' {
		for i++; i < len(lit) && lit[i] >= '0' && lit[i] <= '9'; i++ {
			buf = append(buf, lit[i])
			exp--
		}
	}
	if i < len(lit) && (lit[i] == 'e' || lit[i] == 'E') {
		e, _ := strconv.Atoi(lit[i+1:])
		exp += e
	}
	for len(buf) > 0 && buf[0] == '0' {
		buf = buf[1:]
	}
	for len(buf) > 0 && buf[len(buf)-1] == '0' {
		buf = buf[:len(buf)-1]
		exp++
	}
	if len(buf) == 0 {
		return false, "", 0
	}
	return neg, string(buf), exp
}

// exactDouble parses a pattern number literal for the numeric operator. Like
// event-ruler it refuses literals that do not survive a round trip through a
// double (too many digits, or out of range), rather than silently comparing
// against a different number.
func exactDouble(lit string) (float64, bool) {
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	n1, d1, e1 := decimalDigits(lit)
	n2, d2, e2 := decimalDigits(strconv.FormatFloat(f, 'e', -1, 64))
	if n1 != n2 || d1 != d2 || e1 != e2 {
		return 0, false
	}
	if f == 0 {
		f = 0
	}
	return f, true
}
