package pattern

import (
	"encoding/binary"
	"unicode/utf16"
	"unicode/utf8"
)

// Low-level JSON lexing shared by the pattern parser and the event scanner.
// Everything works on byte slices and offsets so the event path never
// allocates.

// strClass marks the bytes that end the fast loop inside a JSON string: the
// closing quote, a backslash, and the control characters JSON forbids.
var strClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return
}()

const (
	lo8 = 0x0101010101010101
	hi8 = 0x8080808080808080
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// scanString validates the JSON string whose opening quote is at b[i-1]. It
// returns the offset of the closing quote and whether the string contains
// escapes; on error it returns end<0 and the offending offset in errPos.
func scanString(b []byte, i int) (end int, esc bool, errPos int) {
	for {
		// SWAR: test eight bytes at a time for '"', '\\' or a control
		// character; most string bytes in events are none of those.
		for i+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[i:])
			q := x ^ (lo8 * '"')
			s := x ^ (lo8 * '\\')
			t := (q - lo8) &^ q
			t |= (s - lo8) &^ s
			t |= x - lo8*0x20
			if t&^x&hi8 != 0 {
				break
			}
			i += 8
		}
		for i < len(b) && !strClass[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1, esc, i
		}
		switch c := b[i]; {
		case c == '"':
			return i, esc, 0
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return -1, esc, i + 1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= len(b) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return -1, esc, i
				}
				i += 6
			default:
				return -1, esc, i
			}
		default: // control character
			return -1, esc, i
		}
	}
}

func hexVal(c byte) rune {
	switch {
	case c >= '0' && c <= '9':
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c - 'a' + 10)
	default:
		return rune(c - 'A' + 10)
	}
}

func hex4(b []byte) rune {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// unescapeAppend appends the decoded form of a string body that scanString
// already validated. Unpaired surrogates decode to U+FFFD, as encoding/json
// does.
func unescapeAppend(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 := hex4(s[i+2:])
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						i += 6
						dst = utf8.AppendRune(dst, d)
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// scanNumber validates a JSON number starting at b[i] and returns the offset
// just past it, or -1.
func scanNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return -1
		}
	}
	return i
}

// hasLit reports whether b[i:] starts with lit.
func hasLit(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}
