package http_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	wimshttp "github.com/wims/wims/http"
)

// openAPIDoc is the served document, parsed once.
var openAPIDoc = sync.OnceValue(func() map[string]any {
	var doc map[string]any
	if err := json.Unmarshal(wimshttp.OpenAPI(), &doc); err != nil {
		panic("openapi.json: " + err.Error())
	}
	return doc
})

// specOp finds the operation for method and a concrete path, with the
// path's template, or nil when the document has none.
func specOp(method, path string) (op map[string]any, template string) {
	paths := openAPIDoc()["paths"].(map[string]any)
	m := strings.ToLower(method)
	if m == "head" {
		m = "get"
	}
	// A literal path (/dead-letters/purge) wins over a template that also
	// matches it (/dead-letters/{seq}), as in the server's mux.
	for _, literal := range []bool{true, false} {
		for tmpl, item := range paths {
			if strings.Contains(tmpl, "{") == literal {
				continue
			}
			re := "^" + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(tmpl), `[^/]+`) + "$"
			if !regexp.MustCompile(re).MatchString(path) {
				continue
			}
			if o, ok := item.(map[string]any)[m].(map[string]any); ok {
				return o, tmpl
			}
			template = tmpl
		}
	}
	return nil, template
}

// checkOpenAPI fails tb unless r is declared for method and path: its status
// is a declared response, its Content-Type one of that response's media
// types, and its JSON body valid against the schema. Requests to paths or
// methods the API does not serve (404 no route, 405) are not operations and
// are skipped, as are HEAD bodies.
func checkOpenAPI(tb testing.TB, method, path string, r response) {
	tb.Helper()
	op, _ := specOp(method, path)
	if op == nil {
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed && r.status != http.StatusUnauthorized {
			tb.Errorf("openapi: %s %s answered %d but the document has no such operation", method, path, r.status)
		}
		return
	}
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(r.status)].(map[string]any)
	if !ok {
		tb.Errorf("openapi: %s %s: status %d is not declared (body %s)", method, path, r.status, r.body)
		return
	}
	resp = deref(resp)
	content, _ := resp["content"].(map[string]any)
	if r.status == http.StatusNoContent {
		// 204 has no body, so its declaration has no content.
		if content != nil || len(r.body) != 0 {
			tb.Errorf("openapi: %s %s 204: declared content %v, body %q; want neither", method, path, content, r.body)
		}
		return
	}
	ct := r.header.Get("Content-Type")
	mt, _, _ := strings.Cut(ct, ";")
	media, ok := content[strings.TrimSpace(mt)].(map[string]any)
	if !ok {
		tb.Errorf("openapi: %s %s %d: Content-Type %q not declared", method, path, r.status, ct)
		return
	}
	if method == http.MethodHead || !strings.HasSuffix(mt, "json") {
		return
	}
	var body any
	if err := json.Unmarshal(r.body, &body); err != nil {
		tb.Errorf("openapi: %s %s %d: body is not JSON: %v", method, path, r.status, err)
		return
	}
	if err := validate(media["schema"].(map[string]any), body, "$"); err != nil {
		tb.Errorf("openapi: %s %s %d: %v\nbody: %s", method, path, r.status, err, r.body)
	}
}

// deref follows a local $ref ("#/components/…").
func deref(node map[string]any) map[string]any {
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		var cur any = openAPIDoc()
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		node = cur.(map[string]any)
	}
}

// validate checks v against the JSON Schema subset the document uses: $ref,
// allOf, type, required, properties, additionalProperties: false, items,
// enum, const, not, minimum, maximum, minLength, maxLength.
func validate(schema map[string]any, v any, at string) error {
	schema = deref(schema)
	for _, sub := range asList(schema["allOf"]) {
		if err := validate(sub.(map[string]any), v, at); err != nil {
			return err
		}
	}
	if not, ok := schema["not"].(map[string]any); ok && validate(not, v, at) == nil {
		return fmt.Errorf("%s: %v matches a schema it must not", at, v)
	}
	if c, ok := schema["const"]; ok && fmt.Sprint(c) != fmt.Sprint(v) {
		return fmt.Errorf("%s: %v, want %v", at, v, c)
	}
	if enum := asList(schema["enum"]); enum != nil && !slices.ContainsFunc(enum, func(e any) bool { return e == v }) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch t, _ := schema["type"].(string); t {
	case "":
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", at, v)
		}
		for _, name := range asList(schema["required"]) {
			if _, ok := obj[name.(string)]; !ok {
				return fmt.Errorf("%s: required member %q missing", at, name)
			}
		}
		props, _ := schema["properties"].(map[string]any)
		for name, val := range obj {
			p, ok := props[name].(map[string]any)
			if !ok {
				if schema["additionalProperties"] == false {
					return fmt.Errorf("%s: member %q not allowed", at, name)
				}
				continue
			}
			if err := validate(p, val, at+"."+name); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an array", at, v)
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, el := range arr {
				if err := validate(items, el, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %T, want a string", at, v)
		}
		if n, ok := schema["minLength"].(float64); ok && float64(len(s)) < n {
			return fmt.Errorf("%s: shorter than %v", at, n)
		}
		if n, ok := schema["maxLength"].(float64); ok && float64(len(s)) > n {
			return fmt.Errorf("%s: longer than %v", at, n)
		}
	case "integer", "number":
		n, ok := v.(float64)
		if !ok {
			return fmt.Errorf("%s: %T, want a %s", at, v, t)
		}
		if t == "integer" && n != math.Trunc(n) {
			return fmt.Errorf("%s: %v, want an integer", at, n)
		}
		if m, ok := schema["minimum"].(float64); ok && n < m {
			return fmt.Errorf("%s: %v < minimum %v", at, n, m)
		}
		if m, ok := schema["maximum"].(float64); ok && n > m {
			return fmt.Errorf("%s: %v > maximum %v", at, n, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %T, want a boolean", at, v)
		}
	default:
		return fmt.Errorf("%s: schema type %q not supported by this validator", at, t)
	}
	return nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestOpenAPIRoutes checks that every route the server registers is in the
// document and the document has no operation the server lacks.
func TestOpenAPIRoutes(t *testing.T) {
	e := newEnv(t)
	served := map[string]bool{}
	for _, pattern := range wimshttp.NewServer(wimshttp.Options{Store: e.store}).Routes() {
		method, path, _ := strings.Cut(pattern, " ")
		served[strings.ToLower(method)+" "+path] = true
	}
	documented := map[string]bool{}
	for path, item := range openAPIDoc()["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			if method != "parameters" {
				documented[method+" "+path] = true
			}
		}
	}
	for r := range served {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for r := range documented {
		if !served[r] {
			t.Errorf("openapi.json documents %s, which the server does not serve", r)
		}
	}
	if openAPIDoc()["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", openAPIDoc()["openapi"])
	}
	// Every $ref resolves.
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			if ref, ok := n["$ref"].(string); ok {
				func() {
					defer func() {
						if recover() != nil {
							t.Errorf("$ref %s does not resolve", ref)
						}
					}()
					deref(n)
				}()
			}
			for _, v := range n {
				walk(v)
			}
		case []any:
			for _, v := range n {
				walk(v)
			}
		}
	}
	walk(openAPIDoc())
}

// TestOpenAPIResponses drives a representative request per route and per
// error status; checkOpenAPI (run on every response of every test) checks
// each against the document. It also checks the document is served.
func TestOpenAPIResponses(t *testing.T) {
	e := newEnv(t)
	doc := e.do("GET", "/openapi.json", "").wantJSON(t, http.StatusOK)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("served document: %v", doc["openapi"])
	}
	item := `{"productName":"W","model":"1","quantity":5,"lowStockThreshold":1}`
	for _, c := range []struct {
		method, path, body string
		status             int
		hdr                []string
	}{
		{"GET", "/healthz", "", 200, nil},
		{"GET", "/metrics", "", 200, nil},
		{"PUT", "/inventory/W-1", item, 200, nil},
		{"PUT", "/inventory/W-1", `{"productName":"W"}`, 400, nil},
		{"PUT", "/inventory/W-1", `{`, 400, nil},
		{"PUT", "/inventory/W-1", item, 415, []string{"Content-Type", "text/plain"}},
		{"PUT", "/inventory/W-1", `{"productName":"` + strings.Repeat("x", 300<<10) + `"}`, 413, nil},
		{"GET", "/inventory", "", 200, nil},
		{"GET", "/inventory/W-1", "", 200, nil},
		{"GET", "/inventory/NOPE", "", 404, nil},
		{"POST", "/inventory/W-1/adjustments", `{"delta":-3,"reason":"broken"}`, 200, nil},
		{"POST", "/inventory/W-1/adjustments", `{"delta":-30}`, 409, nil},
		{"POST", "/inventory/NOPE/adjustments", `{"delta":1}`, 404, nil},
		{"POST", "/inventory/W-1/adjustments", `{"delta":0}`, 400, nil},
		{"POST", "/orders", `{"customerId":"c","quantity":1}`, 202, nil},
		{"POST", "/orders", `{"customerId":"c","quantity":1}`, 202, []string{"Idempotency-Key", "k"}},
		{"POST", "/orders", `{"customerId":"c","quantity":1}`, 202, []string{"Idempotency-Key", "k"}},
		{"POST", "/orders", `{"customerId":"c","quantity":2}`, 422, []string{"Idempotency-Key", "k"}},
		{"POST", "/orders", `{"customerId":"c","quantity":0}`, 400, nil},
		{"GET", "/orders", "", 200, nil},
		{"GET", "/orders?customerId=c&status=PENDING&limit=1", "", 200, nil},
		{"GET", "/orders?sku=MACGUFFIN-LX&status=PENDING", "", 200, nil},
		{"GET", "/orders?sku=-bad", "", 400, nil},
		{"GET", "/orders?cursor=bogus", "", 400, nil},
		{"GET", "/orders?limit=0", "", 400, nil},
		{"GET", "/orders/nope", "", 404, nil},
		{"GET", "/events", "", 503, nil},
		{"GET", "/events?limit=x", "", 400, nil},
		{"GET", "/traces/4bf92f3577b34da6a3ce929d0e0e4736", "", 503, nil},
		{"GET", "/traces/nope", "", 400, nil},
		{"GET", "/dead-letters", "", 503, nil},
		{"GET", "/dead-letters?limit=0", "", 400, nil},
		{"POST", "/dead-letters/1/redrive", "", 503, nil},
		{"POST", "/dead-letters/x/redrive", "", 400, nil},
	} {
		r := e.do(c.method, c.path, c.body, c.hdr...)
		if r.status != c.status {
			t.Errorf("%s %s = %d, want %d: %s", c.method, c.path, r.status, c.status, r.body)
		}
	}
	page := e.do("GET", "/orders", "").wantJSON(t, http.StatusOK)
	id := page["orders"].([]any)[0].(map[string]any)["orderId"].(string)
	e.do("GET", "/orders/"+id, "").wantJSON(t, http.StatusOK)
}
