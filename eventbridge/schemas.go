package eventbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/textcheck"
)

// The EventBridge Schemas API is REST JSON (botocore
// schemas/2019-12-02/service-2.json): resources in the path, options in the
// query string, PascalCase members in bodies, errors as {"Code","Message"}
// with an x-amzn-ErrorType header and the status the model gives each one.

// SchemasOptions configure the Schemas handler.
type SchemasOptions struct {
	Registry wims.SchemaRegistry
	Logger   *slog.Logger
	// Auth, if nil, accepts unsigned requests (loopback dev mode) as admin.
	Auth    Authenticator
	MaxBody int64
}

// SchemasHandler serves the Schemas wire API under /v1/registries and
// /v1/discoverers.
type SchemasHandler struct {
	opt SchemasOptions
	mux *http.ServeMux
}

// IsSchemasRequest reports whether r is meant for the Schemas API.
func IsSchemasRequest(r *http.Request) bool {
	p := r.URL.Path
	return p == "/v1/registries" || strings.HasPrefix(p, "/v1/registries/") ||
		p == "/v1/discoverers" || strings.HasPrefix(p, "/v1/discoverers/")
}

// schemasCall is one operation: it returns the status and the body.
type schemasCall func(ctx context.Context, r *http.Request, body []byte) (int, any, error)

// NewSchemasHandler returns the Schemas API handler.
func NewSchemasHandler(opt SchemasOptions) *SchemasHandler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	h := &SchemasHandler{opt: opt, mux: http.NewServeMux()}
	reg := "/v1/registries/name/{registryName}"
	sch := reg + "/schemas/name/{schemaName}"
	disc := "/v1/discoverers/id/{discovererId}"
	for pattern, c := range map[string]schemasCall{
		"GET /v1/registries":             h.listRegistries,
		"POST " + reg:                    h.createRegistry,
		"GET " + reg:                     h.describeRegistry,
		"PUT " + reg:                     h.updateRegistry,
		"DELETE " + reg:                  h.deleteRegistry,
		"GET " + reg + "/schemas":        h.listSchemas,
		"GET " + reg + "/schemas/search": h.searchSchemas,
		"POST " + sch:                    h.createSchema,
		"GET " + sch:                     h.describeSchema,
		"PUT " + sch:                     h.updateSchema,
		"DELETE " + sch:                  h.deleteSchema,
		"GET " + sch + "/versions":       h.listSchemaVersions,
		"DELETE " + sch + "/version/{schemaVersion}": h.deleteSchemaVersion,
		"GET " + sch + "/export":                     h.exportSchema,
		"GET /v1/discoverers":                        h.listDiscoverers,
		"POST /v1/discoverers":                       h.createDiscoverer,
		"GET " + disc:                                h.describeDiscoverer,
		"PUT " + disc:                                h.updateDiscoverer,
		"DELETE " + disc:                             h.deleteDiscoverer,
		"POST " + disc + "/start":                    h.discovererState(wims.DiscovererStarted),
		"POST " + disc + "/stop":                     h.discovererState(wims.DiscovererStopped),
	} {
		access := "read"
		if !strings.HasPrefix(pattern, "GET ") {
			access = "admin"
		}
		h.mux.Handle(pattern, h.serve(strings.Fields(pattern)[1], access, c))
	}
	return h
}

// ServeHTTP implements http.Handler.
func (h *SchemasHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", requestID())
	if _, pattern := h.mux.Handler(r); pattern == "" {
		writeSchemasError(w, schemasError{404, "NotFoundException", "No Schemas operation is " + r.Method + " " + r.URL.Path + "."})
		return
	}
	h.mux.ServeHTTP(w, r)
}

func (h *SchemasHandler) serve(path, access string, call schemasCall) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, h.opt.MaxBody+1))
		if err != nil {
			writeSchemasError(w, schemasError{400, "BadRequestException", "Cannot read the request body."})
			return
		}
		if int64(len(body)) > h.opt.MaxBody {
			writeSchemasError(w, schemasError{400, "BadRequestException", "The request body is too large."})
			return
		}
		role := "admin"
		if h.opt.Auth != nil {
			if role, err = h.opt.Auth.Authenticate(r, body); err != nil {
				var ae *AuthError
				msg := "access denied"
				if errors.As(err, &ae) {
					msg = ae.Type + ": " + ae.Message
				}
				writeSchemasError(w, schemasError{401, "UnauthorizedException", msg})
				return
			}
		}
		if !allowed(role, access) {
			writeSchemasError(w, schemasError{403, "ForbiddenException", "User with role " + role + " is not authorized to perform " + r.Method + " " + path + "."})
			return
		}
		for _, name := range []string{"registryName", "schemaName", "discovererId", "schemaVersion"} {
			if v := r.PathValue(name); v != "" && !textcheck.Valid(v) {
				writeSchemasError(w, schemasError{400, "BadRequestException", name + " must be valid UTF-8 without NUL characters."})
				return
			}
		}
		status, out, err := call(r.Context(), r, body)
		if err != nil {
			e := toSchemasError(err)
			if e.Status >= 500 {
				h.opt.Logger.Error("schemas operation failed", "path", path, "err", err)
			}
			writeSchemasError(w, e)
			return
		}
		if out == nil {
			w.WriteHeader(status)
			return
		}
		data, err := json.Marshal(out)
		if err != nil {
			writeSchemasError(w, schemasError{500, "InternalServerErrorException", "internal error"})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(data)
	})
}

// schemasError is an error as the REST JSON protocol carries it.
type schemasError struct {
	Status  int
	Code    string
	Message string
}

func (e schemasError) Error() string { return e.Code + ": " + e.Message }

func badRequest(format string, args ...any) error {
	return schemasError{400, "BadRequestException", fmt.Sprintf(format, args...)}
}

// toSchemasError maps a wims error to the Schemas API's exception, once
// for every operation.
func toSchemasError(err error) schemasError {
	if e, ok := err.(schemasError); ok {
		return e
	}
	msg := wims.ErrorMessage(err)
	switch wims.ErrorCode(err) {
	case wims.EINVALID, wims.ELIMIT, wims.ETOOLARGE:
		if f := wims.ErrorField(err); f != "" && !strings.Contains(msg, f) {
			msg = f + ": " + msg
		}
		return schemasError{400, "BadRequestException", msg}
	case wims.ENOTFOUND:
		return schemasError{404, "NotFoundException", msg}
	case wims.ECONFLICT:
		return schemasError{409, "ConflictException", msg}
	case wims.EUNAVAILABLE:
		return schemasError{503, "ServiceUnavailableException", msg}
	case wims.ERATELIMIT:
		return schemasError{429, "TooManyRequestsException", msg}
	case wims.EFORBIDDEN:
		return schemasError{403, "ForbiddenException", msg}
	case wims.EUNAUTHORIZED:
		return schemasError{401, "UnauthorizedException", msg}
	}
	return schemasError{500, "InternalServerErrorException", "An internal error occurred; the request id is in x-amzn-RequestId."}
}

func writeSchemasError(w http.ResponseWriter, e schemasError) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	data, _ := json.Marshal(struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	}{e.Code, e.Message})
	_, _ = w.Write(data)
}

// schemasBody decodes an operation's JSON body (empty: zero value).
func schemasBody[T any](body []byte) (T, error) {
	var v T
	if len(strings.TrimSpace(string(body))) == 0 {
		return v, nil
	}
	if path, found := textcheck.NULInJSON(body); found {
		return v, badRequest("%s must not contain NUL characters", path)
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return v, schemasError{400, "BadRequestException", "Cannot parse the request body: " + err.Error()}
	}
	return v, nil
}

// schemasQuery reads the query string: only the names an operation takes,
// each at most once.
func schemasQuery(r *http.Request, names ...string) (map[string]string, error) {
	q := r.URL.Query()
	out := map[string]string{}
	for k, vs := range q {
		known := false
		for _, n := range names {
			known = known || n == k
		}
		if !known {
			return nil, badRequest("unknown query parameter %q", k)
		}
		if len(vs) > 1 {
			return nil, badRequest("query parameter %q given %d times", k, len(vs))
		}
		if !textcheck.Valid(vs[0]) {
			return nil, badRequest("query parameter %q must be valid UTF-8 without NUL characters", k)
		}
		out[k] = vs[0]
	}
	return out, nil
}

// schemasPage pages a name-ordered list with the query's limit and
// nextToken.
func schemasPage[T any](q map[string]string, items []T, name func(T) string) ([]T, string, error) {
	limit := 0
	if s := q["limit"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return nil, "", badRequest("limit must be 1-100, got %q", s)
		}
		limit = n
	}
	out, next, err := pageOf(items, name, q["nextToken"], limit)
	if err != nil {
		return nil, "", badRequest("nextToken is not valid")
	}
	return out, next, nil
}
