package schema

// Format detection is shared by Infer (decoded strings) and Fingerprint (raw
// bytes), and the two must agree exactly, so it is one generic function that
// looks at ASCII bytes only: a non-ASCII byte can never be part of a date, so
// it does not matter that invalid UTF-8 decodes to U+FFFD in one path and
// stays raw in the other.
//
// The checks are deliberately a little stricter than the validator's
// date-time and date formats (no leap seconds): a string discovery labels
// must always pass validation against the schema discovered from it.

// stringFormat returns formatDateTime, formatDate or "".
func stringFormat[T ~string | ~[]byte](s T) string {
	switch {
	case len(s) == 10:
		if isDate(s) {
			return formatDate
		}
	case len(s) >= 20:
		if isDateTime(s) {
			return formatDateTime
		}
	}
	return ""
}

// isDate reports whether s is an RFC 3339 full-date that names a real day.
func isDate[T ~string | ~[]byte](s T) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(m, y)
}

// isDateTime reports whether s is an RFC 3339 date-time:
// full-date "T" hh:mm:ss[.frac] ("Z" | ("+"|"-") hh:mm).
func isDateTime[T ~string | ~[]byte](s T) bool {
	if len(s) < 20 || (s[10] != 'T' && s[10] != 't') || !isDate(s[:10]) {
		return false
	}
	t := s[11:]
	if t[2] != ':' || t[5] != ':' {
		return false
	}
	h, ok1 := digits(t[0:2])
	mi, ok2 := digits(t[3:5])
	sec, ok3 := digits(t[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || sec > 59 {
		return false
	}
	t = t[8:]
	if len(t) > 0 && t[0] == '.' {
		n := 1
		for n < len(t) && t[n] >= '0' && t[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		t = t[n:]
	}
	switch {
	case len(t) == 1:
		return t[0] == 'Z' || t[0] == 'z'
	case len(t) == 6:
		if (t[0] != '+' && t[0] != '-') || t[3] != ':' {
			return false
		}
		oh, ok1 := digits(t[1:3])
		om, ok2 := digits(t[4:6])
		return ok1 && ok2 && oh <= 23 && om <= 59
	}
	return false
}

// digits parses an all-digit ASCII field.
func digits[T ~string | ~[]byte](s T) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// daysIn returns the length of month m in year y (proleptic Gregorian, as
// time.Parse uses).
func daysIn(m, y int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
