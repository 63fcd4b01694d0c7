package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

// orderEvent is a realistic envelope (about 600 bytes) used across tests and
// benchmarks.
const orderEvent = `{"version":"0","id":"6f1c2a7e-9b3d-4c1e-8f2a-0d5e6b7c8a9f","detail-type":"Order Created",` +
	`"source":"wims.orders","account":"000000000000","time":"2026-12-03T06:00:00Z","region":"local",` +
	`"resources":[],"detail":{"orderId":"ord_01JEXAMPLE7K3M9Q2R5T8V","sku":"SKU-1","quantity":2,` +
	`"customerId":"c-42","status":"PENDING","createdAt":"2026-12-03T06:00:00.123Z","amount":19.99,` +
	`"lines":[{"sku":"SKU-1","quantity":2}],"shipping":{"city":"Berlin","zip":"10115"}}}`

func mustInfer(t testing.TB, doc string) *Shape {
	t.Helper()
	s, err := Infer([]byte(doc))
	if err != nil {
		t.Fatalf("Infer(%s): %v", doc, err)
	}
	return s
}

func mustOpenAPI(t testing.TB, source, detailType string, env *Shape) []byte {
	t.Helper()
	out, err := OpenAPI(source, detailType, env)
	if err != nil {
		t.Fatalf("OpenAPI: %v", err)
	}
	return out
}

// decode parses JSON into generic values for path assertions.
func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, b)
	}
	return m
}

// at walks a slash-separated path of object keys (no pointer escaping;
// test paths avoid '/' in keys).
func at(t testing.TB, v any, path string) any {
	t.Helper()
	for _, key := range strings.Split(path, "/") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("path %s: %q is reached through a %T, not an object", path, key, v)
		}
		v, ok = m[key]
		if !ok {
			t.Fatalf("path %s: no key %q", path, key)
		}
	}
	return v
}

func shapeJSON(s *Shape) string {
	b, _ := json.Marshal(s)
	return string(b)
}
