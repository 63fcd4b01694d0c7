package pattern

import (
	"bytes"
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
	f, _ := parseNumberShort(b)
	return f
}

// parseNumberShort is parseNumber that also reports short: the literal has at
// most 15 significant digits and took the exact fast path, so (DBL_DIG) it is
// the shortest form of its double and needs no isExactDouble check.
func parseNumberShort(b []byte) (f float64, short bool) {
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
			return parseSlow(b), false
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
				return parseSlow(b), false
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
				return parseSlow(b), false
			}
			e = e*10 + int(b[i]-'0')
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if m == 0 {
		return 0, true
	}
	if m > 1<<53 || exp < -22 || exp > 22 {
		return parseSlow(b), false
	}
	f = float64(m)
	if exp < 0 {
		f /= pow10tab[-exp]
	} else {
		f *= pow10tab[exp]
	}
	if neg {
		f = -f
	}
	return f, digits <= 15
}

func parseSlow(b []byte) float64 {
	// strconv reports overflow with an allocated *NumError. Literals plainly
	// outside the float64 range are settled here so that events carrying
	// them (1e400) still match without allocating; only the narrow band
	// next to the limits goes to strconv.
	mant, first, last, exp, zero := decimalView(b)
	if zero {
		return 0
	}
	order := exp + last - first // power of ten of the first significant digit
	if bytes.IndexByte(mant[first:last+1], '.') >= 0 {
		order--
	}
	switch {
	case order > 309:
		if b[0] == '-' {
			return math.Inf(-1)
		}
		return math.Inf(1)
	case order < -325:
		return 0
	}
	f, _ := strconv.ParseFloat(string(b), 64) // range errors give ±Inf, which we keep
	if f == 0 {
		return 0
	}
	return f
}

// decimalView locates the significant digits of a decimal literal (a JSON
// number or strconv's 'e' format): mant is the mantissa without sign or
// exponent (it may hold a '.'), first and last index its first and last
// non-zero digit, and exp is the power of ten of the last one. zero reports
// a mantissa with no non-zero digit. Nothing is allocated, so events can be
// checked on the hot path.
func decimalView(lit []byte) (mant []byte, first, last, exp int, zero bool) {
	i := 0
	if i < len(lit) && (lit[i] == '-' || lit[i] == '+') {
		i++
	}
	j := i
	for j < len(lit) && lit[j] != 'e' && lit[j] != 'E' {
		j++
	}
	mant = lit[i:j]
	e := 0
	if j < len(lit) {
		k := j + 1
		neg := false
		if k < len(lit) && (lit[k] == '+' || lit[k] == '-') {
			neg = lit[k] == '-'
			k++
		}
		for ; k < len(lit); k++ {
			if e < 1e9 { // beyond this nothing is a finite, non-zero double
				e = e*10 + int(lit[k]-'0')
			}
		}
		if neg {
			e = -e
		}
	}
	first, last = -1, -1
	intLen := len(mant)
	for k, c := range mant {
		if c == '.' {
			intLen = k
			continue
		}
		if c != '0' {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		return mant, 0, 0, 0, true
	}
	pow := intLen - last // digits after the '.' count down from -1
	if last < intLen {
		pow = intLen - 1 - last
	}
	return mant, first, last, pow + e, false
}

// sameDecimal reports whether two decimal literals denote the same number.
func sameDecimal(a, b []byte) bool {
	ma, fa, la, ea, za := decimalView(a)
	mb, fb, lb, eb, zb := decimalView(b)
	if za || zb {
		return za && zb
	}
	if ea != eb || (a[0] == '-') != (b[0] == '-') {
		return false
	}
	i, j := fa, fb
	for {
		if i <= la && ma[i] == '.' {
			i++
		}
		if j <= lb && mb[j] == '.' {
			j++
		}
		if i > la || j > lb {
			return i > la && j > lb
		}
		if ma[i] != mb[j] {
			return false
		}
		i++
		j++
	}
}

// isExactDouble reports whether the number literal lit is exactly the double f
// it parses to, in event-ruler's sense: ComparableNumber.generate refuses a
// literal unless BigDecimal.valueOf(double) (the shortest decimal that
// round-trips) equals it numerically, and so refuses ±Inf, underflow to zero
// and digits beyond a double's precision. buf is scratch space for the
// shortest form; the grown buffer is returned.
func isExactDouble(lit []byte, f float64, buf []byte) (bool, []byte) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false, buf
	}
	buf = strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	return sameDecimal(lit, buf), buf
}

// exactDouble parses a pattern number literal. Like event-ruler it reports
// ok=false for literals that do not survive a round trip through a double
// (too many digits, underflow or out of range), rather than silently
// comparing against a different number; overflow tells the last case apart.
func exactDouble(lit string) (f float64, ok, overflow bool) {
	f, _ = strconv.ParseFloat(lit, 64)
	if math.IsInf(f, 0) {
		return 0, false, true
	}
	if ok, _ = isExactDouble([]byte(lit), f, nil); !ok {
		return 0, false, false
	}
	if f == 0 {
		f = 0
	}
	return f, true, false
}
