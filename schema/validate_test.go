package schema

import (
	"strings"
	"sync"
	"testing"
)

func orderValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := Compile(TypeOpenAPI3, mustOpenAPI(t, "wims.orders", "Order Created", mustInfer(t, orderEvent)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	v := orderValidator(t)
	if err := v.Validate([]byte(orderEvent)); err != nil {
		t.Fatalf("the event the schema came from is rejected: %v", err)
	}
	tests := []struct {
		name, from, to, want string
	}{
		{"wrong type", `"quantity":2,`, `"quantity":"2",`, "at /detail/quantity: got string, want integer"},
		{"missing required", `"quantity":2,"customerId"`, `"customerId"`, "at /detail: missing property 'quantity'"},
		{"nested component", `"zip":"10115"`, `"zip":10115`, "at /detail/shipping/zip: got number, want string"},
		{"array items", `"lines":[{"sku":"SKU-1","quantity":2}]`, `"lines":[{"sku":"SKU-1","quantity":2},{"sku":true,"quantity":1}]`, "at /detail/lines/1/sku: got boolean, want string"},
		{"date-time format", `"time":"2026-12-03T06:00:00Z"`, `"time":"yesterday"`, "at /time: 'yesterday' is not valid date-time"},
		{"null not allowed", `"amount":19.99`, `"amount":null`, "at /detail/amount: got null, want number"},
		{"root", orderEvent, `[]`, "at (root): got array, want object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(orderEvent, tt.from, tt.to, 1)
			if doc == orderEvent {
				t.Fatalf("test bug: %q not in event", tt.from)
			}
			err := v.Validate([]byte(doc))
			if err == nil {
				t.Fatalf("Validate accepted %s", doc)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Validate = %q, want prefix %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestValidateNullableAndAnyOf(t *testing.T) {
	env := Merge(mustInfer(t, `{"detail":{"n":1,"o":{"x":1},"u":"s"}}`), mustInfer(t, `{"detail":{"n":null,"o":null,"u":2}}`))
	v, err := Compile(TypeOpenAPI3, mustOpenAPI(t, "s", "T", env))
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{`{"detail":{"n":null,"o":null,"u":"x"}}`, `{"detail":{"n":3,"o":{"x":2},"u":4}}`} {
		if err := v.Validate([]byte(ok)); err != nil {
			t.Errorf("Validate(%s) = %v", ok, err)
		}
	}
	for doc, want := range map[string]string{
		`{"detail":{"n":"x","o":null,"u":1}}`:       "at /detail/n: got string, want integer or null",
		`{"detail":{"n":1,"o":{"x":"y"},"u":1}}`:    "at /detail/o/x: got string, want integer",
		`{"detail":{"n":1,"o":null,"u":true}}`:      "at /detail/u: got boolean, want integer or string",
		`{"detail":{"n":1,"o":"no","u":1}}`:         "at /detail/o: got string, want null or object",
		`{"detail":{"n":1,"o":null,"u":1,"z":1.5}}`: "",
	} {
		err := v.Validate([]byte(doc))
		switch {
		case want == "" && err != nil:
			t.Errorf("Validate(%s) = %v, want nil (extra properties are allowed)", doc, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Errorf("Validate(%s) = %v, want %q", doc, err, want)
		}
	}
}

func TestValidateDeterministic(t *testing.T) {
	v := orderValidator(t)
	bad := strings.NewReplacer(`"quantity":2,`, `"quantity":"2",`, `"zip":"10115"`, `"zip":1`, `"status":"PENDING"`, `"status":false`).Replace(orderEvent)
	first := v.Validate([]byte(bad)).Error()
	for i := 0; i < 50; i++ {
		if got := v.Validate([]byte(bad)).Error(); got != first {
			t.Fatalf("error message changes between runs: %q vs %q", first, got)
		}
	}
}

func TestValidateInvalidJSON(t *testing.T) {
	v := orderValidator(t)
	for _, doc := range []string{``, `{`, `{} {}`} {
		if err := v.Validate([]byte(doc)); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
			t.Errorf("Validate(%q) = %v, want a JSON error", doc, err)
		}
	}
}

func TestValidateConcurrent(t *testing.T) {
	v := orderValidator(t)
	bad := strings.Replace(orderEvent, `"quantity":2,`, `"quantity":"2",`, 1)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if v.Validate([]byte(orderEvent)) != nil || v.Validate([]byte(bad)) == nil {
					t.Error("concurrent validation gave a wrong answer")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestCompileDraft4(t *testing.T) {
	const draft4 = `{
	  "$schema": "http://json-schema.org/draft-04/schema#",
	  "type": "object",
	  "required": ["id"],
	  "properties": {"id": {"type": "string"}, "n": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}},
	  "definitions": {"unused": {"type": "null"}}
	}`
	v, err := Compile(TypeJSONSchemaDraft4, []byte(draft4))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate([]byte(`{"id":"a","n":1}`)); err != nil {
		t.Errorf("valid doc rejected: %v", err)
	}
	// exclusiveMinimum as a boolean proves draft 4 semantics are in force.
	if err := v.Validate([]byte(`{"id":"a","n":0}`)); err == nil || !strings.HasPrefix(err.Error(), "at /n:") {
		t.Errorf("Validate = %v, want failure at /n", err)
	}
}

func TestCheckContent(t *testing.T) {
	discovered := mustOpenAPI(t, "s", "T", mustInfer(t, orderEvent))
	tests := []struct {
		name, typ, content, wantErr string
	}{
		{"discovered OpenAPI", TypeOpenAPI3, string(discovered), ""},
		{"hand-written OpenAPI", TypeOpenAPI3, handWritten, ""},
		{"draft 4", TypeJSONSchemaDraft4, `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"a":{"type":"string"}}}`, ""},
		{"draft 4 without $schema", TypeJSONSchemaDraft4, `{"type":"integer"}`, ""},
		{"empty draft 4", TypeJSONSchemaDraft4, `{}`, ""},
		{"bad JSON", TypeOpenAPI3, `{"openapi":`, "content is not valid JSON: "},
		{"bad JSON draft 4", TypeJSONSchemaDraft4, `nope`, "content is not valid JSON: "},
		{"trailing data", TypeJSONSchemaDraft4, `{} []`, "content is not valid JSON"},
		{"not an object", TypeJSONSchemaDraft4, `[]`, "content must be a JSON object"},
		{"OpenAPI without version", TypeOpenAPI3, `{"components":{"schemas":{"A":{}}}}`, `OpenApi3 content needs an "openapi" field`},
		{"OpenAPI 2", TypeOpenAPI3, `{"openapi":"2.0","components":{"schemas":{"A":{}}}}`, `OpenApi3 content needs an "openapi" field`},
		{"OpenAPI without components", TypeOpenAPI3, `{"openapi":"3.0.0"}`, "OpenApi3 content needs components.schemas"},
		{"OpenAPI with empty schemas", TypeOpenAPI3, `{"openapi":"3.0.0","components":{"schemas":{}}}`, "OpenApi3 content needs components.schemas"},
		{"OpenAPI with bad schema", TypeOpenAPI3, `{"openapi":"3.0.0","components":{"schemas":{"A":{"type":"strung"}}}}`, "OpenApi3 content has an invalid schema: at /components/schemas/A/type: value must be one of"},
		{"OpenAPI with dangling ref", TypeOpenAPI3, `{"openapi":"3.0.0","components":{"schemas":{"A":{"$ref":"#/components/schemas/B"}}}}`, `schema does not compile: json-pointer in "#/components/schemas/B" not found`},
		{"OpenAPI nested bad schema", TypeOpenAPI3, `{"openapi":"3.0.0","components":{"schemas":{"A":{"type":"object"},"B":{"properties":{"x":{"minimum":"1"}}}}}}`, "at /components/schemas/B/properties/x/minimum: got string, want number"},
		{"remote ref", TypeJSONSchemaDraft4, `{"$ref":"https://example.com/schema.json"}`, "schema references https://example.com/schema.json; schemas must be self-contained"},
		{"file ref", TypeJSONSchemaDraft4, `{"$ref":"file:///etc/passwd"}`, "schemas must be self-contained"},
		{"relative ref", TypeJSONSchemaDraft4, `{"$ref":"other.json"}`, "schema references other.json; schemas must be self-contained"},
		{"draft 4 invalid", TypeJSONSchemaDraft4, `{"type":"object","required":[]}`, "content is not a valid JSON Schema draft 4: at /required: minItems: got 0, want 1"},
		{"draft 4 bad type", TypeJSONSchemaDraft4, `{"properties":{"a":{"type":5}}}`, "content is not a valid JSON Schema draft 4: at /properties/a/type"},
		{"other draft", TypeJSONSchemaDraft4, `{"$schema":"https://json-schema.org/draft/2020-12/schema"}`, "JSONSchemaDraft4 content declares $schema"},
		{"unknown type", "Avro", `{}`, `unknown schema type "Avro"`},
		{"empty type", "", `{}`, `unknown schema type ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckContent(tt.typ, []byte(tt.content))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckContent = %v, want nil", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("CheckContent = nil, want %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("CheckContent = %q, want it to contain %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}
