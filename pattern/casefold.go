package pattern

import (
	"unicode"
	"unicode/utf8"
)

// Case-insensitive operators (equals-ignore-case and the ignore-case forms of
// prefix and suffix) compare strings after mapping every rune to a canonical
// representative of its Unicode simple case-folding orbit: the same
// equivalence strings.EqualFold uses. Mapping is rune by rune, so a folded
// string's length can differ from the original (the Kelvin sign K folds to an
// ASCII k) but prefix and suffix relations are preserved.
//
// Deviation: event-ruler maps Java chars with toUpperCase, which turns "ß"
// into "SS"; simple folding never changes the number of runes, so "straße"
// does not match "STRASSE" here.

// foldRune returns the canonical member of r's case orbit: the smallest rune
// in the orbit, lowercased when that is an ASCII letter (so ASCII folds to
// lower case, which keeps the fast path trivial).
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return r
	}
	min := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < min {
			min = f
		}
	}
	if 'A' <= min && min <= 'Z' {
		min += 'a' - 'A'
	}
	return min
}

// foldAppend appends the case-folded form of s to dst. Bytes that are not
// valid UTF-8 are copied unchanged.
func foldAppend(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n <= 1 {
			dst = append(dst, c)
			i++
			continue
		}
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

func foldString(s string) string { return string(foldAppend(nil, []byte(s))) }
