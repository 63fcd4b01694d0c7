package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

const (
	draft4URL      = "http://json-schema.org/draft-04/schema#"
	definitionsRef = "#/definitions/"
)

// openAPIOnly lists OpenAPI schema keywords with no JSON Schema meaning;
// they are dropped so strict draft-4 tooling does not choke on them.
var openAPIOnly = map[string]bool{
	"nullable":      true,
	"example":       true,
	"discriminator": true,
	"readOnly":      true,
	"writeOnly":     true,
	"xml":           true,
	"externalDocs":  true,
	"deprecated":    true,
}

// ToJSONSchemaDraft4 converts an OpenAPI 3 document into one JSON Schema
// Draft 4 document, as AWS's ExportSchema does: the AWSEvent component (or,
// without one, the first component by name) becomes the root and the other
// components become definitions. It accepts hand-written OpenAPI as well as
// discovered schemas, because users register both and validation compiles
// the result.
func ToJSONSchemaDraft4(openapi []byte) ([]byte, error) {
	out, _, err := toDraft4(openapi)
	return out, err
}

// toDraft4 implements ToJSONSchemaDraft4 and also returns the name of the
// component that became the root, so errors can point back into the
// OpenAPI document.
func toDraft4(openapi []byte) ([]byte, string, error) {
	doc, err := decodeObject(openapi)
	if err != nil {
		return nil, "", err
	}
	components, _ := doc["components"].(map[string]any)
	schemas, _ := components["schemas"].(map[string]any)
	if len(schemas) == 0 {
		return nil, "", errors.New("OpenApi3 content needs components.schemas")
	}
	names := make([]string, 0, len(schemas))
	for name := range schemas {
		names = append(names, name)
	}
	slices.Sort(names)
	root := names[0]
	if _, ok := schemas[eventComponent]; ok {
		root = eventComponent
	}

	c := converter{root: root}
	definitions := map[string]any{}
	for _, name := range names {
		if _, ok := schemas[name].(map[string]any); !ok {
			return nil, "", fmt.Errorf("components.schemas.%s is not a schema object", name)
		}
		if name != root {
			definitions[name] = c.schema(schemas[name])
		}
	}

	rootSchema := c.schema(schemas[root]).(map[string]any)
	if _, ok := rootSchema["$ref"]; ok {
		// Draft 4 ignores everything beside $ref, which would hide the
		// definitions the reference points into.
		rootSchema = map[string]any{"allOf": []any{rootSchema}}
	}
	// Definitions the root schema declared itself (not OpenAPI, but
	// harmless) are kept unless a component takes the name.
	if own, ok := rootSchema["definitions"].(map[string]any); ok {
		for k, v := range own {
			if _, taken := definitions[k]; !taken {
				definitions[k] = v
			}
		}
	}

	out := orderedObject{{"$schema", draft4URL}, {"title", root}}
	keys := make([]string, 0, len(rootSchema))
	for k := range rootSchema {
		if k != "$schema" && k != "title" && k != "definitions" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, member{k, rootSchema[k]})
	}
	if len(definitions) > 0 {
		out = append(out, member{"definitions", definitions})
	} else if own, ok := rootSchema["definitions"]; ok {
		out = append(out, member{"definitions", own})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	return b, root, err
}

// decodeObject decodes a JSON object, keeping numbers as written so limits
// and enum values survive conversion exactly.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("content is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("content is not valid JSON: data after the top-level value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("content must be a JSON object")
	}
	return m, nil
}

// converter rewrites OpenAPI schema objects into draft 4.
type converter struct {
	root string // component that became the document root
}

// schema converts one schema. Non-object values are returned unchanged so
// the compiler, not the converter, reports them.
func (c converter) schema(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, val := range m {
		switch {
		case openAPIOnly[k] || strings.HasPrefix(k, "x-"):
			continue
		case k == "$ref":
			out[k] = c.ref(val)
		case k == "properties" || k == "patternProperties" || k == "definitions":
			out[k] = c.schemaMap(val)
		case k == "items":
			if list, ok := val.([]any); ok {
				out[k] = c.schemaList(list)
			} else {
				out[k] = c.schema(val)
			}
		case k == "allOf" || k == "anyOf" || k == "oneOf":
			if list, ok := val.([]any); ok {
				out[k] = c.schemaList(list)
			} else {
				out[k] = val
			}
		case k == "additionalProperties" || k == "not" || k == "additionalItems":
			out[k] = c.schema(val)
		case k == "required":
			// OpenAPI allows an empty list; draft 4 demands at least one.
			if list, ok := val.([]any); ok && len(list) == 0 {
				continue
			}
			out[k] = val
		default:
			out[k] = val
		}
	}
	if nullable, _ := m["nullable"].(bool); nullable {
		return withNull(out)
	}
	return out
}

func (c converter) schemaMap(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, s := range m {
		out[k] = c.schema(s)
	}
	return out
}

func (c converter) schemaList(list []any) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = c.schema(s)
	}
	return out
}

// ref points component references at definitions, or at the document root
// for the component that became the root.
func (c converter) ref(v any) any {
	ref, ok := v.(string)
	if !ok {
		return v
	}
	rest, ok := strings.CutPrefix(ref, componentPrefix)
	if !ok {
		return ref
	}
	name, tail, _ := strings.Cut(rest, "/")
	if tail != "" {
		tail = "/" + tail
	}
	if unescapePointer(name) == c.root {
		return "#" + tail
	}
	return definitionsRef + name + tail
}

// unescapePointer decodes one JSON pointer token.
func unescapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

// withNull makes a converted schema also accept null, which is what
// OpenAPI's nullable means.
func withNull(s map[string]any) map[string]any {
	if len(s) == 0 {
		return map[string]any{"type": "null"}
	}
	_, hasAllOf := s["allOf"]
	_, hasOneOf := s["oneOf"]
	_, hasNot := s["not"]
	_, hasRef := s["$ref"]
	if hasAllOf || hasOneOf || hasNot || hasRef {
		// Each of these can reject null on its own, so null has to be an
		// alternative to the whole schema.
		return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
	}
	switch t := s["type"].(type) {
	case string:
		if t != "null" {
			s["type"] = []any{t, "null"}
		}
	case []any:
		// Comparing against a string never panics, whatever t holds.
		if !slices.Contains(t, any("null")) {
			s["type"] = append(slices.Clone(t), "null")
		}
	}
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, nil) {
		s["enum"] = append(slices.Clone(enum), nil)
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		s["anyOf"] = append(anyOf, map[string]any{"type": "null"})
	}
	return s
}
