package eventbridge_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
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
