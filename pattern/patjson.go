package pattern

import (
	"strconv"
	"unicode/utf8"
)

// A small recursive-descent JSON parser for pattern sources. It is separate
// from encoding/json because patterns need: every copy of a duplicate key, in
// document order (the compiler resolves them per flattened path), the literal
// text of numbers (for the exact-double check), and error positions in the
// AWS style.

type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNum
	jStr
	jArr
	jObj
)

type jnode struct {
	kind jkind
	b    bool     // jBool
	s    string   // jStr: decoded text; jNum: literal text
	arr  []*jnode // jArr
	keys []string // jObj, in document order, duplicates included
	vals []*jnode // jObj, parallel to keys
}

func (k jkind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// maxPatternDepth bounds recursion; the 2048-byte limit makes deeper input
// impossible anyway, this is belt and braces.
const maxPatternDepth = 512

type pparser struct {
	b     []byte
	depth int
}

func (p *pparser) fail(i int, msg string) *Error {
	line, col := 1, 1
	for j := 0; j < i && j < len(p.b); j++ {
		if p.b[j] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &Error{Reason: "malformed JSON: " + msg + " at line " + strconv.Itoa(line) +
		", column " + strconv.Itoa(col) + " (offset " + strconv.Itoa(i) + ")"}
}

func (p *pparser) unexpected(i int) *Error {
	if i >= len(p.b) {
		return p.fail(i, "unexpected end-of-input")
	}
	c := p.b[i]
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
		j := i
		for j < len(p.b) && j-i < 32 && (p.b[j] >= 'a' && p.b[j] <= 'z' || p.b[j] >= 'A' && p.b[j] <= 'Z') {
			j++
		}
		return p.fail(i, "unrecognized token '"+string(p.b[i:j])+"': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
	}
	r, _ := utf8.DecodeRune(p.b[i:])
	return p.fail(i, "unexpected character "+strconv.QuoteRune(r))
}

func parsePatternJSON(b []byte) (*jnode, *Error) {
	p := &pparser{b: b}
	n, i, err := p.value(skipSpace(b, 0))
	if err != nil {
		return nil, err
	}
	i = skipSpace(b, i)
	if i != len(b) {
		return nil, p.fail(i, "trailing data after the pattern")
	}
	return n, nil
}

func (p *pparser) value(i int) (*jnode, int, *Error) {
	b := p.b
	if i >= len(b) {
		return nil, i, p.unexpected(i)
	}
	switch c := b[i]; {
	case c == '{':
		return p.object(i)
	case c == '[':
		return p.array(i)
	case c == '"':
		s, j, err := p.str(i)
		if err != nil {
			return nil, j, err
		}
		return &jnode{kind: jStr, s: s}, j, nil
	case c == '-' || c >= '0' && c <= '9':
		j := scanNumber(b, i)
		if j < 0 {
			return nil, i, p.fail(i, "invalid number")
		}
		return &jnode{kind: jNum, s: string(b[i:j])}, j, nil
	case hasLit(b, i, "true"):
		return &jnode{kind: jBool, b: true}, i + 4, nil
	case hasLit(b, i, "false"):
		return &jnode{kind: jBool}, i + 5, nil
	case hasLit(b, i, "null"):
		return &jnode{kind: jNull}, i + 4, nil
	}
	return nil, i, p.unexpected(i)
}

func (p *pparser) str(i int) (string, int, *Error) {
	end, esc, errPos := scanString(p.b, i+1)
	if end < 0 {
		if errPos >= len(p.b) {
			return "", errPos, p.fail(errPos, "unterminated string")
		}
		return "", errPos, p.fail(errPos, "invalid character in string")
	}
	if !esc {
		return string(p.b[i+1 : end]), end + 1, nil
	}
	return string(unescapeAppend(nil, p.b[i+1:end])), end + 1, nil
}

func (p *pparser) enter(i int) *Error {
	p.depth++
	if p.depth > maxPatternDepth {
		return p.fail(i, "nesting too deep")
	}
	return nil
}

func (p *pparser) object(i int) (*jnode, int, *Error) {
	if err := p.enter(i); err != nil {
		return nil, i, err
	}
	defer func() { p.depth-- }()
	n := &jnode{kind: jObj}
	i = skipSpace(p.b, i+1)
	if i < len(p.b) && p.b[i] == '}' {
		return n, i + 1, nil
	}
	for {
		if i >= len(p.b) || p.b[i] != '"' {
			if i < len(p.b) {
				return nil, i, p.fail(i, "was expecting double-quote to start field name")
			}
			return nil, i, p.unexpected(i)
		}
		k, j, err := p.str(i)
		if err != nil {
			return nil, j, err
		}
		i = skipSpace(p.b, j)
		if i >= len(p.b) || p.b[i] != ':' {
			if i >= len(p.b) {
				return nil, i, p.unexpected(i)
			}
			return nil, i, p.fail(i, "was expecting a colon to separate field name and value")
		}
		v, j, err := p.value(skipSpace(p.b, i+1))
		if err != nil {
			return nil, j, err
		}
		// Duplicate keys are all kept, in order: the compiler resolves them
		// per flattened path, as event-ruler's streaming compiler does.
		n.keys = append(n.keys, k)
		n.vals = append(n.vals, v)
		i = skipSpace(p.b, j)
		if i < len(p.b) && p.b[i] == ',' {
			i = skipSpace(p.b, i+1)
			continue
		}
		if i < len(p.b) && p.b[i] == '}' {
			return n, i + 1, nil
		}
		if i >= len(p.b) {
			return nil, i, p.unexpected(i)
		}
		return nil, i, p.fail(i, "was expecting comma to separate object entries")
	}
}

func (p *pparser) array(i int) (*jnode, int, *Error) {
	if err := p.enter(i); err != nil {
		return nil, i, err
	}
	defer func() { p.depth-- }()
	n := &jnode{kind: jArr}
	i = skipSpace(p.b, i+1)
	if i < len(p.b) && p.b[i] == ']' {
		return n, i + 1, nil
	}
	for {
		v, j, err := p.value(i)
		if err != nil {
			return nil, j, err
		}
		n.arr = append(n.arr, v)
		i = skipSpace(p.b, j)
		if i < len(p.b) && p.b[i] == ',' {
			i = skipSpace(p.b, i+1)
			continue
		}
		if i < len(p.b) && p.b[i] == ']' {
			return n, i + 1, nil
		}
		if i >= len(p.b) {
			return nil, i, p.unexpected(i)
		}
		return nil, i, p.fail(i, "was expecting comma to separate array entries")
	}
}
