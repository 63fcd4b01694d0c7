package http_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/platform/platformtest"
)

// newPlatformEnv is newEnv with the real event platform: platform.Service
// over the env's SQLite store and an embedded JetStream bus.
func newPlatformEnv(tb testing.TB, edit ...func(*wimshttp.Options)) *testEnv {
	tb.Helper()
	withPlatform := func(o *wimshttp.Options) {
		o.Platform = platformtest.New(tb, o.Store.(wims.ResourceStore))
	}
	return newEnv(tb, append([]func(*wimshttp.Options){withPlatform}, edit...)...)
}

const (
	orderPattern = `{"source":["shop"],"detail-type":["OrderPlaced"]}`
	apiSecret    = "s3cr3t-key-value-never-shown"
	basicSecret  = "p4ssw0rd-never-shown"
)

func TestPlatformBuses(t *testing.T) {
	e := newPlatformEnv(t)
	r := e.do("POST", "/buses", `{"name":"shop","description":"the shop's events"}`)
	b := r.wantJSON(t, http.StatusCreated)
	if b["name"] != "shop" || b["arn"] != "arn:aws:events:local:000000000000:event-bus/shop" || r.header.Get("Location") != "/buses/shop" {
		t.Fatalf("created %v, Location %q", b, r.header.Get("Location"))
	}
	e.do("POST", "/buses", `{"name":"shop"}`).wantProblem(t, http.StatusConflict, "conflict", "")

	t.Run("BadInput", func(t *testing.T) {
		before := e.snapshot()
		e.do("POST", "/buses", `{"name":"bad name"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "name")
		e.do("POST", "/buses", `{"name":"x","color":"red"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "color")
		e.do("POST", "/buses", `{"name":"x","description":`+fmt.Sprintf("%q", strings.Repeat("d", 600))+`}`).
			wantProblem(t, http.StatusBadRequest, "validation-error", "description")
		e.do("POST", "/buses", `{"name":`).wantProblem(t, http.StatusBadRequest, "malformed-json", "")
		e.do("GET", "/buses?prefix="+strings.Repeat("p", 300), "").wantProblem(t, http.StatusBadRequest, "validation-error", "prefix")
		e.wantUnchanged(before)
	})
	t.Run("SlashInName", func(t *testing.T) {
		e.do("POST", "/buses", `{"name":"team/orders"}`).wantJSON(t, http.StatusCreated)
		if got := e.do("GET", "/buses/team%2Forders", "").wantJSON(t, http.StatusOK); got["name"] != "team/orders" {
			t.Fatalf("get = %v", got)
		}
		e.do("PUT", "/buses/team%2Forders/rules/r1", `{"eventPattern":`+orderPattern+`}`).wantJSON(t, http.StatusOK)
		if got := e.do("GET", "/buses/team%2Forders/rules", "").wantJSON(t, http.StatusOK); len(got["rules"].([]any)) != 1 {
			t.Fatalf("rules = %v", got)
		}
	})
	t.Run("List", func(t *testing.T) {
		var names []string
		for _, b := range e.do("GET", "/buses", "").wantJSON(t, http.StatusOK)["eventBuses"].([]any) {
			names = append(names, b.(map[string]any)["name"].(string))
		}
		if strings.Join(names, ",") != "default,shop,team/orders" {
			t.Fatalf("buses = %v", names)
		}
		if got := e.do("GET", "/buses?prefix=sh", "").wantJSON(t, http.StatusOK)["eventBuses"].([]any); len(got) != 1 {
			t.Fatalf("prefix sh = %v", got)
		}
	})
	t.Run("GetDelete", func(t *testing.T) {
		e.do("GET", "/buses/default", "").wantJSON(t, http.StatusOK)
		e.do("GET", "/buses/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("DELETE", "/buses/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("DELETE", "/buses/default", "").wantProblem(t, http.StatusBadRequest, "validation-error", "name")
		e.do("DELETE", "/buses/team%2Forders", "").wantProblem(t, http.StatusConflict, "conflict", "")
		if r := e.do("DELETE", "/buses/shop", ""); r.status != http.StatusNoContent {
			t.Fatalf("delete = %d %s", r.status, r.body)
		}
		e.do("GET", "/buses/shop", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
}

func TestPlatformRules(t *testing.T) {
	e := newPlatformEnv(t)
	e.do("POST", "/buses", `{"name":"shop"}`).wantJSON(t, http.StatusCreated)
	r := e.do("PUT", "/buses/shop/rules/orders", `{"eventPattern":`+orderPattern+`,"description":"orders"}`).wantJSON(t, http.StatusOK)
	if r["state"] != "ENABLED" || r["eventBusName"] != "shop" || r["arn"] != "arn:aws:events:local:000000000000:rule/shop/orders" {
		t.Fatalf("put = %v", r)
	}
	// A pattern may also be given as JSON text in a string.
	r = e.do("PUT", "/buses/shop/rules/orders", fmt.Sprintf(`{"eventPattern":%q,"state":"DISABLED"}`, orderPattern)).wantJSON(t, http.StatusOK)
	if r["state"] != "DISABLED" || !strings.Contains(r["eventPattern"].(string), "OrderPlaced") {
		t.Fatalf("replace = %v", r)
	}
	e.do("PUT", "/buses/shop/rules/other", `{"eventPattern":{"source":["x"]}}`).wantJSON(t, http.StatusOK)

	t.Run("BadInput", func(t *testing.T) {
		before := e.snapshot()
		for _, c := range []struct{ path, body, field string }{
			{"/buses/shop/rules/r", `{"eventPattern":{"source":"shop"}}`, "eventPattern"},
			{"/buses/shop/rules/r", `{"eventPattern":"not json"}`, "eventPattern"},
			{"/buses/shop/rules/r", `{}`, "eventPattern"},
			{"/buses/shop/rules/r", `{"eventPattern":` + orderPattern + `,"state":"ON"}`, "state"},
			{"/buses/shop/rules/r", `{"eventPattern":` + orderPattern + `,"name":"r"}`, "name"},
			{"/buses/shop/rules/bad%20name", `{"eventPattern":` + orderPattern + `}`, "name"},
		} {
			e.do("PUT", c.path, c.body).wantProblem(t, http.StatusBadRequest, "validation-error", c.field)
		}
		e.do("PUT", "/buses/nope/rules/r", `{"eventPattern":`+orderPattern+`}`).wantProblem(t, http.StatusNotFound, "not-found", "")
		e.wantUnchanged(before)
	})
	t.Run("GetList", func(t *testing.T) {
		e.do("GET", "/buses/shop/rules/orders", "").wantJSON(t, http.StatusOK)
		e.do("GET", "/buses/shop/rules/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("GET", "/buses/nope/rules", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		if got := e.do("GET", "/buses/shop/rules", "").wantJSON(t, http.StatusOK)["rules"].([]any); len(got) != 2 {
			t.Fatalf("rules = %v", got)
		}
		got := e.do("GET", "/buses/shop/rules?prefix=ord", "").wantJSON(t, http.StatusOK)["rules"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["arn"] == "" {
			t.Fatalf("prefix ord = %v", got)
		}
	})
	t.Run("EnableDisable", func(t *testing.T) {
		if r := e.do("POST", "/buses/shop/rules/orders/enable", "").wantJSON(t, http.StatusOK); r["state"] != "ENABLED" {
			t.Fatalf("enable = %v", r)
		}
		if r := e.do("POST", "/buses/shop/rules/orders/disable", "").wantJSON(t, http.StatusOK); r["state"] != "DISABLED" {
			t.Fatalf("disable = %v", r)
		}
		e.do("POST", "/buses/shop/rules/nope/enable", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
	t.Run("Delete", func(t *testing.T) {
		e.do("PUT", "/buses/shop/rules/orders/targets", `{"targets":[{"id":"fwd","arn":"arn:aws:events:local:000000000000:event-bus/default"}]}`).wantJSON(t, http.StatusOK)
		e.do("DELETE", "/buses/shop/rules/orders", "").wantProblem(t, http.StatusBadRequest, "validation-error", "name")
		e.do("DELETE", "/buses/shop/rules/orders?force=maybe", "").wantProblem(t, http.StatusBadRequest, "validation-error", "force")
		if r := e.do("DELETE", "/buses/shop/rules/orders?force=true", ""); r.status != http.StatusNoContent {
			t.Fatalf("delete = %d %s", r.status, r.body)
		}
		e.do("DELETE", "/buses/shop/rules/orders", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
}

func TestPlatformTargets(t *testing.T) {
	e := newPlatformEnv(t)
	e.do("PUT", "/buses/default/rules/r", `{"eventPattern":`+orderPattern+`}`).wantJSON(t, http.StatusOK)
	bus := func(i int) string {
		return fmt.Sprintf(`{"id":"t%d","arn":"arn:aws:events:local:000000000000:event-bus/default","input":{"n":%d},"retryPolicy":{"maximumRetryAttempts":3}}`, i, i)
	}
	res := e.do("PUT", "/buses/default/rules/r/targets", `{"targets":[`+bus(1)+`,`+bus(2)+`]}`).wantJSON(t, http.StatusOK)
	if res["failedEntryCount"] != 0.0 || len(res["failedEntries"].([]any)) != 0 {
		t.Fatalf("put = %v", res)
	}
	list := e.do("GET", "/buses/default/rules/r/targets", "").wantJSON(t, http.StatusOK)["targets"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["input"] != `{"n":1}` || list[0].(map[string]any)["arn"] == "" {
		t.Fatalf("targets = %v", list)
	}

	t.Run("BadInput", func(t *testing.T) {
		before := e.snapshot()
		for _, c := range []struct{ body, field string }{
			{`{"targets":[{"id":"bad id","arn":"arn:aws:events:local:000000000000:event-bus/default"}]}`, "targets[0].id"},
			{`{"targets":[` + bus(3) + `,{"id":"x","arn":"arn:aws:events:local:000000000000:event-bus/default","retryPolicy":{"maximumRetryAttempts":500}}]}`, "targets[1].retryPolicy.maximumRetryAttempts"},
			{`{"targets":[{"id":"x","arn":"arn:aws:events:local:000000000000:event-bus/default","input":"{","inputPath":"$.detail"}]}`, "targets[0].input"},
			{`{"targets":[]}`, "targets"},
			{`{"targets":[{"id":"x","arn":"a","rule":"r"}]}`, "rule"},
		} {
			e.do("PUT", "/buses/default/rules/r/targets", c.body).wantProblem(t, http.StatusBadRequest, "validation-error", c.field)
		}
		e.do("PUT", "/buses/default/rules/nope/targets", `{"targets":[`+bus(3)+`]}`).wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("GET", "/buses/default/rules/nope/targets", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		e.wantUnchanged(before)
	})
	t.Run("FailedEntry", func(t *testing.T) {
		res := e.do("PUT", "/buses/default/rules/r/targets", `{"targets":[{"id":"gone","arn":"arn:aws:events:local:000000000000:event-bus/nope"}]}`).wantJSON(t, http.StatusOK)
		failed := res["failedEntries"].([]any)
		if res["failedEntryCount"] != 1.0 || len(failed) != 1 || failed[0].(map[string]any)["targetId"] != "gone" {
			t.Fatalf("put = %v", res)
		}
	})
	t.Run("LimitExceeded", func(t *testing.T) {
		e.do("PUT", "/buses/default/rules/r/targets", `{"targets":[`+bus(3)+`,`+bus(4)+`,`+bus(5)+`]}`).wantJSON(t, http.StatusOK)
		before := e.snapshot()
		e.do("PUT", "/buses/default/rules/r/targets", `{"targets":[`+bus(6)+`]}`).wantProblem(t, http.StatusConflict, "limit-exceeded", "")
		e.wantUnchanged(before)
		// Replacing an existing target is not a new one.
		e.do("PUT", "/buses/default/rules/r/targets", `{"targets":[`+bus(5)+`]}`).wantJSON(t, http.StatusOK)
	})
	t.Run("Remove", func(t *testing.T) {
		if r := e.do("DELETE", "/buses/default/rules/r/targets/t1", ""); r.status != http.StatusNoContent {
			t.Fatalf("remove = %d %s", r.status, r.body)
		}
		e.do("DELETE", "/buses/default/rules/r/targets/t1", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		e.do("DELETE", "/buses/default/rules/nope/targets/t1", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
}

func TestPlatformConnectionsAndDestinations(t *testing.T) {
	e := newPlatformEnv(t)
	var bodies [][]byte
	do := func(method, path, body string) response {
		r := e.do(method, path, body)
		bodies = append(bodies, r.body)
		return r
	}
	t.Cleanup(func() {
		for _, b := range bodies {
			if bytes.Contains(b, []byte(apiSecret)) || bytes.Contains(b, []byte(basicSecret)) {
				t.Errorf("a response carries a secret: %s", b)
			}
		}
	})

	r := do("POST", "/connections", `{"name":"key","authorizationType":"API_KEY","apiKeyName":"X-Api-Key","apiKeyValue":"`+apiSecret+`"}`)
	c := r.wantJSON(t, http.StatusCreated)
	if c["state"] != "AUTHORIZED" || c["apiKeyName"] != "X-Api-Key" || r.header.Get("Location") != "/connections/key" {
		t.Fatalf("create = %v", c)
	}
	do("POST", "/connections", `{"name":"basic","authorizationType":"BASIC","username":"u","password":"`+basicSecret+`"}`).wantJSON(t, http.StatusCreated)
	do("POST", "/connections", `{"name":"none","authorizationType":"NONE"}`).wantJSON(t, http.StatusCreated)
	do("POST", "/connections", `{"name":"key","authorizationType":"NONE"}`).wantProblem(t, http.StatusConflict, "conflict", "")

	t.Run("ConnectionBadInput", func(t *testing.T) {
		before := e.snapshot()
		for _, c := range []struct{ body, field string }{
			{`{"name":"k2","authorizationType":"API_KEY","apiKeyName":"X"}`, "apiKeyValue"},
			{`{"name":"k2","authorizationType":"API_KEY","apiKeyValue":"v"}`, "apiKeyName"},
			{`{"name":"k2","authorizationType":"API_KEY","apiKeyName":"X","password":"p"}`, "password"},
			{`{"name":"k2","authorizationType":"BASIC","username":"u"}`, "password"},
			{`{"name":"k2","authorizationType":"OAUTH"}`, "authorizationType"},
			{`{"name":"k 2","authorizationType":"NONE"}`, "name"},
			{`{"name":"k2","authorizationType":"NONE","secret":"x"}`, "secret"},
		} {
			do("POST", "/connections", c.body).wantProblem(t, http.StatusBadRequest, "validation-error", c.field)
		}
		do("PUT", "/connections/key", `{"name":"other","authorizationType":"NONE"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "name")
		do("PUT", "/connections/nope", `{"authorizationType":"NONE"}`).wantProblem(t, http.StatusNotFound, "not-found", "")
		e.wantUnchanged(before)
	})
	t.Run("ConnectionReadUpdate", func(t *testing.T) {
		do("GET", "/connections/key", "").wantJSON(t, http.StatusOK)
		do("GET", "/connections/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		if got := do("GET", "/connections", "").wantJSON(t, http.StatusOK)["connections"].([]any); len(got) != 3 {
			t.Fatalf("connections = %v", got)
		}
		// Without a secret, an update keeps the stored one.
		u := do("PUT", "/connections/key", `{"authorizationType":"API_KEY","apiKeyName":"X-Key","description":"rotated header"}`).wantJSON(t, http.StatusOK)
		if u["apiKeyName"] != "X-Key" || u["description"] != "rotated header" {
			t.Fatalf("update = %v", u)
		}
	})

	dest := `{"name":"hook","connectionName":"key","invocationEndpoint":"https://example.com/hook","httpMethod":"POST"}`
	r = do("POST", "/api-destinations", dest)
	d := r.wantJSON(t, http.StatusCreated)
	if d["invocationRateLimitPerSecond"] != 300.0 || d["state"] != "ACTIVE" || d["connectionArn"] != "arn:aws:events:local:000000000000:connection/key" {
		t.Fatalf("create destination = %v", d)
	}
	do("POST", "/api-destinations", dest).wantProblem(t, http.StatusConflict, "conflict", "")

	t.Run("DestinationBadInput", func(t *testing.T) {
		before := e.snapshot()
		for _, c := range []struct{ body, field string }{
			{`{"name":"d2","connectionName":"key","invocationEndpoint":"ftp://x","httpMethod":"POST"}`, "invocationEndpoint"},
			{`{"name":"d2","connectionName":"key","invocationEndpoint":"https://x","httpMethod":"FETCH"}`, "httpMethod"},
			{`{"name":"d2","connectionName":"key","invocationEndpoint":"https://x","httpMethod":"POST","invocationRateLimitPerSecond":-1}`, "invocationRateLimitPerSecond"},
			{`{"name":"d2","invocationEndpoint":"https://x","httpMethod":"POST"}`, "connectionName"},
		} {
			do("POST", "/api-destinations", c.body).wantProblem(t, http.StatusBadRequest, "validation-error", c.field)
		}
		do("POST", "/api-destinations", `{"name":"d2","connectionName":"nope","invocationEndpoint":"https://x","httpMethod":"POST"}`).
			wantProblem(t, http.StatusNotFound, "not-found", "")
		e.wantUnchanged(before)
	})
	t.Run("DestinationReadUpdateDelete", func(t *testing.T) {
		do("GET", "/api-destinations/hook", "").wantJSON(t, http.StatusOK)
		do("GET", "/api-destinations/nope", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		if got := do("GET", "/api-destinations?prefix=ho", "").wantJSON(t, http.StatusOK)["apiDestinations"].([]any); len(got) != 1 {
			t.Fatalf("destinations = %v", got)
		}
		u := do("PUT", "/api-destinations/hook", `{"connectionName":"arn:aws:events:local:000000000000:connection/none","invocationEndpoint":"https://example.com/v2","httpMethod":"PUT","invocationRateLimitPerSecond":5}`).wantJSON(t, http.StatusOK)
		if u["invocationRateLimitPerSecond"] != 5.0 || u["connectionName"] != "none" || u["httpMethod"] != "PUT" {
			t.Fatalf("update = %v", u)
		}
		do("PUT", "/api-destinations/nope", `{"connectionName":"none","invocationEndpoint":"https://x","httpMethod":"POST"}`).wantProblem(t, http.StatusNotFound, "not-found", "")
		do("PUT", "/api-destinations/hook", `{"name":"x","connectionName":"none","invocationEndpoint":"https://x","httpMethod":"POST"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "name")
		// A connection in use cannot go.
		do("DELETE", "/connections/none", "").wantProblem(t, http.StatusConflict, "conflict", "")
		if r := do("DELETE", "/api-destinations/hook", ""); r.status != http.StatusNoContent {
			t.Fatalf("delete = %d %s", r.status, r.body)
		}
		do("DELETE", "/api-destinations/hook", "").wantProblem(t, http.StatusNotFound, "not-found", "")
		if r := do("DELETE", "/connections/none", ""); r.status != http.StatusNoContent {
			t.Fatalf("delete connection = %d %s", r.status, r.body)
		}
		do("DELETE", "/connections/none", "").wantProblem(t, http.StatusNotFound, "not-found", "")
	})
}

func TestPlatformEvents(t *testing.T) {
	e := newPlatformEnv(t)
	e.do("POST", "/buses", `{"name":"shop"}`).wantJSON(t, http.StatusCreated)
	res := e.do("POST", "/events", `{"entries":[
		{"source":"shop","detailType":"OrderPlaced","detail":{"orderId":"o1"},"eventBusName":"shop","resources":["arn:x"],"time":"2026-01-02T03:04:05Z"},
		{"source":"shop","detailType":"OrderPlaced","detail":"{\"orderId\":\"o2\"}"},
		{"source":"shop","detailType":"OrderPlaced","detail":{"a":1},"eventBusName":"nope"},
		{"source":"shop","detailType":"OrderPlaced","detail":"[1]"},
		{"source":"","detailType":"OrderPlaced","detail":{}}
	]}`).wantJSON(t, http.StatusOK)
	entries := res["entries"].([]any)
	if res["failedEntryCount"] != 3.0 || len(entries) != 5 {
		t.Fatalf("put = %v", res)
	}
	for i, want := range []string{"", "", "ResourceNotFoundException", "MalformedDetail", "InvalidArgument"} {
		en := entries[i].(map[string]any)
		if en["errorCode"] != nil && en["errorCode"] != want || want == "" && en["eventId"] == nil || want != "" && en["errorCode"] != want {
			t.Errorf("entry %d = %v, want error %q", i, en, want)
		}
	}
	before := e.snapshot()
	e.do("POST", "/events", `{"entries":[]}`).wantProblem(t, http.StatusBadRequest, "validation-error", "entries")
	eleven := strings.TrimSuffix(strings.Repeat(`{"source":"s","detailType":"t","detail":{}},`, 11), ",")
	e.do("POST", "/events", `{"entries":[`+eleven+`]}`).wantProblem(t, http.StatusBadRequest, "validation-error", "entries")
	e.do("POST", "/events", `{"entries":[{"source":"s","detailType":"t","detail":{},"traceHeader":"x"}]}`).
		wantProblem(t, http.StatusBadRequest, "validation-error", "traceHeader")
	big := fmt.Sprintf(`{"entries":[{"source":"s","detailType":"t","detail":{"x":%q}}]}`, strings.Repeat("x", 300<<10))
	e.do("POST", "/events", big).wantProblem(t, http.StatusBadRequest, "validation-error", "entries")
	e.do("POST", "/events", `{"entries":[{"source":"s","detailType":"t","detail":{"x":"`+strings.Repeat("x", 4<<20)+`"}}]}`).
		wantProblem(t, http.StatusRequestEntityTooLarge, "too-large", "")
	e.wantUnchanged(before)
}

func TestPlatformTestPattern(t *testing.T) {
	e := newPlatformEnv(t)
	event := `{"id":"1","source":"shop","detail-type":"OrderPlaced","account":"000000000000","region":"local","time":"2026-01-01T00:00:00Z","resources":[],"detail":{}}`
	if r := e.do("POST", "/rules/test", `{"eventPattern":`+orderPattern+`,"event":`+event+`}`).wantJSON(t, http.StatusOK); r["result"] != true {
		t.Fatalf("match = %v", r)
	}
	if r := e.do("POST", "/rules/test", fmt.Sprintf(`{"eventPattern":{"source":["other"]},"event":%q}`, event)).wantJSON(t, http.StatusOK); r["result"] != false {
		t.Fatalf("no match = %v", r)
	}
	e.do("POST", "/rules/test", `{"eventPattern":{"source":"x"},"event":`+event+`}`).wantProblem(t, http.StatusBadRequest, "validation-error", "eventPattern")
	e.do("POST", "/rules/test", `{"eventPattern":`+orderPattern+`,"event":"not json"}`).wantProblem(t, http.StatusBadRequest, "validation-error", "event")
	e.do("POST", "/rules/test", `{"eventPattern":`+orderPattern+`}`).wantProblem(t, http.StatusBadRequest, "validation-error", "event")
	e.do("POST", "/rules/test", `{"event":`+event+`}`).wantProblem(t, http.StatusBadRequest, "validation-error", "eventPattern")
}

func TestPlatformRoles(t *testing.T) {
	e := newPlatformEnv(t, withKeys)
	rule := `{"eventPattern":` + orderPattern + `}`
	putEvent := `{"entries":[{"source":"shop","detailType":"OrderPlaced","detail":{}}]}`
	testPattern := `{"eventPattern":` + orderPattern + `,"event":{"source":"shop"}}`
	tests := []struct {
		method, path, body  string
		admin, orders, read int
	}{
		{"POST", "/buses", `{"name":"b1"}`, 201, 403, 403},
		{"GET", "/buses", "", 200, 200, 200},
		{"GET", "/buses/b1", "", 200, 200, 200},
		{"PUT", "/buses/b1/rules/r", rule, 200, 403, 403},
		{"GET", "/buses/b1/rules", "", 200, 200, 200},
		{"GET", "/buses/b1/rules/r", "", 200, 200, 200},
		{"POST", "/buses/b1/rules/r/disable", "", 200, 403, 403},
		{"PUT", "/buses/b1/rules/r/targets", `{"targets":[{"id":"t","arn":"arn:aws:events:local:000000000000:event-bus/default"}]}`, 200, 403, 403},
		{"GET", "/buses/b1/rules/r/targets", "", 200, 200, 200},
		{"DELETE", "/buses/b1/rules/r/targets/t", "", 204, 403, 403},
		{"POST", "/connections", `{"name":"c","authorizationType":"NONE"}`, 201, 403, 403},
		{"GET", "/connections", "", 200, 200, 200},
		{"PUT", "/connections/c", `{"authorizationType":"NONE"}`, 200, 403, 403},
		{"POST", "/api-destinations", `{"name":"d","connectionName":"c","invocationEndpoint":"https://x","httpMethod":"POST"}`, 201, 403, 403},
		{"GET", "/api-destinations/d", "", 200, 200, 200},
		{"DELETE", "/api-destinations/d", "", 204, 403, 403},
		{"DELETE", "/connections/c", "", 204, 403, 403},
		{"DELETE", "/buses/b1/rules/r", "", 204, 403, 403},
		{"DELETE", "/buses/b1", "", 204, 403, 403},
		{"POST", "/events", putEvent, 200, 200, 403},
		{"POST", "/rules/test", testPattern, 200, 200, 403},
	}
	for _, tt := range tests {
		// Forbidden roles first, so the admin's request still finds the
		// state the row expects (and so a forbidden one provably changed
		// nothing).
		for _, kw := range []struct {
			key  string
			want int
		}{{"read-secret", tt.read}, {"orders-secret", tt.orders}, {"admin-secret", tt.admin}} {
			before := e.snapshot()
			r := e.do(tt.method, tt.path, tt.body, bearer(kw.key)...)
			if r.status != kw.want {
				t.Errorf("%s %s as %s = %d, want %d: %s", tt.method, tt.path, kw.key, r.status, kw.want, r.body)
			}
			if kw.want == http.StatusForbidden {
				r.wantProblem(t, http.StatusForbidden, "forbidden", "")
				e.wantUnchanged(before)
			}
		}
	}
}

// TestPlatformUnavailable checks that without a platform every platform
// route answers 503, as GET /dead-letters does without a queue.
func TestPlatformUnavailable(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/buses", ""}, {"POST", "/buses", `{"name":"b"}`}, {"GET", "/buses/b", ""}, {"DELETE", "/buses/b", ""},
		{"GET", "/buses/b/rules", ""}, {"PUT", "/buses/b/rules/r", `{}`}, {"GET", "/buses/b/rules/r", ""},
		{"DELETE", "/buses/b/rules/r", ""}, {"POST", "/buses/b/rules/r/enable", ""}, {"POST", "/buses/b/rules/r/disable", ""},
		{"GET", "/buses/b/rules/r/targets", ""}, {"PUT", "/buses/b/rules/r/targets", `{}`}, {"DELETE", "/buses/b/rules/r/targets/t", ""},
		{"GET", "/connections", ""}, {"POST", "/connections", `{}`}, {"GET", "/connections/c", ""}, {"PUT", "/connections/c", `{}`},
		{"DELETE", "/connections/c", ""}, {"GET", "/api-destinations", ""}, {"POST", "/api-destinations", `{}`},
		{"GET", "/api-destinations/d", ""}, {"PUT", "/api-destinations/d", `{}`}, {"DELETE", "/api-destinations/d", ""},
		{"POST", "/events", `{}`}, {"POST", "/rules/test", `{}`},
	} {
		e.do(c.method, c.path, c.body).wantProblem(t, http.StatusServiceUnavailable, "unavailable", "")
	}
}
