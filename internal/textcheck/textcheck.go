// Package textcheck finds text that one store engine would keep and the
// other refuse: PostgreSQL cannot hold a NUL character in text or jsonb,
// nor invalid UTF-8, which SQLite stores as given. Refusing such text where
// it enters (a path, a query parameter, a JSON body) makes both engines
// accept the same inputs, with a 400 naming the field instead of a 500.
package textcheck

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Valid reports whether s is UTF-8 without a NUL character.
func Valid(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// nulEscape is how a NUL travels in JSON text.
var nulEscape = []byte(`\u0000`)

// NULInJSON reports whether a JSON document holds a NUL character in a
// string (a member name or a value), and where: the path of the member,
// "items[2].sku" style, as the decoder's field errors name it. Invalid
// UTF-8 needs no check here: encoding/json replaces it with U+FFFD.
func NULInJSON(doc []byte) (path string, found bool) {
	if !bytes.Contains(doc, nulEscape) {
		return "", false // the common case: no escape at all
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	type frame struct {
		array bool
		name  string // the member being read, for objects
		index int    // the next element, for arrays
		key   bool   // an object expects a member name next
	}
	var stack []frame
	at := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case f.name != "":
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.name)
			}
		}
		return b.String()
	}
	// value records that a value was read in the innermost container.
	value := func() {
		if n := len(stack); n > 0 {
			if stack[n-1].array {
				stack[n-1].index++
			} else {
				stack[n-1].key = true
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false // malformed JSON is the decoder's to report
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, frame{key: true})
			case '[':
				stack = append(stack, frame{array: true})
			default:
				stack = stack[:len(stack)-1]
				value()
				if len(stack) == 0 {
					return "", false
				}
			}
		case string:
			if n := len(stack); n > 0 && !stack[n-1].array && stack[n-1].key {
				stack[n-1].name, stack[n-1].key = t, false
				if strings.IndexByte(t, 0) >= 0 {
					return at(), true
				}
				continue
			}
			if strings.IndexByte(t, 0) >= 0 {
				return at(), true
			}
			value()
		default:
			value()
		}
		if len(stack) == 0 {
			return "", false
		}
	}
}
