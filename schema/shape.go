package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// JSON type names as they appear in Shape.Types, OpenAPI and JSON Schema.
const (
	typeArray   = "array"
	typeBoolean = "boolean"
	typeInteger = "integer"
	typeNumber  = "number"
	typeObject  = "object"
	typeString  = "string"
)

// String formats that discovery recognises.
const (
	formatDateTime = "date-time"
	formatDate     = "date"
)

// Shape is the inferred type of a JSON value, or of every value seen at one
// place across many events. It is exported with JSON tags so a registry can
// persist the shape it discovered and merge later events into it without
// re-reading the rendered schema.
type Shape struct {
	// Types is the sorted set of non-null JSON types seen. It is empty when
	// only null was seen.
	Types []string `json:"types,omitempty"`
	// Null records that null was seen, so the rendered schema stays nullable.
	Null bool `json:"null,omitempty"`
	// Format is "date-time" (RFC 3339) or "date" (YYYY-MM-DD) when every
	// string seen had that format; one differing string clears it, because a
	// schema that rejects events it was built from would be useless.
	Format string `json:"format,omitempty"`
	// Properties holds the shape of every key seen in objects.
	Properties map[string]*Shape `json:"properties,omitempty"`
	// Required lists, sorted, the keys present in every object seen.
	Required []string `json:"required,omitempty"`
	// Items merges the elements of every array seen; it is nil when only
	// empty arrays were seen, since nothing is known about their elements.
	Items *Shape `json:"items,omitempty"`
}

// Infer returns the shape of the single JSON value in doc. Numbers are kept as
// literals so that 1 and 1.0 infer as integer and number respectively, which
// float64 decoding could not tell apart.
func Infer(doc []byte) (*Shape, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("schema: empty JSON document")
		}
		return nil, fmt.Errorf("schema: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("schema: invalid JSON: data after top-level value")
	}
	return shapeOfValue(v), nil
}

// shapeOfValue maps a value decoded with UseNumber to its shape.
func shapeOfValue(v any) *Shape {
	switch v := v.(type) {
	case nil:
		return &Shape{Null: true}
	case bool:
		return &Shape{Types: []string{typeBoolean}}
	case json.Number:
		if strings.ContainsAny(string(v), ".eE") {
			return &Shape{Types: []string{typeNumber}}
		}
		return &Shape{Types: []string{typeInteger}}
	case string:
		return &Shape{Types: []string{typeString}, Format: stringFormat(v)}
	case []any:
		s := &Shape{Types: []string{typeArray}}
		for _, e := range v {
			es := shapeOfValue(e)
			if s.Items == nil {
				s.Items = es
			} else {
				mergeInto(s.Items, es, true)
			}
		}
		return s
	case map[string]any:
		s := &Shape{Types: []string{typeObject}, Properties: make(map[string]*Shape, len(v))}
		s.Required = make([]string, 0, len(v))
		for k, e := range v {
			s.Properties[k] = shapeOfValue(e)
			s.Required = append(s.Required, k)
		}
		sort.Strings(s.Required)
		return s
	}
	// Unreachable for values produced by encoding/json.
	return &Shape{}
}

// Merge returns the shape of values that match a or b, so that a registry can
// widen a stored shape with a new event. Neither argument is modified and the
// result shares no memory with them.
func Merge(a, b *Shape) *Shape {
	if a == nil {
		return b.clone()
	}
	out := a.clone()
	mergeInto(out, b, false)
	return out
}

// mergeInto widens dst, which the caller owns, by src. Unless srcOwned says
// src is garbage after the call (so its parts may be adopted, which keeps
// folding deep trees linear), it never keeps a pointer into src.
func mergeInto(dst, src *Shape, srcOwned bool) {
	if src == nil {
		return
	}
	dstString, srcString := dst.has(typeString), src.has(typeString)
	dstObject, srcObject := dst.has(typeObject), src.has(typeObject)

	switch {
	case dstString && srcString:
		if dst.Format != src.Format {
			dst.Format = ""
		}
	case srcString:
		dst.Format = src.Format
	}

	switch {
	case dstObject && srcObject:
		dst.Required = intersect(dst.Required, src.Required)
	case srcObject:
		dst.Required = src.Required
		if !srcOwned {
			dst.Required = slices.Clone(src.Required)
		}
	}
	if len(src.Properties) > 0 && dst.Properties == nil {
		dst.Properties = make(map[string]*Shape, len(src.Properties))
	}
	for k, sp := range src.Properties {
		switch dp, ok := dst.Properties[k]; {
		case ok && dp != nil:
			mergeInto(dp, sp, srcOwned)
		case srcOwned:
			dst.Properties[k] = sp
		default:
			dst.Properties[k] = sp.clone()
		}
	}

	if src.Items != nil {
		switch {
		case dst.Items != nil:
			mergeInto(dst.Items, src.Items, srcOwned)
		case srcOwned:
			dst.Items = src.Items
		default:
			dst.Items = src.Items.clone()
		}
	}

	dst.Null = dst.Null || src.Null
	dst.Types = unionTypes(dst.Types, src.Types)
	if !dst.has(typeString) {
		dst.Format = ""
	}
}

// unionTypes returns the sorted union of two type sets. A field that carried
// both integers and fractions is a number; keeping "integer" alongside would
// render a pointless anyOf.
func unionTypes(a, b []string) []string {
	if len(a) == 1 && slices.Equal(a, b) {
		return a // the common case when merging a repeat event
	}
	out := make([]string, 0, len(a)+len(b))
	out = append(out, a...)
	out = append(out, b...)
	sort.Strings(out)
	out = slices.Compact(out)
	if slices.Contains(out, typeNumber) {
		out = slices.DeleteFunc(out, func(t string) bool { return t == typeInteger })
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// intersect returns the sorted keys present in both sorted lists.
func intersect(a, b []string) []string {
	if slices.Equal(a, b) {
		return a
	}
	var out []string
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			out = append(out, a[i])
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return out
}

// has reports whether t is among the shape's types.
func (s *Shape) has(t string) bool {
	return slices.Contains(s.Types, t)
}

// clone deep-copies s so merges never alias caller-owned shapes.
func (s *Shape) clone() *Shape {
	if s == nil {
		return nil
	}
	out := &Shape{
		Types:    slices.Clone(s.Types),
		Null:     s.Null,
		Format:   s.Format,
		Required: slices.Clone(s.Required),
		Items:    s.Items.clone(),
	}
	if s.Properties != nil {
		out.Properties = make(map[string]*Shape, len(s.Properties))
		for k, p := range s.Properties {
			out.Properties[k] = p.clone()
		}
	}
	return out
}

// Equal reports whether a and b describe the same structure, so a registry
// mints a new schema version only when merging an event changed something.
// Nil and empty slices or maps compare equal because a shape that went
// through JSON loses that distinction.
func Equal(a, b *Shape) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Null != b.Null || a.Format != b.Format ||
		!slices.Equal(a.Types, b.Types) || !slices.Equal(a.Required, b.Required) ||
		len(a.Properties) != len(b.Properties) || !Equal(a.Items, b.Items) {
		return false
	}
	for k, ap := range a.Properties {
		bp, ok := b.Properties[k]
		if !ok || !Equal(ap, bp) {
			return false
		}
	}
	return true
}
