package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

type stepKind int

const (
	stepMember stepKind = iota
	stepIndex
	stepWildcard
)

// step is one hop of a compiled JSONPath.
type step struct {
	kind  stepKind
	name  string
	index int
}

// path is a compiled JSONPath; wild records whether any hop is a wildcard,
// because then the result is an array of matches rather than one value.
type path struct {
	steps []step
	wild  bool
}

// maxIndex bounds array indexes: no event under 256 KB has more elements,
// and the bound keeps strconv from accepting absurd numbers.
const maxIndex = 1 << 20

// parsePath compiles the JSONPath subset EventBridge evaluates (see the
// package doc).
func parsePath(s string) (path, error) {
	if len(s) == 0 || s[0] != '$' {
		return path{}, errors.New("must start with $")
	}
	var p path
	for i := 1; i < len(s); {
		switch s[i] {
		case '.':
			i++
			if i < len(s) && s[i] == '*' {
				p.steps = append(p.steps, step{kind: stepWildcard})
				p.wild = true
				i++
				continue
			}
			j := i
			for j < len(s) && nameChar(s[j]) {
				j++
			}
			if j == i {
				return path{}, fmt.Errorf("expected a member name at offset %d", i)
			}
			p.steps = append(p.steps, step{kind: stepMember, name: s[i:j]})
			i = j
		case '[':
			end := bytes.IndexByte([]byte(s[i:]), ']')
			if end < 0 {
				return path{}, fmt.Errorf("unclosed [ at offset %d", i)
			}
			inner := s[i+1 : i+end]
			if inner == "*" {
				p.steps = append(p.steps, step{kind: stepWildcard})
				p.wild = true
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil || n < 0 || n > maxIndex || inner[0] == '+' || inner[0] == '-' {
					return path{}, fmt.Errorf("[%s] at offset %d is not an array index or *", inner, i)
				}
				p.steps = append(p.steps, step{kind: stepIndex, index: n})
			}
			i += end + 1
		default:
			return path{}, fmt.Errorf("unexpected %q at offset %d", s[i], i)
		}
	}
	return p, nil
}

// nameChar reports whether c may appear in a member name of a path. Event
// keys are free-form, so everything is allowed except the path's own
// punctuation, whitespace and the template's placeholder brackets.
func nameChar(c byte) bool {
	switch c {
	case '.', '[', ']', '*', '<', '>', ' ', '\t', '\n', '\r':
		return false
	}
	return true
}

// selectPath evaluates p on doc, which must be valid JSON. It returns the
// compact JSON of the match (an array of all matches for a wildcard path)
// and whether anything matched.
func selectPath(doc []byte, p path) ([]byte, bool) {
	nodes := []json.RawMessage{doc}
	for _, st := range p.steps {
		var next []json.RawMessage
		for _, n := range nodes {
			switch st.kind {
			case stepMember:
				if v, ok := member(n, st.name); ok {
					next = append(next, v)
				}
			case stepIndex:
				if els, ok := elements(n); ok && st.index < len(els) {
					next = append(next, els[st.index])
				}
			case stepWildcard:
				if ms, ok := members(n); ok {
					for _, m := range ms {
						next = append(next, m.value)
					}
				} else if els, ok := elements(n); ok {
					next = append(next, els...)
				}
			}
		}
		if len(next) == 0 {
			return nil, false
		}
		nodes = next
	}
	if !p.wild {
		return compact(nodes[0]), true
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i, n := range nodes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(compact(n))
	}
	b.WriteByte(']')
	return b.Bytes(), true
}

// kv is one member of a JSON object, kept in document order so that
// rendered objects read like the event they came from.
type kv struct {
	key   string
	value json.RawMessage
}

// members returns the members of raw if it is an object.
func members(raw []byte) ([]kv, bool) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '{' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []kv
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		k, ok := t.(string)
		if !ok {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		out = append(out, kv{k, v})
	}
	return out, true
}

// member returns the value of key in raw if raw is an object that has it;
// with duplicate keys the last wins, as with encoding/json.
func member(raw []byte, key string) (json.RawMessage, bool) {
	ms, ok := members(raw)
	if !ok {
		return nil, false
	}
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].key == key {
			return ms[i].value, true
		}
	}
	return nil, false
}

// elements returns the elements of raw if it is an array.
func elements(raw []byte) ([]json.RawMessage, bool) {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	var els []json.RawMessage
	if err := json.Unmarshal(raw, &els); err != nil {
		return nil, false
	}
	return els, true
}

// compact returns raw without insignificant whitespace; raw is valid JSON.
func compact(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}
