package pattern

import "bytes"

// The event scanner: a single pass over the raw JSON bytes. It follows the
// machine's path trie as it descends; a key that no rule uses makes it switch
// to skip mode for that whole value, which only checks JSON structure
// (strings, numbers, literals, bracket nesting) and never materialises
// anything. Values at used paths are recorded in the scratch space together
// with their array coordinates, and looked up in the path's anchor index.

// MaxEventDepth is the deepest object/array nesting accepted in an event
// (PutEvents documents processing "up to 1000 levels deep").
const MaxEventDepth = 1000

type coord struct{ arr, idx int32 }

type scanner struct {
	m  *machine
	sc *scratch
	b  []byte
}

func evErr(off int, reason string) *EventError { return &EventError{Offset: off, Reason: reason} }

func (s *scanner) syntax(i int) *EventError {
	if i >= len(s.b) {
		return evErr(i, "unexpected end of JSON input")
	}
	return evErr(i, "invalid character "+quoteByte(s.b[i]))
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[c>>4], hex[c&15]})
}

// run scans a whole event, which must be a JSON object.
func (s *scanner) run() *EventError {
	i := skipSpace(s.b, 0)
	if i >= len(s.b) || s.b[i] != '{' {
		if i >= len(s.b) {
			return evErr(i, "event is empty, expected a JSON object")
		}
		return evErr(i, "event is not a JSON object")
	}
	var err *EventError
	i, err = s.object(i, s.m.root, 1)
	if err != nil {
		return err
	}
	i = skipSpace(s.b, i)
	if i != len(s.b) {
		return evErr(i, "invalid character "+quoteByte(s.b[i])+" after top-level value")
	}
	return nil
}

// lookup follows a (possibly dotted) key from n; nil means no rule uses it.
// Trie segments never contain '.', so an exact hit needs no dot check.
func lookup(n *tnode, key []byte) *tnode {
	for n != nil && n.kids != nil {
		if n.nodes != nil || len(n.kids) == 0 {
			var next *tnode
			for i, name := range n.names {
				if len(name) == len(key) && (len(key) == 0 || key[0] == name[0]) && string(key) == name {
					return n.nodes[i]
				}
				if len(name) < len(key) && key[len(name)] == '.' && string(key[:len(name)]) == name {
					next = n.nodes[i]
					key = key[len(name)+1:]
					break
				}
			}
			n = next
			continue
		}
		j := bytes.IndexByte(key, '.')
		if j < 0 {
			return n.kids[string(key)]
		}
		n = n.kids[string(key[:j])]
		key = key[j+1:]
	}
	return nil
}

func (s *scanner) object(i int, n *tnode, depth int) (int, *EventError) {
	if depth > MaxEventDepth {
		return i, evErr(i, "nesting deeper than 1000 levels")
	}
	b := s.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, s.syntax(i)
		}
		end, esc, ep := scanString(b, i+1)
		if end < 0 {
			return ep, s.syntax(ep)
		}
		var child *tnode
		if n != nil && n.kids != nil {
			key := b[i+1 : end]
			if esc {
				s.sc.keybuf = unescapeAppend(s.sc.keybuf[:0], key)
				key = s.sc.keybuf
			}
			child = lookup(n, key)
		}
		i = skipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return i, s.syntax(i)
		}
		var err *EventError
		i, err = s.value(skipSpace(b, i+1), child, depth)
		if err != nil {
			return i, err
		}
		var more bool
		if i, more, err = s.afterElement(i, '}'); err != nil {
			return i, err
		}
		if more {
			continue
		}
		return i, nil
	}
}

func (s *scanner) array(i int, n *tnode, depth int) (int, *EventError) {
	if depth > MaxEventDepth {
		return i, evErr(i, "nesting deeper than 1000 levels")
	}
	b := s.b
	sc := s.sc
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	track := n != nil
	if track {
		sc.stack = append(sc.stack, coord{arr: sc.arrays, idx: 0})
		sc.arrays++
	}
	for k := int32(0); ; k++ {
		if track {
			sc.stack[len(sc.stack)-1].idx = k
		}
		var err *EventError
		i, err = s.value(i, n, depth)
		if err != nil {
			return i, err
		}
		var more bool
		if i, more, err = s.afterElement(i, ']'); err != nil {
			return i, err
		}
		if more {
			continue
		}
		if track {
			sc.stack = sc.stack[:len(sc.stack)-1]
		}
		return i, nil
	}
}

// value scans the value at b[i]; depth is the nesting of its container.
func (s *scanner) value(i int, n *tnode, depth int) (int, *EventError) {
	b := s.b
	if i >= len(b) {
		return i, s.syntax(i)
	}
	if n == nil {
		return s.skip(i, depth)
	}
	switch c := b[i]; {
	case c == '{':
		return s.object(i, n, depth+1)
	case c == '[':
		return s.array(i, n, depth+1)
	case c == '"':
		end, esc, ep := scanString(b, i+1)
		if end < 0 {
			return ep, s.syntax(ep)
		}
		if n.path >= 0 {
			str := b[i+1 : end]
			if esc {
				start := len(s.sc.strbuf)
				s.sc.strbuf = unescapeAppend(s.sc.strbuf, str)
				str = s.sc.strbuf[start:len(s.sc.strbuf):len(s.sc.strbuf)]
			}
			s.sc.record(s.m, n, vStr, str, 0)
		}
		return end + 1, nil
	case c == '-' || c >= '0' && c <= '9':
		j := scanNumber(b, i)
		if j < 0 {
			return i, evErr(i, "invalid number")
		}
		if n.path >= 0 {
			if f, ok := s.sc.number(b[i:j]); ok {
				s.sc.record(s.m, n, vNum, nil, f)
			} else {
				s.sc.record(s.m, n, vNumText, b[i:j], 0)
			}
		}
		return j, nil
	case c == 't' && hasLit(b, i, "true"):
		if n.path >= 0 {
			s.sc.record(s.m, n, vTrue, nil, 0)
		}
		return i + 4, nil
	case c == 'f' && hasLit(b, i, "false"):
		if n.path >= 0 {
			s.sc.record(s.m, n, vFalse, nil, 0)
		}
		return i + 5, nil
	case c == 'n' && hasLit(b, i, "null"):
		if n.path >= 0 {
			s.sc.record(s.m, n, vNull, nil, 0)
		}
		return i + 4, nil
	}
	return i, s.syntax(i)
}

// skip validates and steps over a value no rule looks at.
func (s *scanner) skip(i int, depth int) (int, *EventError) {
	b := s.b
	switch c := b[i]; {
	case c == '"':
		end, _, ep := scanString(b, i+1)
		if end < 0 {
			return ep, s.syntax(ep)
		}
		return end + 1, nil
	case c == '{':
		if depth+1 > MaxEventDepth {
			return i, evErr(i, "nesting deeper than 1000 levels")
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, s.syntax(i)
			}
			end, _, ep := scanString(b, i+1)
			if end < 0 {
				return ep, s.syntax(ep)
			}
			i = skipSpace(b, end+1)
			if i >= len(b) || b[i] != ':' {
				return i, s.syntax(i)
			}
			i = skipSpace(b, i+1)
			if i >= len(b) {
				return i, s.syntax(i)
			}
			var err *EventError
			if i, err = s.skip(i, depth+1); err != nil {
				return i, err
			}
			var more bool
			if i, more, err = s.afterElement(i, '}'); err != nil {
				return i, err
			}
			if more {
				continue
			}
			return i, nil
		}
	case c == '[':
		if depth+1 > MaxEventDepth {
			return i, evErr(i, "nesting deeper than 1000 levels")
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			if i >= len(b) {
				return i, s.syntax(i)
			}
			var err *EventError
			if i, err = s.skip(i, depth+1); err != nil {
				return i, err
			}
			var more bool
			if i, more, err = s.afterElement(i, ']'); err != nil {
				return i, err
			}
			if more {
				continue
			}
			return i, nil
		}
	case c == '-' || c >= '0' && c <= '9':
		j := scanNumber(b, i)
		if j < 0 {
			return i, evErr(i, "invalid number")
		}
		return j, nil
	case c == 't' && hasLit(b, i, "true"):
		return i + 4, nil
	case c == 'f' && hasLit(b, i, "false"):
		return i + 5, nil
	case c == 'n' && hasLit(b, i, "null"):
		return i + 4, nil
	}
	return i, s.syntax(i)
}

// afterElement reads what follows a member or element of a container that
// closes with close: a comma (more follows; next is where it starts) or close
// (the container ends; next is just past it). Anything else is a syntax error.
func (s *scanner) afterElement(i int, close byte) (next int, more bool, err *EventError) {
	b := s.b
	i = skipSpace(b, i)
	if i < len(b) {
		switch b[i] {
		case ',':
			return skipSpace(b, i+1), true, nil
		case close:
			return i + 1, false, nil
		}
	}
	return i, false, s.syntax(i)
}
