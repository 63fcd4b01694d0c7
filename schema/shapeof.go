package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ShapeOf recovers the envelope shape from a document OpenAPI produced, so a
// registry that only stored the schema text can keep merging new events into
// it. It understands exactly the constructs OpenAPI emits and returns an
// error for anything else (including hand-written schemas), rather than
// guessing at a shape that would later be rendered differently.
func ShapeOf(openapi []byte) (*Shape, error) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(openapi))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("schema: OpenAPI document is not a JSON object: %w", err)
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	event, ok := schemas[eventComponent]
	if !ok {
		return nil, errors.New("schema: OpenAPI document has no components.schemas.AWSEvent")
	}
	p := &shapeParser{schemas: schemas, seen: map[string]bool{eventComponent: true}}
	s, err := p.parse(event)
	if err != nil {
		return nil, err
	}
	if s.Null || len(s.Types) != 1 || s.Types[0] != typeObject {
		return nil, errors.New("schema: AWSEvent is not an object schema")
	}
	return s, nil
}

// shapeParser reads schema nodes back into shapes.
type shapeParser struct {
	schemas map[string]any
	// seen holds components already referenced. OpenAPI references each
	// component once, and refusing a second reference also rules out
	// cycles and exponential expansion of crafted documents.
	seen map[string]bool
}

func (p *shapeParser) parse(node any) (*Shape, error) {
	m, ok := node.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("schema: schema node is %T, not an object", node)
	}
	s := &Shape{}
	var parts []*Shape // referenced or combined schemas merged into s
	for k, v := range m {
		switch k {
		case "type":
			t, _ := v.(string)
			switch t {
			case typeArray, typeBoolean, typeInteger, typeNumber, typeObject, typeString:
				s.Types = []string{t}
			default:
				return nil, fmt.Errorf("schema: unsupported type %v", v)
			}
		case "nullable":
			b, ok := v.(bool)
			if !ok {
				return nil, errors.New("schema: nullable is not a boolean")
			}
			s.Null = b
		case "format":
			f, _ := v.(string)
			if f != formatDateTime && f != formatDate {
				return nil, fmt.Errorf("schema: unsupported format %v", v)
			}
			s.Format = f
		case "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, errors.New("schema: properties is not an object")
			}
			s.Properties = make(map[string]*Shape, len(props))
			for name, pv := range props {
				ps, err := p.parse(pv)
				if err != nil {
					return nil, err
				}
				s.Properties[name] = ps
			}
		case "required":
			list, ok := v.([]any)
			if !ok {
				return nil, errors.New("schema: required is not an array")
			}
			for _, e := range list {
				name, ok := e.(string)
				if !ok {
					return nil, errors.New("schema: required holds a non-string")
				}
				s.Required = append(s.Required, name)
			}
			sort.Strings(s.Required)
		case "items":
			items, err := p.parse(v)
			if err != nil {
				return nil, err
			}
			s.Items = items
		case "$ref":
			ref, err := p.resolve(v)
			if err != nil {
				return nil, err
			}
			parts = append(parts, ref)
		case "allOf", "anyOf":
			list, ok := v.([]any)
			if !ok || len(list) == 0 || (k == "allOf" && len(list) != 1) {
				return nil, fmt.Errorf("schema: unsupported %s", k)
			}
			for _, e := range list {
				es, err := p.parse(e)
				if err != nil {
					return nil, err
				}
				parts = append(parts, es)
			}
		default:
			if !strings.HasPrefix(k, "x-") {
				return nil, fmt.Errorf("schema: unsupported keyword %q", k)
			}
		}
	}
	// The parts of a rendered shape have disjoint types, so merging them
	// restores the shape exactly (Merge keeps one side's required list and
	// format when the other side lacks objects or strings).
	for _, part := range parts {
		mergeInto(s, part, true)
	}
	return s, nil
}

// resolve parses the component a $ref names.
func (p *shapeParser) resolve(v any) (*Shape, error) {
	ref, _ := v.(string)
	name, ok := strings.CutPrefix(ref, componentPrefix)
	if !ok || strings.Contains(name, "/") {
		return nil, fmt.Errorf("schema: unsupported $ref %q", ref)
	}
	target, ok := p.schemas[name]
	if !ok {
		return nil, fmt.Errorf("schema: $ref %q names no component", ref)
	}
	if p.seen[name] {
		return nil, fmt.Errorf("schema: component %q is referenced more than once", name)
	}
	p.seen[name] = true
	return p.parse(target)
}
