package schema

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestOpenAPIOrderEvent(t *testing.T) {
	env := mustInfer(t, orderEvent)
	out := mustOpenAPI(t, "wims.orders", "Order Created", env)
	doc := decode(t, out)

	checks := []struct {
		path string
		want any
	}{
		{"openapi", "3.0.0"},
		{"info/version", "1.0.0"},
		{"info/title", "OrderCreated"},
		{"paths", map[string]any{}},
		{"components/schemas/AWSEvent/type", "object"},
		{"components/schemas/AWSEvent/x-amazon-events-detail-type", "Order Created"},
		{"components/schemas/AWSEvent/x-amazon-events-source", "wims.orders"},
		{"components/schemas/AWSEvent/required", []any{"account", "detail", "detail-type", "id", "region", "resources", "source", "time", "version"}},
		{"components/schemas/AWSEvent/properties/detail", map[string]any{"$ref": "#/components/schemas/OrderCreated"}},
		{"components/schemas/AWSEvent/properties/account", map[string]any{"type": "string"}},
		{"components/schemas/AWSEvent/properties/time", map[string]any{"type": "string", "format": "date-time"}},
		{"components/schemas/AWSEvent/properties/resources", map[string]any{"type": "array"}},
		{"components/schemas/OrderCreated/type", "object"},
		{"components/schemas/OrderCreated/required", []any{"amount", "createdAt", "customerId", "lines", "orderId", "quantity", "shipping", "sku", "status"}},
		{"components/schemas/OrderCreated/properties/quantity", map[string]any{"type": "integer"}},
		{"components/schemas/OrderCreated/properties/amount", map[string]any{"type": "number"}},
		{"components/schemas/OrderCreated/properties/createdAt", map[string]any{"type": "string", "format": "date-time"}},
		{"components/schemas/OrderCreated/properties/shipping", map[string]any{"$ref": "#/components/schemas/Shipping"}},
		{"components/schemas/OrderCreated/properties/lines/type", "array"},
		{"components/schemas/OrderCreated/properties/lines/items", map[string]any{"$ref": "#/components/schemas/Lines"}},
		{"components/schemas/Shipping", map[string]any{
			"type":     "object",
			"required": []any{"city", "zip"},
			"properties": map[string]any{
				"city": map[string]any{"type": "string"},
				"zip":  map[string]any{"type": "string"},
			},
		}},
		{"components/schemas/Lines/required", []any{"quantity", "sku"}},
	}
	for _, c := range checks {
		if got := at(t, doc, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.path, got, c.want)
		}
	}
	if n := len(at(t, doc, "components/schemas").(map[string]any)); n != 4 {
		t.Errorf("got %d components, want 4 (AWSEvent, OrderCreated, Lines, Shipping)", n)
	}
	if !bytes.HasPrefix(out, []byte("{\n  \"openapi\": \"3.0.0\",\n  \"info\": {\n    \"version\": \"1.0.0\",\n    \"title\": \"OrderCreated\"\n  },\n  \"paths\": {},\n  \"components\": {\n    \"schemas\": {\n      \"AWSEvent\": {")) {
		t.Errorf("output does not start like AWS's documents, indented with two spaces:\n%s", out)
	}

	for i := 0; i < 20; i++ {
		if again := mustOpenAPI(t, "wims.orders", "Order Created", mustInfer(t, orderEvent)); !bytes.Equal(again, out) {
			t.Fatalf("OpenAPI is not deterministic:\n%s\n---\n%s", out, again)
		}
	}
}

func TestOpenAPIRendering(t *testing.T) {
	detail := func(d string) map[string]any {
		t.Helper()
		env := mustInfer(t, `{"source":"s","detail":`+d+`}`)
		return decode(t, mustOpenAPI(t, "s", "T", env))
	}
	tests := []struct {
		name, detail, path string
		want               any
	}{
		{"only null", `{"a":null}`, "components/schemas/T/properties/a", map[string]any{"nullable": true}},
		{"nullable string", `{"a":[null,"x"]}`, "components/schemas/T/properties/a/items",
			map[string]any{"type": "string", "nullable": true}},
		{"anyOf in type order", `{"a":["x",1,true]}`, "components/schemas/T/properties/a/items",
			map[string]any{"anyOf": []any{map[string]any{"type": "boolean"}, map[string]any{"type": "integer"}, map[string]any{"type": "string"}}}},
		{"nullable anyOf", `{"a":["2026-12-03",1,null]}`, "components/schemas/T/properties/a/items",
			map[string]any{"nullable": true, "anyOf": []any{map[string]any{"type": "integer"}, map[string]any{"type": "string", "format": "date"}}}},
		{"empty object inline", `{"a":{}}`, "components/schemas/T/properties/a", map[string]any{"type": "object"}},
		{"array without items", `{"a":[]}`, "components/schemas/T/properties/a", map[string]any{"type": "array"}},
		{"nullable object ref", `{"a":[{"x":1},null]}`, "components/schemas/T/properties/a/items",
			map[string]any{"nullable": true, "allOf": []any{map[string]any{"$ref": "#/components/schemas/A"}}}},
		{"object in anyOf", `{"a":[{"x":1},"s"]}`, "components/schemas/T/properties/a/items",
			map[string]any{"anyOf": []any{map[string]any{"$ref": "#/components/schemas/A"}, map[string]any{"type": "string"}}}},
		{"camel case", `{"shipping_address":{"x":1}}`, "components/schemas/T/properties/shipping_address",
			map[string]any{"$ref": "#/components/schemas/ShippingAddress"}},
		{"name of symbols only", `{"--":{"x":1}}`, "components/schemas/T/properties/--",
			map[string]any{"$ref": "#/components/schemas/Object"}},
		{"no required when optional", `{}`, "components/schemas/T", map[string]any{"type": "object"}},
		{"non-object detail", `[1]`, "components/schemas/T", map[string]any{"type": "array", "items": map[string]any{"type": "integer"}}},
		{"nullable detail", `null`, "components/schemas/T", map[string]any{"nullable": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := at(t, detail(tt.detail), tt.path); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s = %#v, want %#v", tt.path, got, tt.want)
			}
		})
	}
}

func TestOpenAPINameClashes(t *testing.T) {
	env := mustInfer(t, `{"detail":{
		"lines":[{"shipping":{"a":1}}],
		"shipping":{"b":1},
		"t":{"c":1},
		"aws_event":{"d":1},
		"z":{"shipping":{"e":1}}
	}}`)
	doc := decode(t, mustOpenAPI(t, "s", "T", env))
	checks := map[string]string{
		"components/schemas/T/properties/lines/items/$ref":        "#/components/schemas/Lines",
		"components/schemas/Lines/properties/shipping/$ref":       "#/components/schemas/Shipping",
		"components/schemas/T/properties/shipping/$ref":           "#/components/schemas/Shipping1",
		"components/schemas/T/properties/t/$ref":                  "#/components/schemas/T1",
		"components/schemas/T/properties/aws_event/$ref":          "#/components/schemas/AwsEvent",
		"components/schemas/T/properties/z/$ref":                  "#/components/schemas/Z",
		"components/schemas/Z/properties/shipping/$ref":           "#/components/schemas/Shipping2",
		"components/schemas/Shipping2/properties/e/type":          "integer",
		"components/schemas/Shipping1/properties/b/type":          "integer",
		"components/schemas/Shipping/properties/a/type":           "integer",
		"components/schemas/AWSEvent/properties/detail/$ref":      "#/components/schemas/T",
		"components/schemas/AWSEvent/x-amazon-events-source":      "s",
		"components/schemas/AWSEvent/x-amazon-events-detail-type": "T",
	}
	for path, want := range checks {
		if got := at(t, doc, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}

func TestOpenAPITitle(t *testing.T) {
	env := mustInfer(t, `{"detail":{}}`)
	for detailType, want := range map[string]string{
		"Order Created":                          "OrderCreated",
		"EC2 Instance State-change Notification": "EC2InstanceStatechangeNotification",
		"order.created/v2":                       "ordercreatedv2",
		"":                                       "Detail",
		"!!!":                                    "Detail",
		"Bestellung über":                        "Bestellungber",
		"AWS Event":                              "AWSEvent1",
	} {
		doc := decode(t, mustOpenAPI(t, "s", detailType, env))
		if got := at(t, doc, "info/title"); got != want {
			t.Errorf("title for %q = %v, want %v", detailType, got, want)
		}
		if got := at(t, doc, "components/schemas/AWSEvent/properties/detail/$ref"); got != componentPrefix+want {
			t.Errorf("detail ref for %q = %v", detailType, got)
		}
		if _, ok := at(t, doc, "components/schemas").(map[string]any)[want]; !ok {
			t.Errorf("no component %q", want)
		}
	}
}

func TestOpenAPIWithoutDetail(t *testing.T) {
	doc := decode(t, mustOpenAPI(t, "s", "T", mustInfer(t, `{"version":"0"}`)))
	schemas := at(t, doc, "components/schemas").(map[string]any)
	if len(schemas) != 1 {
		t.Errorf("components = %v, want only AWSEvent", schemas)
	}
}

func TestOpenAPIRejectsNonObjectEnvelope(t *testing.T) {
	for _, env := range []*Shape{nil, mustInfer(t, `[]`), mustInfer(t, `null`), Merge(mustInfer(t, `{}`), mustInfer(t, `null`))} {
		if _, err := OpenAPI("s", "T", env); err == nil {
			t.Errorf("OpenAPI(%s) succeeded, want error", shapeJSON(env))
		}
	}
	bad := &Shape{Types: []string{"object"}, Properties: map[string]*Shape{"x": {Types: []string{"date"}}}}
	if _, err := OpenAPI("s", "T", bad); err == nil || !strings.Contains(err.Error(), "date") {
		t.Errorf("unknown type accepted: %v", err)
	}
}

func TestShapeOfRoundTrip(t *testing.T) {
	envs := []*Shape{
		mustInfer(t, orderEvent),
		Merge(mustInfer(t, orderEvent), mustInfer(t, `{"detail":{"lines":[{"sku":null,"note":"x"}],"shipping":null,"amount":3,"tags":["a",1,{"k":true}],"when":"2026-12-03"}}`)),
		mustInfer(t, `{"detail":null}`),
		mustInfer(t, `{"detail":[{"a":{"b":{"c":[[{"d":1}]]}}}]}`),
		Merge(mustInfer(t, `{"detail":{"a":1}}`), mustInfer(t, `{"detail":"x"}`)),
		mustInfer(t, `{"other":{"x":{"y":1}},"detail":{"x":{"y":"z"}}}`),
		{Types: []string{"object"}, Properties: map[string]*Shape{"detail": {Types: []string{"array"}, Items: &Shape{}}}},
	}
	for _, env := range envs {
		out := mustOpenAPI(t, "src", "Some Type", env)
		back, err := ShapeOf(out)
		if err != nil {
			t.Fatalf("ShapeOf: %v\n%s", err, out)
		}
		if !Equal(back, env) {
			t.Errorf("round trip changed the shape:\n got %s\nwant %s\n%s", shapeJSON(back), shapeJSON(env), out)
		}
	}
}

func TestShapeOfRejectsForeignDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":        `{`,
		"not an object":   `[]`,
		"no components":   `{"openapi":"3.0.0"}`,
		"no AWSEvent":     `{"components":{"schemas":{"X":{"type":"object"}}}}`,
		"AWSEvent string": `{"components":{"schemas":{"AWSEvent":{"type":"string"}}}}`,
		"oneOf":           `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"oneOf":[{"type":"string"}]}}}}}}`,
		"enum":            `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"type":"string","enum":["x"]}}}}}}`,
		"dangling ref":    `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/B"}}}}}}`,
		"external ref":    `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"$ref":"other.json#/B"}}}}}}`,
		"cycle":           `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/B"}}},"B":{"type":"object","properties":{"b":{"$ref":"#/components/schemas/B"}}}}}}`,
		"self ref":        `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"$ref":"#/components/schemas/AWSEvent"}}}}}}`,
		"bad type":        `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"type":"null"}}}}}}`,
		"bad format":      `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":{"type":"string","format":"email"}}}}}}`,
		"schema not obj":  `{"components":{"schemas":{"AWSEvent":{"type":"object","properties":{"a":true}}}}}`,
	} {
		if s, err := ShapeOf([]byte(doc)); err == nil {
			t.Errorf("%s: ShapeOf = %s, want error", name, shapeJSON(s))
		}
	}
}

// TestDeepNesting guards against super-linear work on adversarial events:
// every level of a maximally deep event becomes a component with a clashing
// name. (Compilation is checked at a smaller depth: the validator library's
// compiler is itself super-linear in the number of components.)
func TestDeepNesting(t *testing.T) {
	nested := func(depth int) string {
		return `{"detail":` + strings.Repeat(`{"a":`, depth-1) + `1` + strings.Repeat(`}`, depth-1) + `}`
	}
	event := nested(maxDepth - 1) // the envelope adds one level
	if _, ok := Fingerprint([]byte(event)); !ok {
		t.Fatal("Fingerprint rejected a valid deep event")
	}
	env := mustInfer(t, event)
	back, err := ShapeOf(mustOpenAPI(t, "s", "A", env))
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(back, env) {
		t.Fatal("deep shape does not round-trip")
	}

	event = nested(500)
	v, err := Compile(TypeOpenAPI3, mustOpenAPI(t, "s", "A", mustInfer(t, event)))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Validate([]byte(event)); err != nil {
		t.Fatal(err)
	}
}
