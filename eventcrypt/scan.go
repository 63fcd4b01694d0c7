package eventcrypt

import "encoding/json"

// The relay seals every event it builds, so finding a member must not cost
// a decode of the whole detail: memberSpans scans an object's top level and
// returns where each member's value lies, skipping the values it passes
// (strings, nested objects and arrays) without decoding them. It expects
// what json.Marshal writes but never trusts it: anything it cannot follow
// makes it give up (ok false), and the caller leaves the document alone.

// span is the value of one member: doc[start:end].
type span struct{ start, end int }

// memberSpans returns the spans of the values of doc's top-level members
// named name, in document order. ok is false if doc is not an object it
// can follow.
func memberSpans(doc []byte, name string) (spans []span, ok bool) {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, false
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return nil, trailingSpace(doc, i+1)
	}
	for {
		if i >= len(doc) || doc[i] != '"' {
			return nil, false
		}
		keyEnd, escaped := skipString(doc, i)
		if keyEnd < 0 {
			return nil, false
		}
		match := false
		if escaped {
			var k string
			match = json.Unmarshal(doc[i:keyEnd], &k) == nil && k == name
		} else {
			match = string(doc[i+1:keyEnd-1]) == name
		}
		i = skipSpace(doc, keyEnd)
		if i >= len(doc) || doc[i] != ':' {
			return nil, false
		}
		start := skipSpace(doc, i+1)
		end := skipValue(doc, start)
		if end < 0 {
			return nil, false
		}
		if match {
			spans = append(spans, span{start, end})
		}
		i = skipSpace(doc, end)
		if i >= len(doc) {
			return nil, false
		}
		switch doc[i] {
		case ',':
			i = skipSpace(doc, i+1)
		case '}':
			return spans, trailingSpace(doc, i+1)
		default:
			return nil, false
		}
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && isSpace(doc[i]) {
		i++
	}
	return i
}

func trailingSpace(doc []byte, i int) bool { return skipSpace(doc, i) == len(doc) }

// skipString returns the index just past the string starting at doc[i]
// (a '"'), and whether it holds an escape; -1 if it does not end.
func skipString(doc []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(doc); j++ {
		switch doc[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just past the value starting at doc[i], or
// -1. Literals and numbers end at the next delimiter; their spelling is
// left to whoever decodes them.
func skipValue(doc []byte, i int) int {
	if i >= len(doc) {
		return -1
	}
	switch doc[i] {
	case '"':
		end, _ := skipString(doc, i)
		return end
	case '{', '[':
		depth := 0
		for j := i; j < len(doc); j++ {
			switch doc[j] {
			case '"':
				end, _ := skipString(doc, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	case ',', '}', ']', ':':
		return -1
	default:
		j := i
		for j < len(doc) && !isSpace(doc[j]) && doc[j] != ',' && doc[j] != '}' && doc[j] != ']' {
			j++
		}
		return j
	}
}
