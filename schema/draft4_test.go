package schema

import (
	"reflect"
	"strings"
	"testing"
)

func TestToJSONSchemaDraft4Discovered(t *testing.T) {
	out, err := ToJSONSchemaDraft4(mustOpenAPI(t, "wims.orders", "Order Created", mustInfer(t, orderEvent)))
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, out)
	checks := []struct {
		path string
		want any
	}{
		{"$schema", "http://json-schema.org/draft-04/schema#"},
		{"title", "AWSEvent"},
		{"type", "object"},
		{"properties/detail", map[string]any{"$ref": "#/definitions/OrderCreated"}},
		{"properties/time", map[string]any{"type": "string", "format": "date-time"}},
		{"definitions/OrderCreated/properties/shipping", map[string]any{"$ref": "#/definitions/Shipping"}},
		{"definitions/OrderCreated/properties/lines/items", map[string]any{"$ref": "#/definitions/Lines"}},
		{"definitions/Shipping/required", []any{"city", "zip"}},
	}
	for _, c := range checks {
		if got := at(t, doc, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.path, got, c.want)
		}
	}
	for _, k := range []string{"x-amazon-events-source", "x-amazon-events-detail-type"} {
		if _, ok := doc[k]; ok {
			t.Errorf("OpenAPI-only key %s kept", k)
		}
	}
	if _, ok := at(t, doc, "definitions").(map[string]any)["AWSEvent"]; ok {
		t.Errorf("root component repeated in definitions")
	}
	if strings.Contains(string(out), "#/components/") {
		t.Errorf("component refs left in output:\n%s", out)
	}
}

const handWritten = `{
  "openapi": "3.0.3",
  "info": {"title": "Stock", "version": "2"},
  "paths": {},
  "components": {"schemas": {
    "Inventory": {
      "type": "object",
      "required": ["sku", "levels"],
      "x-owner": "team-inventory",
      "example": {"sku": "A"},
      "properties": {
        "sku": {"type": "string", "pattern": "^[A-Z]+-[0-9]+$", "readOnly": true},
        "note": {"type": "string", "nullable": true, "deprecated": true},
        "grade": {"type": "string", "enum": ["A", "B"], "nullable": true},
        "code": {"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true},
        "anything": {"nullable": true},
        "parent": {"allOf": [{"$ref": "#/components/schemas/Inventory"}], "nullable": true},
        "levels": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Level"}},
        "attrs": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Level"}},
        "not5": {"not": {"type": "integer", "minimum": 5, "exclusiveMinimum": true}},
        "one": {"oneOf": [{"$ref": "#/components/schemas/Level"}, {"type": "boolean"}], "discriminator": {"propertyName": "x"}},
        "empty": {"type": "object", "required": []}
      }
    },
    "Level": {"type": "object", "properties": {"n": {"type": "number", "maximum": 1e3}}, "xml": {"name": "level"}, "externalDocs": {"url": "https://example.com"}, "writeOnly": false}
  }}
}`

func TestToJSONSchemaDraft4HandWritten(t *testing.T) {
	out, err := ToJSONSchemaDraft4([]byte(handWritten))
	if err != nil {
		t.Fatal(err)
	}
	doc := decode(t, out)
	null := map[string]any{"type": "null"}
	checks := []struct {
		path string
		want any
	}{
		{"title", "Inventory"},
		{"required", []any{"sku", "levels"}},
		{"properties/sku", map[string]any{"type": "string", "pattern": "^[A-Z]+-[0-9]+$"}},
		{"properties/note", map[string]any{"type": []any{"string", "null"}}},
		{"properties/grade", map[string]any{"type": []any{"string", "null"}, "enum": []any{"A", "B", nil}}},
		{"properties/code", map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}, null}}},
		{"properties/anything", null},
		{"properties/parent", map[string]any{"anyOf": []any{map[string]any{"allOf": []any{map[string]any{"$ref": "#"}}}, null}}},
		{"properties/levels/items", map[string]any{"$ref": "#/definitions/Level"}},
		{"properties/attrs/additionalProperties", map[string]any{"$ref": "#/definitions/Level"}},
		{"properties/not5/not", map[string]any{"type": "integer", "minimum": float64(5), "exclusiveMinimum": true}},
		{"properties/one", map[string]any{"oneOf": []any{map[string]any{"$ref": "#/definitions/Level"}, map[string]any{"type": "boolean"}}}},
		{"properties/empty", map[string]any{"type": "object"}},
		{"definitions/Level", map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "number", "maximum": float64(1000)}}}},
	}
	for _, c := range checks {
		if got := at(t, doc, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.path, got, c.want)
		}
	}
	if _, ok := doc["x-owner"]; ok {
		t.Errorf("x-owner kept")
	}
	if _, ok := doc["example"]; ok {
		t.Errorf("example kept")
	}
	if !strings.Contains(string(out), `"maximum": 1e3`) {
		t.Errorf("number literal not preserved:\n%s", out)
	}

	v, err := Compile(TypeOpenAPI3, []byte(handWritten))
	if err != nil {
		t.Fatalf("hand-written OpenAPI does not compile: %v", err)
	}
	valid := `{"sku":"AB-1","levels":[{"n":3}],"note":null,"grade":null,"code":7,"parent":null,"attrs":{"x":{"n":1}},"not5":5,"one":true}`
	if err := v.Validate([]byte(valid)); err != nil {
		t.Errorf("valid document rejected: %v", err)
	}
	for doc, want := range map[string]string{
		`{"sku":"ab","levels":[{}]}`:                           "at /sku:",
		`{"sku":"AB-1","levels":[]}`:                           "at /levels:",
		`{"sku":"AB-1","levels":[{"n":1001}]}`:                 "at /levels/0/n:",
		`{"sku":"AB-1","levels":[{}],"grade":"C"}`:             "at /grade:",
		`{"sku":"AB-1","levels":[{}],"not5":6}`:                "at /not5:",
		`{"sku":"AB-1","levels":[{}],"parent":{"sku":"AB"}}`:   "at /parent",
		`{"sku":"AB-1","levels":[{}],"attrs":{"q":{"n":"x"}}}`: "at /attrs/q/n:",
	} {
		err := v.Validate([]byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Validate(%s) = %v, want prefix %q", doc, err, want)
		}
	}
}

func TestToJSONSchemaDraft4Root(t *testing.T) {
	for name, tc := range map[string]struct{ doc, title string }{
		"first sorted":  {`{"components":{"schemas":{"Zeta":{"type":"string"},"Alpha":{"type":"integer"}}}}`, "Alpha"},
		"AWSEvent wins": {`{"components":{"schemas":{"A":{"type":"string"},"AWSEvent":{"type":"object"}}}}`, "AWSEvent"},
	} {
		out, err := ToJSONSchemaDraft4([]byte(tc.doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := decode(t, out)["title"]; got != tc.title {
			t.Errorf("%s: title = %v, want %s", name, got, tc.title)
		}
	}

	// A root that is only a $ref must not hide the definitions it uses.
	out, err := ToJSONSchemaDraft4([]byte(`{"components":{"schemas":{"A":{"$ref":"#/components/schemas/B"},"B":{"type":"integer"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := at(t, decode(t, out), "allOf"); !reflect.DeepEqual(got, []any{map[string]any{"$ref": "#/definitions/B"}}) {
		t.Errorf("allOf = %#v", got)
	}
	v, err := Compile(TypeJSONSchemaDraft4, out)
	if err != nil {
		t.Fatal(err)
	}
	if v.Validate([]byte(`1`)) != nil || v.Validate([]byte(`"x"`)) == nil {
		t.Errorf("ref root validates wrongly")
	}
}

func TestToJSONSchemaDraft4Errors(t *testing.T) {
	for _, doc := range []string{
		``, `{`, `[]`, `"x"`, `{} {}`, `{"openapi":"3.0.0"}`, `{"components":{}}`,
		`{"components":{"schemas":{}}}`, `{"components":{"schemas":[]}}`, `{"components":{"schemas":{"A":1}}}`,
	} {
		if out, err := ToJSONSchemaDraft4([]byte(doc)); err == nil {
			t.Errorf("ToJSONSchemaDraft4(%s) = %s, want error", doc, out)
		}
	}
}

// FuzzToJSONSchemaDraft4 feeds arbitrary bytes through conversion and
// compilation; neither may panic, whatever users upload.
func FuzzToJSONSchemaDraft4(f *testing.F) {
	f.Add([]byte(handWritten))
	f.Add([]byte(`{"components":{"schemas":{"A":{"type":"string","nullable":true,"enum":[{"a":1},[1],"x"]}}}}`))
	f.Add([]byte(`{"components":{"schemas":{"A":{"type":["string",{"x":1}],"nullable":true}}}}`))
	f.Add([]byte(`{"components":{"schemas":{"A":{"$ref":"#/components/schemas/A~1b/x"},"A/b":{"x":{}}}}}`))
	f.Add([]byte(`{"components":{"schemas":{"A":{"items":[{"nullable":true}],"anyOf":7,"properties":[]}}}}`))
	f.Add([]byte(`{"components":{"schemas":{"A":{"$ref":"file:///etc/passwd"}}}}`))
	f.Add([]byte(`{"openapi":"3.1.0","components":{"schemas":{"A":{"$ref":"https://example.com/s.json"}}}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := ToJSONSchemaDraft4(doc)
		if err != nil {
			return
		}
		if _, err := Infer(out); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		_, _ = Compile(TypeJSONSchemaDraft4, out)
		_ = CheckContent(TypeOpenAPI3, doc)
	})
}
