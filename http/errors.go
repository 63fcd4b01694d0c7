package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/wims/wims"
)

// problemKind is a stable problem type with its HTTP status and title.
type problemKind struct {
	Status int
	Slug   string // the last segment of the problem type URL
	Title  string
}

// codeKinds maps every wims error code to its status and problem type. It is
// the only place where codes become HTTP; handlers just return errors.
var codeKinds = map[string]problemKind{
	wims.EINVALID:      {http.StatusBadRequest, "validation-error", "Invalid input"},
	wims.ENOTFOUND:     {http.StatusNotFound, "not-found", "Not found"},
	wims.ECONFLICT:     {http.StatusConflict, "conflict", "Conflict with the current state"},
	wims.EINSUFFICIENT: {http.StatusConflict, "insufficient-stock", "Insufficient stock"},
	wims.ETOOLARGE:     {http.StatusRequestEntityTooLarge, "too-large", "Request too large"},
	wims.ELIMIT:        {http.StatusConflict, "limit-exceeded", "Limit exceeded"},
	wims.EUNAUTHORIZED: {http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	wims.EFORBIDDEN:    {http.StatusForbidden, "forbidden", "Forbidden"},
	wims.ERATELIMIT:    {http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	wims.EUNAVAILABLE:  {http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	wims.EINTERNAL:     {http.StatusInternalServerError, "internal", "Internal server error"},
}

// Kinds the HTTP layer detects itself. They refine a code where the client
// benefits from a more specific type (its JSON did not parse, rather than a
// field broke a rule) or where HTTP has a status the domain has no code for.
var (
	kindMalformedJSON        = problemKind{http.StatusBadRequest, "malformed-json", "Malformed JSON"}
	kindUnsupportedMediaType = problemKind{http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"}
	kindMethodNotAllowed     = problemKind{http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed"}
	kindIdempotencyReused    = problemKind{http.StatusUnprocessableEntity, "idempotency-key-reused", "Idempotency key reused"}
	kindIdempotencyInFlight  = problemKind{http.StatusConflict, "idempotency-key-in-flight", "Idempotency key in use"}
	kindNotCancellable       = problemKind{http.StatusConflict, "order-not-cancellable", "Order cannot be cancelled"}
	kindNotShippable         = problemKind{http.StatusConflict, "order-not-shippable", "Order cannot be shipped"}
)

// internalDetail is all a client learns about a 5xx.
const internalDetail = "The server failed to handle the request. Quote the request id when reporting it."

// apiError is an error whose problem kind is not its code's default.
type apiError struct {
	kind problemKind
	err  *wims.Error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

// newAPIError returns an error of kind k about field (may be "").
func newAPIError(k problemKind, code, field, msg string) error {
	return &apiError{kind: k, err: &wims.Error{Code: code, Field: field, Message: msg}}
}

// errNoRoute answers a path that no route serves.
var errNoRoute = wims.Errorf(wims.ENOTFOUND, "No resource at this path.")

func errMethodNotAllowed(method string) error {
	return newAPIError(kindMethodNotAllowed, wims.EINVALID, "", "Method "+method+" is not allowed on this resource; see the Allow header.")
}

// problemOf turns err into the problem the client sees. Internal errors get
// a generic detail; a wims.Error's message is client-safe by contract.
func problemOf(err error) Problem {
	code := wims.ErrorCode(err)
	k, known := codeKinds[code]
	var ae *apiError
	if errors.As(err, &ae) {
		k, known = ae.kind, true
	}
	if !known || code == wims.EINTERNAL {
		// A plain error, an explicit EINTERNAL or an unknown code (a bug):
		// its text may hold SQL, paths or addresses, so none of it is shown.
		k = codeKinds[wims.EINTERNAL]
		return Problem{Type: ProblemTypeBase + k.Slug, Title: k.Title, Status: k.Status, Detail: internalDetail}
	}
	p := Problem{Type: ProblemTypeBase + k.Slug, Title: k.Title, Status: k.Status}
	msg := wims.ErrorMessage(err)
	p.Detail = msg
	if f := wims.ErrorField(err); f != "" {
		// Field messages are often fragments ("is required"); the detail
		// names the field so that it reads on its own.
		p.Detail = f + ": " + msg
		p.Field = f
		p.Errors = []FieldProblem{{Field: f, Reason: msg}}
	}
	return p
}

// writeError answers r with the problem for err, and logs err if it is
// internal: once, here, with the request id, so it can be found from the
// id the client was given.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problem(r, err)
	switch {
	case p.Status >= 500 && errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away mid-request; nobody reads this answer and
		// nothing is broken, so it is not worth an error log line.
		s.logger.LogAttrs(r.Context(), slog.LevelDebug, "request canceled by client",
			slog.String("request_id", p.RequestID), slog.String("method", r.Method), slog.String("route", routeFrom(r.Context())))
	case p.Status >= 500:
		s.logger.LogAttrs(r.Context(), slog.LevelError, "http request failed",
			slog.String("request_id", p.RequestID), slog.String("method", r.Method),
			slog.String("route", routeFrom(r.Context())), slog.Int("status", p.Status), slog.Any("error", err))
	}
	writeProblem(w, p)
}

// problem is problemOf(err) for request r.
func (s *Server) problem(r *http.Request, err error) Problem {
	p := problemOf(err)
	p.Instance = r.URL.Path
	p.RequestID = requestIDFrom(r.Context())
	return p
}
