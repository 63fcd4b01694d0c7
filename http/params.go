package http

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/textcheck"
)

// routeParams lists the query parameters each route takes; a route not
// listed takes none. Checking them in one place means a typo (`since`,
// `limt`) is a 400 naming the parameter on every route, instead of a
// filter silently ignored.
var routeParams = map[string][]string{
	"GET /orders":                                      {"customerId", "status", "sku", "cursor", "limit"},
	"GET /events":                                      {"limit", "source", "detail-type", "log-group", "since", "until", "order", "sku", "pattern", "cursor"},
	"GET /events/stream":                               {"limit", "source", "detail-type", "log-group", "since", "order", "sku", "pattern", "cursor"},
	"GET /dead-letters":                                {"limit", "cursor", "consumer", "rule", "target", "bus", "reason", "since", "until"},
	"POST /dead-letters/redrive":                       {"dry-run"},
	"POST /dead-letters/purge":                         {"dry-run"},
	"POST /dead-letters/{seq}/redrive":                 {"dry-run"},
	"GET /buses":                                       {"prefix"},
	"GET /buses/{bus}/rules":                           {"prefix"},
	"DELETE /buses/{bus}/rules/{name}":                 {"force"},
	"GET /connections":                                 {"prefix"},
	"GET /api-destinations":                            {"prefix"},
	"GET /archives":                                    {"prefix", "bus"},
	"GET /replays":                                     {"prefix", "archive", "state"},
	"GET /registries":                                  {"prefix"},
	"GET /registries/{registry}/schemas":               {"prefix", "keywords"},
	"GET /registries/{registry}/schemas/{name}":        {"version"},
	"GET /registries/{registry}/schemas/{name}/export": {"version", "type"},
	"GET /discoverers":                                 {"prefix"},
}

// checkPath refuses a path that is not UTF-8 or holds a NUL (after
// percent-decoding): no name may, and PostgreSQL could not look it up.
func checkPath(r *http.Request) error {
	if !textcheck.Valid(r.URL.Path) {
		return wims.FieldError("path", "must be UTF-8 without NUL characters (after percent-decoding)")
	}
	return nil
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
		case !textcheck.Valid(k):
			return wims.FieldError("query", "parameter names must be UTF-8 without NUL characters")
		case slices.ContainsFunc(vs, func(v string) bool { return !textcheck.Valid(v) }):
			return wims.FieldError(k, "must be UTF-8 without NUL characters")
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
