package eventbridge_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/wims/wims/eventbridge"
	"github.com/wims/wims/platform/platformtest"
)

// FuzzHandler: any operation name and body get a well-formed JSON 1.1
// answer (a result, or an error with a __type), never a panic.
func FuzzHandler(f *testing.F) {
	f.Add("PutEvents", `{"Entries":[{"Source":"a","DetailType":"b","Detail":"{}"}]}`)
	f.Add("PutRule", `{"Name":"r","EventPattern":"{\"source\":[\"x\"]}"}`)
	f.Add("ListRules", `{"Limit":5,"NextToken":"zz"}`)
	f.Add("CreateConnection", `{"Name":"c","AuthorizationType":"API_KEY","AuthParameters":{"ApiKeyAuthParameters":{"ApiKeyName":"k","ApiKeyValue":"v"}}}`)
	f.Add("Nope", `{}`)
	f.Add("PutTargets", `{"Rule":"r","Targets":[{"Id":"t","Arn":"arn"}]}`)
	f.Add("TestEventPattern", `[`)
	h := eventbridge.NewHandler(eventbridge.Options{Platform: platformtest.New(f, platformtest.Store(f))})
	f.Fuzz(func(t *testing.T, op, body string) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader([]byte(body)))
		req.Header.Set("X-Amz-Target", "AWSEvents."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %q: non-JSON answer %d %q", op, body, w.Code, w.Body.String())
		}
		if w.Code != http.StatusOK {
			var e struct {
				Type string `json:"__type"`
			}
			if json.Unmarshal(w.Body.Bytes(), &e); e.Type == "" {
				t.Fatalf("%s %q: error without __type: %q", op, body, w.Body.String())
			}
		}
	})
}

// FuzzSchemasHandler: any method, path, query and body on the Schemas API
// get a JSON answer (an error with a Code and the x-amzn-ErrorType header)
// or an empty 204, never a panic or a 5xx.
func FuzzSchemasHandler(f *testing.F) {
	f.Add("POST", "/v1/registries/name/shop", "", `{"Description":"d"}`)
	f.Add("POST", "/v1/registries/name/shop/schemas/name/shop@A", "", `{"Type":"JSONSchemaDraft4","Content":"{\"type\":\"object\"}"}`)
	f.Add("GET", "/v1/registries/name/discovered-schemas/schemas", "limit=1&nextToken=zz", "")
	f.Add("GET", "/v1/registries/name/shop/schemas/search", "keywords=a%20b", "")
	f.Add("GET", "/v1/registries/name/shop/schemas/name/shop@A/export", "type=JSONSchemaDraft4&schemaVersion=0", "")
	f.Add("POST", "/v1/discoverers", "", `{"SourceArn":"arn:aws:events:local:000000000000:event-bus/default"}`)
	f.Add("DELETE", "/v1/discoverers/id/x", "", "")
	f.Add("PUT", "/v1/registries/name/shop/schemas/name/shop@A", "", `{"Content":`)
	p := platformtest.New(f, platformtest.Store(f))
	h := eventbridge.NewSchemasHandler(eventbridge.SchemasOptions{Registry: p})
	f.Fuzz(func(t *testing.T, method, path, query, body string) {
		switch method {
		case "GET", "POST", "PUT", "DELETE":
		default:
			return
		}
		u := &url.URL{Path: path, RawQuery: query}
		if !strings.HasPrefix(u.Path, "/v1/") {
			return
		}
		req := httptest.NewRequest(method, "/", bytes.NewReader([]byte(body)))
		req.URL = u
		req.RequestURI = u.RequestURI()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", method, path, query, body, w.Code, w.Body.String())
		}
		if w.Code == http.StatusNoContent {
			return
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: non-JSON answer %d %q", method, path, w.Code, w.Body.String())
		}
		if w.Code >= 300 && w.Header().Get("x-amzn-ErrorType") == "" {
			t.Fatalf("%s %s: error without x-amzn-ErrorType: %q", method, path, w.Body.String())
		}
	})
}
