package http_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/platform/platformtest"
)

// newSchemasEnv is newEnv with the real platform serving both the
// platform's and the schema registry's routes.
func newSchemasEnv(tb testing.TB) *testEnv {
	tb.Helper()
	return newEnv(tb, func(o *wimshttp.Options) {
		p := platformtest.New(tb, o.Store.(wims.ResourceStore))
		o.Platform, o.Schemas = p, p
	})
}

const draft4 = `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":{"detail":{"type":"object","required":["sku"],"properties":{"sku":{"type":"string"}}}}}`

// TestSchemaRoutes: registries, schemas with versions, export and bus
// validation over the REST API; bad input is a problem naming the member
// and changes nothing (every response is checked against openapi.json).
func TestSchemaRoutes(t *testing.T) {
	e := newSchemasEnv(t)
	r := e.do("POST", "/registries", `{"name":"shop","description":"ours"}`)
	if reg := r.wantJSON(t, http.StatusCreated); reg["arn"] != wims.RegistryARN("shop") || r.header.Get("Location") != "/registries/shop" {
		t.Fatalf("created %v at %q", reg, r.header.Get("Location"))
	}
	e.do("POST", "/registries", `{"name":"shop"}`).wantProblem(t, http.StatusConflict, "conflict", "")
	list := e.do("GET", "/registries", "").wantJSON(t, http.StatusOK)
	if n := len(list["registries"].([]any)); n != 2 {
		t.Fatalf("registries = %v", list)
	}

	t.Run("BadInput", func(t *testing.T) {
		before := e.snapshot()
		e.do("POST", "/registries", `{"name":"bad name"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "name")
		e.do("POST", "/registries/shop/schemas", `{"name":"shop@X","type":"JSONSchemaDraft4","content":"{\"type\":"}`).
			wantProblem(t, http.StatusBadRequest, "validation-error", "content")
		e.do("POST", "/registries/shop/schemas", `{"name":"shop@X","type":"Avro","content":{}}`).
			wantProblem(t, http.StatusBadRequest, "validation-error", "type")
		e.do("POST", "/registries/nope/schemas", `{"name":"shop@X","type":"JSONSchemaDraft4","content":{}}`).
			wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("GET", "/registries/shop/schemas?color=red", "").wantProblem(t, http.StatusBadRequest, "validation-error", "color")
		e.do("PUT", "/buses/default", `{"schemaValidation":{"registry":"shop","mode":"SOMETIMES"}}`).
			wantProblem(t, http.StatusBadRequest, "validation-error", "schemaValidation.mode")
		e.do("PUT", "/buses/default", `{"schemaValidation":{"registry":"nope","mode":"KNOWN"}}`).
			wantProblem(t, http.StatusNotFound, "not-found", "")
		e.wantUnchanged(before)
	})

	// The content may be the document itself.
	r = e.do("POST", "/registries/shop/schemas", `{"name":"shop@Order","type":"JSONSchemaDraft4","content":`+draft4+`}`)
	if s := r.wantJSON(t, http.StatusCreated); s["version"] != "1" || r.header.Get("Location") != "/registries/shop/schemas/shop@Order" {
		t.Fatalf("created %v at %q", s, r.header.Get("Location"))
	}
	v2 := strings.Replace(draft4, `["sku"]`, `["sku","quantity"]`, 1)
	if s := e.do("PUT", "/registries/shop/schemas/shop@Order", `{"content":`+v2+`}`).wantJSON(t, http.StatusOK); s["latestVersion"] != "2" {
		t.Fatalf("updated %v", s)
	}
	if s := e.do("GET", "/registries/shop/schemas/shop@Order?version=1", "").wantJSON(t, http.StatusOK); s["content"] != draft4 {
		t.Fatalf("version 1 = %v", s)
	}
	e.do("GET", "/registries/shop/schemas/shop@Order?version=x", "").wantProblem(t, http.StatusBadRequest, "validation-error", "version")
	vs := e.do("GET", "/registries/shop/schemas/shop@Order/versions", "").wantJSON(t, http.StatusOK)
	if len(vs["versions"].([]any)) != 2 {
		t.Fatalf("versions = %v", vs)
	}
	ex := e.do("GET", "/registries/shop/schemas/shop@Order/export", "")
	if ex.status != http.StatusOK || ex.header.Get("Content-Type") != "application/schema+json" || !strings.Contains(string(ex.body), `"quantity"`) {
		t.Fatalf("export: %d %s %s", ex.status, ex.header.Get("Content-Type"), ex.body)
	}
	found := e.do("GET", "/registries/shop/schemas?keywords=ORDER", "").wantJSON(t, http.StatusOK)
	if len(found["schemas"].([]any)) != 1 {
		t.Fatalf("search = %v", found)
	}

	b := e.do("PUT", "/buses/default", `{"schemaValidation":{"registry":"shop","mode":"KNOWN"}}`).wantJSON(t, http.StatusOK)
	if b["schemaValidation"].(map[string]any)["mode"] != "KNOWN" {
		t.Fatalf("bus = %v", b)
	}
	res := e.do("POST", "/events", `{"entries":[{"source":"shop","detailType":"Order","detail":{"sku":"A","quantity":1}},`+
		`{"source":"shop","detailType":"Order","detail":{"sku":"A"}}]}`).wantJSON(t, http.StatusOK)
	entries := res["entries"].([]any)
	if entries[0].(map[string]any)["errorCode"] != nil || entries[1].(map[string]any)["errorCode"] != "InvalidArgument" ||
		!strings.Contains(entries[1].(map[string]any)["errorMessage"].(string), "quantity") {
		t.Fatalf("put events = %v", res)
	}
	e.do("DELETE", "/registries/shop", "").wantProblem(t, http.StatusConflict, "conflict", "")
	e.do("PUT", "/buses/default", `{}`).wantJSON(t, http.StatusOK)
	e.do("DELETE", "/registries/shop/schemas/shop@Order/versions/2", "").wantProblem(t, http.StatusBadRequest, "validation-error", "version")
	if r := e.do("DELETE", "/registries/shop", ""); r.status != http.StatusNoContent {
		t.Fatalf("delete registry: %d %s", r.status, r.body)
	}

	ds := e.do("POST", "/discoverers", `{"eventBus":"default"}`).wantJSON(t, http.StatusCreated)
	id := ds["id"].(string)
	if d := e.do("POST", "/discoverers/"+id+"/stop", "").wantJSON(t, http.StatusOK); d["state"] != "STOPPED" {
		t.Fatalf("stop = %v", d)
	}
	if r := e.do("DELETE", "/discoverers/"+id, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete discoverer: %d %s", r.status, r.body)
	}
}
