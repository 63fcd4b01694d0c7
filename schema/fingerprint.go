package schema

import (
	"encoding/binary"
	"math/bits"
)

// Fingerprint hashes the structure of a JSON document: object keys verbatim
// and, in place of each value, a marker for its kind (with date-time and date
// strings told apart from other strings, and integers from other numbers).
// Documents with equal fingerprints infer equal shapes, so a discoverer can
// remember fingerprints it has merged and skip Infer for repeats; that is the
// point of making it one pass over the bytes with no allocation.
//
// The hash is 64-bit FNV-1a, so values are stable across processes and may be
// persisted. Key order and key spelling (escapes) affect the hash, which only
// costs a redundant Infer. ok is false exactly when json.Valid rejects doc.
func Fingerprint(doc []byte) (uint64, bool) {
	const (
		expectValue = iota // a value must follow
		afterValue         // a value just ended
		expectKey          // a key must follow
	)
	// containers is a bit stack (1 = object) holding 512 levels without
	// allocating; deeper documents spill to the heap.
	var small [8]uint64
	containers := small[:]
	depth := 0
	inObject := false // kind of the innermost open container
	h := uint64(fnvOffset)
	n := len(doc)
	i := skipSpace(doc, 0)
	state := expectValue

	for {
		switch state {
		case expectKey:
			if i >= n || doc[i] != '"' {
				return 0, false
			}
			end, ok := hashKey(doc, i, &h)
			if !ok {
				return 0, false
			}
			i = skipSpace(doc, end)
			if i >= n || doc[i] != ':' {
				return 0, false
			}
			i = skipSpace(doc, i+1)
			state = expectValue

		case expectValue:
			if i >= n {
				return 0, false
			}
			c := doc[i]
			switch {
			case c == '{' || c == '[':
				depth++
				if depth > maxDepth {
					return 0, false
				}
				word, bit := (depth-1)/64, uint64(1)<<((depth-1)%64)
				if word >= len(containers) {
					containers = append(containers, 0)
				}
				h = (h ^ uint64(c)) * fnvPrime
				i = skipSpace(doc, i+1)
				inObject = c == '{'
				if inObject {
					containers[word] |= bit
					state = expectKey
				} else {
					containers[word] &^= bit
				}
				if i < n && doc[i] == c+2 { // '}' and ']' follow '{' and '[' by 2
					h = (h ^ uint64(c+2)) * fnvPrime
					i++
					depth, inObject = pop(containers, depth)
					state = afterValue
				}
				continue
			case c == '"':
				end, escaped, ok := scanString(doc, i)
				if !ok {
					return 0, false
				}
				h = (h ^ uint64(stringMarker(doc[i+1:end-1], escaped))) * fnvPrime
				i = end
			case c == '-' || (c >= '0' && c <= '9'):
				end, integer, ok := scanNumber(doc, i)
				if !ok {
					return 0, false
				}
				m := byte(markNumber)
				if integer {
					m = markInteger
				}
				h = (h ^ uint64(m)) * fnvPrime
				i = end
			case c == 't':
				if !hasLiteral(doc, i, "true") {
					return 0, false
				}
				h = (h ^ markBoolean) * fnvPrime
				i += 4
			case c == 'f':
				if !hasLiteral(doc, i, "false") {
					return 0, false
				}
				h = (h ^ markBoolean) * fnvPrime
				i += 5
			case c == 'n':
				if !hasLiteral(doc, i, "null") {
					return 0, false
				}
				h = (h ^ markNull) * fnvPrime
				i += 4
			default:
				return 0, false
			}
			state = afterValue

		case afterValue:
			i = skipSpace(doc, i)
			if depth == 0 {
				if i != n {
					return 0, false // data after the top-level value
				}
				return h, true
			}
			if i >= n {
				return 0, false
			}
			switch c := doc[i]; {
			case c == ',':
				i = skipSpace(doc, i+1)
				if inObject {
					state = expectKey
				} else {
					state = expectValue
				}
			case (c == '}' && inObject) || (c == ']' && !inObject):
				h = (h ^ uint64(c)) * fnvPrime
				depth, inObject = pop(containers, depth)
				i++
			default:
				return 0, false
			}
		}
	}
}

// hashKey hashes the key starting at doc[i] == '"' verbatim, quotes
// included, and returns the index just past it. Keys are short and rarely
// escaped, so plain keys are validated and hashed in the same pass.
func hashKey(doc []byte, i int, hp *uint64) (int, bool) {
	h := *hp
	for j := i; j < len(doc); j++ {
		c := doc[j]
		h = (h ^ uint64(c)) * fnvPrime
		if j > i && c == '"' {
			*hp = h
			return j + 1, true
		}
		if c == '\\' || c < 0x20 {
			break // rare: let scanString validate, then hash the raw bytes
		}
	}
	end, _, ok := scanString(doc, i)
	if !ok {
		return 0, false
	}
	h = *hp
	for _, c := range doc[i:end] {
		h = (h ^ uint64(c)) * fnvPrime
	}
	*hp = h
	return end, true
}

// pop closes the innermost container and reports the new depth and
// whether the container now innermost is an object.
func pop(containers []uint64, depth int) (int, bool) {
	depth--
	if depth == 0 {
		return 0, false
	}
	return depth, containers[(depth-1)/64]&(uint64(1)<<((depth-1)%64)) != 0
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	// maxDepth matches encoding/json's nesting limit so that Fingerprint,
	// Infer and json.Valid accept the same documents.
	maxDepth = 10000
)

// Value markers. They differ from '"', which starts every hashed key, and
// from the bracket bytes, so the hashed token stream is unambiguous.
const (
	markString   = 's'
	markDateTime = 'T'
	markDate     = 'D'
	markInteger  = 'i'
	markNumber   = 'n'
	markBoolean  = 'b'
	markNull     = 'z'
)

// stringMarker classifies string contents (without quotes) exactly as Infer
// classifies the decoded string.
func stringMarker(raw []byte, escaped bool) byte {
	if len(raw) < 10 {
		return markString // too short for any format, escaped or not
	}
	if escaped {
		return escapedStringMarker(raw)
	}
	return formatMarker(raw)
}

// escapedStringMarker is the rare path, kept out of line so the common path
// does not pay for zeroing its buffer.
//
//go:noinline
func escapedStringMarker(raw []byte) byte {
	var buf [64]byte
	return formatMarker(unescapeASCII(buf[:0], raw))
}

func formatMarker(s []byte) byte {
	switch stringFormat(s) {
	case formatDateTime:
		return markDateTime
	case formatDate:
		return markDate
	}
	return markString
}

// unescapeASCII appends the decoding of valid string contents to dst, with
// every non-ASCII character written as 0xFF: format detection only accepts
// ASCII, so which non-ASCII character it was does not matter.
func unescapeASCII(dst, raw []byte) []byte {
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		i++
		switch raw[i] {
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
			r := hexValue(raw[i+1])<<12 | hexValue(raw[i+2])<<8 | hexValue(raw[i+3])<<4 | hexValue(raw[i+4])
			i += 4
			if r < 0x80 {
				dst = append(dst, byte(r))
			} else {
				dst = append(dst, 0xFF)
			}
		default: // '"', '\\', '/'
			dst = append(dst, raw[i])
		}
	}
	return dst
}

// scanString validates the string starting at doc[i] == '"' and returns the
// index just past its closing quote and whether it contains escapes. Plain
// runs are skipped eight bytes at a time, since string contents are most of
// an event's bytes.
func scanString(doc []byte, i int) (end int, escaped, ok bool) {
	n := len(doc)
	i++
	for {
		// Advance to the next quote, backslash or control byte.
		for i+8 <= n {
			if m := stringSpecials(binary.LittleEndian.Uint64(doc[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i+8 > n {
			for i < n && doc[i] != '"' && doc[i] != '\\' && doc[i] >= 0x20 {
				i++
			}
			if i >= n {
				return 0, false, false
			}
		}
		switch c := doc[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= n {
				return 0, false, false
			}
			switch doc[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+5 >= n || !isHex(doc[i+2]) || !isHex(doc[i+3]) || !isHex(doc[i+4]) || !isHex(doc[i+5]) {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
		default: // control character
			return 0, false, false
		}
	}
}

// stringSpecials flags (with 0x80) the bytes of w that are '"', '\\' or a
// control character. This is the classic SWAR zero-byte test: flags above
// the lowest one may be spurious, but the lowest is exact, and that is the
// only one used.
func stringSpecials(w uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	q := w ^ (lsb * '"')
	b := w ^ (lsb * '\\')
	return ((q-lsb)&^q | (b-lsb)&^b | (w-lsb*0x20)&^w) & msb
}

// scanNumber validates the number starting at doc[i] and returns the index
// just past it and whether it is an integer literal (no fraction, no
// exponent), mirroring Infer's rule.
func scanNumber(doc []byte, i int) (end int, integer, ok bool) {
	n := len(doc)
	if doc[i] == '-' {
		i++
	}
	switch {
	case i < n && doc[i] == '0':
		i++
	case i < n && doc[i] >= '1' && doc[i] <= '9':
		for i++; i < n && isDigit(doc[i]); i++ {
		}
	default:
		return 0, false, false
	}
	integer = true
	if i < n && doc[i] == '.' {
		integer = false
		i++
		if i >= n || !isDigit(doc[i]) {
			return 0, false, false
		}
		for i++; i < n && isDigit(doc[i]); i++ {
		}
	}
	if i < n && (doc[i] == 'e' || doc[i] == 'E') {
		integer = false
		i++
		if i < n && (doc[i] == '+' || doc[i] == '-') {
			i++
		}
		if i >= n || !isDigit(doc[i]) {
			return 0, false, false
		}
		for i++; i < n && isDigit(doc[i]); i++ {
		}
	}
	return i, integer, true
}

func hasLiteral(doc []byte, i int, lit string) bool {
	return len(doc)-i >= len(lit) && string(doc[i:i+len(lit)]) == lit
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexValue(c byte) rune {
	switch {
	case isDigit(c):
		return rune(c - '0')
	case c >= 'a' && c <= 'f':
		return rune(c-'a') + 10
	default:
		return rune(c-'A') + 10
	}
}
