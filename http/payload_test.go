package http_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// fakePayloads serves one claim-checked payload.
type fakePayloads struct{ p wims.EventPayload }

func (f fakePayloads) GetEventPayload(_ context.Context, id string) (wims.EventPayload, error) {
	if id != f.p.ID {
		return wims.EventPayload{}, wims.Errorf(wims.ENOTFOUND, "Event %s has no claim-checked payload.", id)
	}
	return f.p, nil
}

// TestEventPayload: GET /events/{id}/payload answers the detail byte for
// byte to admin, redacted to read, not to orders (as GET /events); an
// unknown id is a 404 problem.
func TestEventPayload(t *testing.T) {
	detail := `{"customerId":"` + customer + `", "blob":"` + strings.Repeat("x", 1000) + `"}`
	payloads := fakePayloads{wims.EventPayload{ID: "ev-big", Detail: []byte(detail)}}
	e := newEnv(t, withKeys, func(o *wimshttp.Options) { o.Payloads = payloads })
	r := e.do("GET", "/events/ev-big/payload", "", bearer("admin-secret")...)
	if r.status != http.StatusOK || string(r.body) != detail {
		t.Fatalf("admin: %d %.100s, want the detail as put", r.status, r.body)
	}
	r = e.do("GET", "/events/ev-big/payload", "", bearer("read-secret")...)
	if r.status != http.StatusOK || strings.Contains(string(r.body), customer) || !strings.Contains(string(r.body), `"customerId":"REDACTED"`) {
		t.Fatalf("read: %d %.100s, want customerId REDACTED", r.status, r.body)
	}
	e.do("GET", "/events/ev-big/payload", "", bearer("orders-secret")...).wantProblem(t, http.StatusForbidden, "forbidden", "")
	e.do("GET", "/events/nope/payload", "", bearer("admin-secret")...).wantProblem(t, http.StatusNotFound, "not-found", "")

	none := newEnv(t, withKeys)
	none.do("GET", "/events/ev-big/payload", "", bearer("admin-secret")...).wantProblem(t, http.StatusServiceUnavailable, "unavailable", "")
}
