// Package jsonobj lists the members of a JSON object without decoding their
// values: each key with the raw bytes of its value. A change's changed
// columns compare two row images member by member, on the store's one
// writer goroutine, for every write; decoding both images into maps was a
// tenth of that goroutine's time.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Member is one member of an object: its key, unescaped, and its value as it
// appears in the input (without surrounding whitespace).
type Member struct {
	Key   string
	Value []byte
}

// errSyntax is returned for input that is not one JSON object.
var errSyntax = errors.New("jsonobj: not a JSON object")

// Members returns the members of the JSON object data, in input order
// (duplicates included; the last one is what a decoder keeps). It checks
// the structure (quotes, brackets, commas, colons) but not the spelling of
// literals and numbers inside values: its input comes from json.Marshal or
// json.Compact, which only produce valid JSON.
func Members(data []byte) ([]Member, error) {
	var out []Member
	err := Each(data, func(key, value []byte) {
		out = append(out, Member{Key: string(key), Value: value})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Each calls fn with every member of the JSON object data, in input
// order, checking what Members checks; on a syntax error it stops and
// returns it, after fn has seen the members before it. key is unescaped;
// when the input did not escape it, it is data's own bytes, so reading
// members allocates nothing (compare it as string(key) == "name").
func Each(data []byte, fn func(key, value []byte)) error {
	s := scanner{data: data}
	s.space()
	if !s.eat('{') {
		return errSyntax
	}
	s.space()
	if s.eat('}') {
		return s.end()
	}
	for {
		s.space()
		key, err := s.key()
		if err != nil {
			return err
		}
		s.space()
		if !s.eat(':') {
			return errSyntax
		}
		s.space()
		start := s.i
		if err := s.value(0); err != nil {
			return err
		}
		fn(key, data[start:s.i])
		s.space()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return s.end()
		}
		return errSyntax
	}
}

// maxDepth bounds nesting, as encoding/json does, so a hostile document
// cannot exhaust the stack.
const maxDepth = 10000

type scanner struct {
	data []byte
	i    int
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.data) && s.data[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.space()
	if s.i != len(s.data) {
		return errSyntax
	}
	return nil
}

// key reads a string and returns it unescaped, as the input's own bytes
// when it holds no escape.
func (s *scanner) key() ([]byte, error) {
	start := s.i
	escaped, err := s.str()
	if err != nil {
		return nil, err
	}
	raw := s.data[start:s.i]
	// encoding/json turns invalid UTF-8 into U+FFFD; decode as it does.
	if !escaped && utf8.Valid(raw) {
		return raw[1 : len(raw)-1], nil
	}
	var k string
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, fmt.Errorf("jsonobj: key: %w", err)
	}
	return []byte(k), nil
}

// str skips a string and reports whether it holds an escape. It looks
// for quotes only (bytes.IndexByte is vectorised) and counts the
// backslashes before each to tell an escaped quote from the closing one.
func (s *scanner) str() (escaped bool, err error) {
	if !s.eat('"') {
		return false, errSyntax
	}
	start := s.i
	for {
		j := bytes.IndexByte(s.data[s.i:], '"')
		if j < 0 {
			return false, errSyntax
		}
		s.i += j
		n := 0
		for k := s.i - 1; k >= start && s.data[k] == '\\'; k-- {
			n++
		}
		s.i++
		if n%2 == 0 {
			return escaped || bytes.IndexByte(s.data[start:s.i-1], '\\') >= 0, nil
		}
		escaped = true
	}
}

// value skips one value.
func (s *scanner) value(depth int) error {
	if depth > maxDepth {
		return errSyntax
	}
	if s.i >= len(s.data) {
		return errSyntax
	}
	switch c := s.data[s.i]; c {
	case '"':
		_, err := s.str()
		return err
	case '{', '[':
		return s.container(c, depth)
	default:
		// A literal or a number: up to the next delimiter.
		start := s.i
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case ',', '}', ']', ':', ' ', '\t', '\n', '\r', '"', '{', '[':
				if s.i == start {
					return errSyntax
				}
				return nil
			}
			s.i++
		}
		if s.i == start {
			return errSyntax
		}
		return nil
	}
}

// container skips an object or array opened by open.
func (s *scanner) container(open byte, depth int) error {
	closing := byte('}')
	if open == '[' {
		closing = ']'
	}
	s.i++
	s.space()
	if s.eat(closing) {
		return nil
	}
	for {
		s.space()
		if open == '{' {
			if _, err := s.str(); err != nil {
				return err
			}
			s.space()
			if !s.eat(':') {
				return errSyntax
			}
			s.space()
		}
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.space()
		if s.eat(',') {
			continue
		}
		if s.eat(closing) {
			return nil
		}
		return errSyntax
	}
}

// String returns the string a member's value holds, decoded as
// encoding/json decodes it; ok is false for a value that is not a string.
func String(value []byte) (s string, ok bool) {
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return "", false
	}
	inner := value[1 : len(value)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	if err := json.Unmarshal(value, &s); err != nil {
		return "", false
	}
	return s, true
}
