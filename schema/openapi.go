package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// Names fixed by AWS's discovered-schema layout.
const (
	eventComponent  = "AWSEvent"
	detailProperty  = "detail"
	defaultDetail   = "Detail"
	fallbackName    = "Object"
	componentPrefix = "#/components/schemas/"
	openAPIVersion  = "3.0.0"
	schemaVersion   = "1.0.0"
)

// OpenAPI renders the shape of a whole event envelope as an OpenAPI 3
// document laid out like AWS's discovered schemas: an AWSEvent component
// carrying the source and detail type as x-amazon-events-* extensions, the
// detail in a component named after the detail type, and every nested object
// with properties in a component of its own. Matching AWS lets code
// generators and tooling written for EventBridge work unchanged.
//
// The output is deterministic and indented, since users read it and a
// registry compares it byte for byte.
//
// One deviation from plain "add nullable": a nullable object that has its
// own component is rendered as {"allOf":[{"$ref":...}],"nullable":true},
// because OpenAPI 3.0 ignores keywords next to $ref.
func OpenAPI(source, detailType string, envelope *Shape) ([]byte, error) {
	if envelope == nil || envelope.Null || !slices.Equal(envelope.Types, []string{typeObject}) {
		return nil, errors.New("schema: event envelope shape must be a non-null object")
	}
	r := &renderer{
		components: map[string]any{},
		used:       map[string]bool{eventComponent: true},
		next:       map[string]int{},
	}
	title := identifier(detailType, false)
	if title == "" {
		title = defaultDetail
	}
	title = r.name(title) // a detail type spelled "AWSEvent" must not replace the envelope
	detail := envelope.Properties[detailProperty]

	// Properties are walked in sorted order so component names (and their
	// clash suffixes) do not depend on map iteration.
	props := make(map[string]any, len(envelope.Properties))
	for _, k := range sortedKeys(envelope.Properties) {
		if k == detailProperty {
			r.components[title] = r.componentBody(detail, title)
			props[k] = map[string]any{"$ref": componentPrefix + title}
			continue
		}
		props[k] = r.render(envelope.Properties[k], identifier(k, true))
	}
	event := map[string]any{
		"type":                        typeObject,
		"x-amazon-events-detail-type": detailType,
		"x-amazon-events-source":      source,
	}
	if len(props) > 0 {
		event["properties"] = props
	}
	if len(envelope.Required) > 0 {
		event["required"] = sortedCopy(envelope.Required)
	}
	r.components[eventComponent] = event
	if r.err != nil {
		return nil, r.err
	}

	doc := orderedObject{
		{"openapi", openAPIVersion},
		{"info", orderedObject{{"version", schemaVersion}, {"title", title}}},
		{"paths", map[string]any{}},
		{"components", orderedObject{{"schemas", r.components}}},
	}
	return json.MarshalIndent(doc, "", "  ")
}

// renderer accumulates components while a shape tree is rendered.
type renderer struct {
	components map[string]any
	used       map[string]bool
	next       map[string]int // next clash suffix to try, per hint
	err        error
}

// name reserves a component name derived from hint, appending 1, 2, ... on
// a clash so unrelated objects that share a property name stay apart.
func (r *renderer) name(hint string) string {
	if !r.used[hint] {
		r.used[hint] = true
		return hint
	}
	// Resume where the last clash on this hint stopped, so a deeply
	// repeated property name costs linear, not quadratic, time.
	for n := max(r.next[hint], 1); ; n++ {
		cand := hint + strconv.Itoa(n)
		if !r.used[cand] {
			r.used[cand] = true
			r.next[hint] = n + 1
			return cand
		}
	}
}

// componentBody renders s as the body of component name: an object is
// inlined there (that is the component's purpose), anything else is
// rendered as an ordinary schema.
func (r *renderer) componentBody(s *Shape, name string) map[string]any {
	if s != nil && slices.Equal(s.Types, []string{typeObject}) {
		body := r.objectBody(s)
		if s.Null {
			body["nullable"] = true
		}
		return body
	}
	return r.render(s, name)
}

// render renders s where it is used (a property or array items); hint names
// any component an object in s needs.
func (r *renderer) render(s *Shape, hint string) map[string]any {
	if s == nil {
		return map[string]any{}
	}
	var node map[string]any
	switch len(s.Types) {
	case 0:
		node = map[string]any{}
	case 1:
		node = r.branch(s, s.Types[0], hint)
		if _, isRef := node["$ref"]; isRef && s.Null {
			node = map[string]any{"allOf": []any{node}}
		}
	default:
		branches := make([]any, 0, len(s.Types))
		for _, t := range sortedCopy(s.Types) {
			branches = append(branches, r.branch(s, t, hint))
		}
		node = map[string]any{"anyOf": branches}
	}
	if s.Null {
		node["nullable"] = true
	}
	return node
}

// branch renders the part of s that has JSON type t.
func (r *renderer) branch(s *Shape, t, hint string) map[string]any {
	switch t {
	case typeObject:
		if len(s.Properties) == 0 {
			return map[string]any{"type": typeObject}
		}
		// Reserve the name before descending so a parent is named before
		// its children (depth first, pre-order).
		name := r.name(hint)
		r.components[name] = r.objectBody(s)
		return map[string]any{"$ref": componentPrefix + name}
	case typeArray:
		node := map[string]any{"type": typeArray}
		if s.Items != nil {
			node["items"] = r.render(s.Items, hint)
		}
		return node
	case typeString:
		node := map[string]any{"type": typeString}
		if s.Format != "" {
			node["format"] = s.Format
		}
		return node
	case typeBoolean, typeInteger, typeNumber:
		return map[string]any{"type": t}
	}
	if r.err == nil {
		r.err = fmt.Errorf("schema: shape has unknown type %q", t)
	}
	return map[string]any{}
}

// objectBody renders an object's properties and required list inline.
func (r *renderer) objectBody(s *Shape) map[string]any {
	body := map[string]any{"type": typeObject}
	if len(s.Properties) > 0 {
		props := make(map[string]any, len(s.Properties))
		for _, k := range sortedKeys(s.Properties) {
			props[k] = r.render(s.Properties[k], identifier(k, true))
		}
		body["properties"] = props
	}
	if len(s.Required) > 0 {
		body["required"] = sortedCopy(s.Required)
	}
	return body
}

// identifier keeps only [A-Za-z0-9] of s, which keeps component names valid
// and $ref pointers free of escapes. With camel set, each run of kept
// characters starts upper-case, turning shipping_address into
// ShippingAddress. An empty camel result falls back to a generic name.
func identifier(s string, camel bool) string {
	out := make([]byte, 0, len(s))
	upper := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum {
			upper = true
			continue
		}
		if camel && upper && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper = false
		out = append(out, c)
	}
	if camel && len(out) == 0 {
		return fallbackName
	}
	return string(out)
}

func sortedKeys(m map[string]*Shape) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
