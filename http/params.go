package http

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wims/wims"
)

// routeParams lists the query parameters each route takes; a route not
// listed takes none. Checking them in one place means a typo (`since`,
// `limt`) is a 400 naming the parameter on every route, instead of a
// filter silently ignored.
var routeParams = map[string][]string{
	"GET /orders":                      {"customerId", "status", "cursor", "limit"},
	"GET /events":                      {"limit", "source", "detail-type", "log-group", "since", "until", "order", "sku", "pattern", "cursor"},
	"GET /events/stream":               {"limit", "source", "detail-type", "log-group", "since", "order", "sku", "pattern", "cursor"},
	"GET /dead-letters":                {"limit", "cursor", "consumer", "rule", "target", "bus", "reason", "since", "until"},
	"POST /dead-letters/redrive":       {"dry-run"},
	"POST /dead-letters/purge":         {"dry-run"},
	"POST /dead-letters/{seq}/redrive": {"dry-run"},
	"GET /buses":                       {"prefix"},
	"GET /buses/{bus}/rules":           {"prefix"},
	"DELETE /buses/{bus}/rules/{name}": {"force"},
	"GET /connections":                 {"prefix"},
	"GET /api-destinations":            {"prefix"},
	"GET /archives":                    {"prefix", "bus"},
	"GET /replays":                     {"prefix", "archive", "state"},
}

// checkParams refuses a query the route cannot take: one that does not
// decode (`%zz`), an unknown parameter, one given twice, or one given
// empty (`status=`), each a 400 naming the parameter.
func checkParams(pattern string, r *http.Request) error {
	if r.URL.RawQuery == "" {
		return nil
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return wims.FieldError("query", "cannot be decoded: %s", strings.TrimPrefix(err.Error(), "invalid URL escape "))
	}
	allowed := routeParams[pattern]
	for k, vs := range q {
		switch {
		case !slices.Contains(allowed, k):
			if len(allowed) == 0 {
				return wims.FieldError(k, "is not a parameter of %s (it takes none)", pattern)
			}
			return wims.FieldError(k, "is not a parameter of %s (it takes %s)", pattern, strings.Join(allowed, ", "))
		case len(vs) > 1:
			return wims.FieldError(k, "may be given once")
		case vs[0] == "":
			return wims.FieldError(k, "must not be empty (leave it out instead)")
		}
	}
	return nil
}
