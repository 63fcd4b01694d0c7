package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wims/wims"
)

// The event platform's REST routes (DESIGN §8): buses, rules, targets,
// connections, API destinations, PutEvents and TestEventPattern, as wims'
// own JSON (camelCase members of the domain types). The EventBridge wire API
// drives the same wims.EventPlatform with AWS's shapes; this one follows the
// rest of this API: problem+json errors naming the field, 201 for creates,
// 204 for deletes.
//
// A bus name may contain '/', which a path segment cannot: clients send it
// percent-encoded (/buses/team%2Forders/rules), and r.PathValue decodes it,
// since ServeMux matches the escaped path segment by segment.

// maxPrefixLength bounds ?prefix=: no resource name is longer than a bus
// name (256), so a longer prefix can match nothing.
const maxPrefixLength = 256

// errNoPlatform answers the platform routes when the server has none.
var errNoPlatform = wims.Errorf(wims.EUNAVAILABLE, "The event platform is not available in this configuration.")

// handlePlatform registers a platform route: 503 without a platform, and
// the platform's field names (AWS's, e.g. "EventPattern") turned into this
// API's JSON member names ("eventPattern") so a client can find the member
// it sent.
func (s *Server) handlePlatform(pattern string, h apiHandler) {
	s.handle(pattern, func(w http.ResponseWriter, r *http.Request) error {
		if s.platform == nil {
			return errNoPlatform
		}
		return restError(h(w, r))
	})
}

// restFields maps the platform's field names that have no camelCase twin in
// this API to the member the client sent instead.
var restFields = map[string]string{
	"ConnectionArn": "connectionName",
	"AuthParameters.ApiKeyAuthParameters.ApiKeyName":  "apiKeyName",
	"AuthParameters.ApiKeyAuthParameters.ApiKeyValue": "apiKeyValue",
	"AuthParameters.BasicAuthParameters.Username":     "username",
	"AuthParameters.BasicAuthParameters.Password":     "password",
}

// restField turns an AWS-style field path ("RetryPolicy.MaximumRetryAttempts")
// into this API's ("retryPolicy.maximumRetryAttempts").
func restField(f string) string {
	if m, ok := restFields[f]; ok {
		return m
	}
	parts := strings.Split(f, ".")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToLower(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, ".")
}

// restError renames the field of a wims.Error; other errors pass as they are.
func restError(err error) error {
	var e *wims.Error
	if err == nil || !errors.As(err, &e) || e.Field == "" {
		return err
	}
	var ae *apiError
	var ne namedError
	if errors.As(err, &ae) || errors.As(err, &ne) {
		return err // raised by this package: already named for the client
	}
	c := *e
	c.Field = restField(e.Field)
	return &c
}

// namedError is an error whose field is already this API's name for it:
// a decoding error names the member as the client spelled it.
type namedError struct{ error }

func (e namedError) Unwrap() error { return e.error }

// decodeNamed is decodeJSONMax whose errors restError leaves alone.
func decodeNamed(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	if err := decodeJSONMax(w, r, v, max); err != nil {
		return namedError{err}
	}
	return nil
}

// connectionARNPrefix lets connectionName be given as the connection's ARN.
var connectionARNPrefix = wims.ConnectionARN("")

// jsonText is a member that holds JSON text (an event pattern, an event's
// detail, a target's input): either the JSON value itself (an object) or a
// string holding the text, as EventBridge's own APIs take it.
type jsonText string

// UnmarshalJSON accepts a string (its content is the text) or any other
// JSON value (its encoding is the text).
func (t *jsonText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = jsonText(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*t = ""
		return nil
	}
	*t = jsonText(b)
	return nil
}

// prefixParam reads ?prefix=.
func prefixParam(r *http.Request) (string, error) {
	p := r.URL.Query().Get("prefix")
	if len(p) > maxPrefixLength {
		return "", wims.FieldError("prefix", "must be at most %d characters", maxPrefixLength)
	}
	return p, nil
}

// location is the path of a resource, with each segment escaped.
func location(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// Views: the domain types with their ARNs, which clients need to name a bus,
// rule, connection or API destination in a target or another resource.

type busView struct {
	wims.EventBus
	ARN string `json:"arn"`
}

func viewBus(b wims.EventBus) busView { return busView{b, b.ARN()} }

type ruleView struct {
	wims.Rule
	ARN string `json:"arn"`
}

func viewRule(r wims.Rule) ruleView { return ruleView{r, r.ARN()} }

type connectionView struct {
	wims.Connection
	ARN string `json:"arn"`
}

func viewConnection(c wims.Connection) connectionView {
	c.Secret = "" // json:"-" already; belt and braces for a write-only secret
	return connectionView{c, c.ARN()}
}

type destinationView struct {
	wims.APIDestination
	ARN           string `json:"arn"`
	ConnectionARN string `json:"connectionArn"`
}

func viewDestination(d wims.APIDestination) destinationView {
	return destinationView{d, d.ARN(), wims.ConnectionARN(d.ConnectionName)}
}

func viewAll[T, V any](xs []T, view func(T) V) []V {
	out := make([]V, 0, len(xs))
	for _, x := range xs {
		out = append(out, view(x))
	}
	return out
}

// Buses.

type busRequest struct {
	Name             string                 `json:"name"`
	Description      string                 `json:"description"`
	SchemaValidation *wims.SchemaValidation `json:"schemaValidation"`
}

func (s *Server) handleListBuses(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	buses, err := s.platform.ListEventBuses(r.Context(), prefix)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		EventBuses []busView `json:"eventBuses"`
	}{viewAll(buses, viewBus)})
}

func (s *Server) handleCreateBus(w http.ResponseWriter, r *http.Request) error {
	var req busRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	b, err := s.platform.CreateEventBus(r.Context(), wims.EventBus{Name: req.Name, Description: req.Description, SchemaValidation: req.SchemaValidation})
	if err != nil {
		return err
	}
	w.Header().Set("Location", location("buses", b.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewBus(b))
}

func (s *Server) handleGetBus(w http.ResponseWriter, r *http.Request) error {
	b, err := s.platform.DescribeEventBus(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewBus(b))
}

// handleUpdateBus replaces a bus's description and schema validation (PUT
// takes the whole of what may change: leaving schemaValidation out turns
// validation off).
func (s *Server) handleUpdateBus(w http.ResponseWriter, r *http.Request) error {
	var req busRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	name, err := pathName(r, req.Name)
	if err != nil {
		return err
	}
	b, err := s.platform.UpdateEventBus(r.Context(), wims.EventBus{Name: name, Description: req.Description, SchemaValidation: req.SchemaValidation})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewBus(b))
}

func (s *Server) handleDeleteBus(w http.ResponseWriter, r *http.Request) error {
	if err := s.platform.DeleteEventBus(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Rules.

// ruleRequest is the body of PUT /buses/{bus}/rules/{name}; the bus and the
// name are the path's.
type ruleRequest struct {
	EventPattern jsonText `json:"eventPattern"`
	State        string   `json:"state"`
	Description  string   `json:"description"`
}

func (s *Server) handleListRules(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	rules, err := s.platform.ListRules(r.Context(), r.PathValue("bus"), prefix)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Rules []ruleView `json:"rules"`
	}{viewAll(rules, viewRule)})
}

func (s *Server) handlePutRule(w http.ResponseWriter, r *http.Request) error {
	var req ruleRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	rule, err := s.platform.PutRule(r.Context(), wims.Rule{
		Name: r.PathValue("name"), EventBusName: r.PathValue("bus"),
		EventPattern: string(req.EventPattern), State: req.State, Description: req.Description,
	})
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewRule(rule))
}

func (s *Server) handleGetRule(w http.ResponseWriter, r *http.Request) error {
	rule, err := s.platform.DescribeRule(r.Context(), r.PathValue("bus"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewRule(rule))
}

func (s *Server) handleDeleteRule(w http.ResponseWriter, r *http.Request) error {
	force := false
	if q := r.URL.Query(); q.Has("force") {
		switch q.Get("force") {
		case "true", "":
			force = true
		case "false":
		default:
			return wims.FieldError("force", "must be true or false")
		}
	}
	if err := s.platform.DeleteRule(r.Context(), r.PathValue("bus"), r.PathValue("name"), force); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// ruleStateHandler enables or disables a rule and answers with it.
func (s *Server) ruleStateHandler(state string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		bus, name := r.PathValue("bus"), r.PathValue("name")
		if err := s.platform.SetRuleState(r.Context(), bus, name, state); err != nil {
			return err
		}
		rule, err := s.platform.DescribeRule(r.Context(), bus, name)
		if err != nil {
			return err
		}
		return s.writeJSON(w, r, http.StatusOK, viewRule(rule))
	}
}

// Targets.

// targetRequest is one target of PUT …/targets. Unlike wims.Target it has
// no rule or bus: those are the path's. Input is JSON text or a JSON value.
type targetRequest struct {
	ID               string                 `json:"id"`
	Arn              string                 `json:"arn"`
	Input            jsonText               `json:"input"`
	InputPath        string                 `json:"inputPath"`
	InputTransformer *wims.InputTransformer `json:"inputTransformer"`
	RetryPolicy      *wims.RetryPolicy      `json:"retryPolicy"`
	DeadLetterConfig *wims.DeadLetterConfig `json:"deadLetterConfig"`
	HTTPParameters   *wims.HTTPParameters   `json:"httpParameters"`
}

type targetsRequest struct {
	Targets []targetRequest `json:"targets"`
}

// targetsResponse is PUT …/targets' answer: the targets that failed, each
// with an EventBridge error code (the others were applied).
type targetsResponse struct {
	FailedEntryCount int                  `json:"failedEntryCount"`
	FailedEntries    []wims.TargetFailure `json:"failedEntries"`
}

func (s *Server) handleListTargets(w http.ResponseWriter, r *http.Request) error {
	targets, err := s.platform.ListTargetsByRule(r.Context(), r.PathValue("bus"), r.PathValue("name"))
	if err != nil {
		return err
	}
	if targets == nil {
		targets = []wims.Target{}
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Targets []wims.Target `json:"targets"`
	}{targets})
}

// handlePutTargets validates every target's own fields first, so that a
// malformed request is a 400 naming the member (targets[i].id) and changes
// nothing; what only the platform can check (that the ARN's bus or API
// destination exists, that the input transformer compiles) fails per target
// in failedEntries, as EventBridge's PutTargets does.
func (s *Server) handlePutTargets(w http.ResponseWriter, r *http.Request) error {
	var req targetsRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if len(req.Targets) == 0 || len(req.Targets) > 10 {
		return wims.FieldError("targets", "must have 1-10 targets, got %d", len(req.Targets))
	}
	bus, rule := r.PathValue("bus"), r.PathValue("name")
	targets := make([]wims.Target, len(req.Targets))
	for i, t := range req.Targets {
		targets[i] = wims.Target{
			Rule: rule, EventBusName: bus, ID: t.ID, Arn: t.Arn, Input: string(t.Input), InputPath: t.InputPath,
			InputTransformer: t.InputTransformer, RetryPolicy: t.RetryPolicy,
			DeadLetterConfig: t.DeadLetterConfig, HTTPParameters: t.HTTPParameters,
		}
		if err := targets[i].Validate(); err != nil {
			return indexedField(err, fmt.Sprintf("targets[%d].", i))
		}
	}
	failed, err := s.platform.PutTargets(r.Context(), bus, rule, targets)
	if err != nil {
		return err
	}
	if failed == nil {
		failed = []wims.TargetFailure{}
	}
	return s.writeJSON(w, r, http.StatusOK, targetsResponse{len(failed), failed})
}

// indexedField prefixes the (renamed) field of a validation error with the
// array member it is in.
func indexedField(err error, prefix string) error {
	var e *wims.Error
	if !errors.As(err, &e) || e.Field == "" {
		return err
	}
	c := *e
	c.Field = prefix + restField(e.Field)
	return newAPIError(codeKinds[c.Code], c.Code, c.Field, c.Message)
}

func (s *Server) handleRemoveTarget(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	failed, err := s.platform.RemoveTargets(r.Context(), r.PathValue("bus"), r.PathValue("name"), []string{id})
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		if failed[0].ErrorCode == "ResourceNotFoundException" {
			return wims.Errorf(wims.ENOTFOUND, "%s", failed[0].ErrorMessage)
		}
		return wims.Errorf(wims.EINTERNAL, "remove target %s: %s %s", id, failed[0].ErrorCode, failed[0].ErrorMessage)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Connections.

// connectionRequest is the body of POST /connections and PUT
// /connections/{name}. The secret goes in apiKeyValue (API_KEY) or password
// (BASIC); it is write-only: no answer carries it.
type connectionRequest struct {
	Name                     string               `json:"name"`
	Description              string               `json:"description"`
	AuthorizationType        string               `json:"authorizationType"`
	APIKeyName               string               `json:"apiKeyName"`
	APIKeyValue              string               `json:"apiKeyValue"`
	Username                 string               `json:"username"`
	Password                 string               `json:"password"`
	InvocationHTTPParameters *wims.HTTPParameters `json:"invocationHttpParameters"`
}

// connection checks that the secret is in the member that matches the
// authorization type, so a password sent with API_KEY is not silently
// taken for a key.
func (c connectionRequest) connection() (wims.Connection, error) {
	out := wims.Connection{
		Name: c.Name, Description: c.Description, AuthorizationType: c.AuthorizationType,
		APIKeyName: c.APIKeyName, Username: c.Username, InvocationHTTPParameters: c.InvocationHTTPParameters,
	}
	switch {
	case c.APIKeyValue != "" && c.AuthorizationType != wims.AuthAPIKey:
		return out, wims.FieldError("apiKeyValue", "is only for authorizationType API_KEY")
	case c.Password != "" && c.AuthorizationType != wims.AuthBasic:
		return out, wims.FieldError("password", "is only for authorizationType BASIC")
	case c.APIKeyName != "" && c.AuthorizationType != wims.AuthAPIKey:
		return out, wims.FieldError("apiKeyName", "is only for authorizationType API_KEY")
	case c.Username != "" && c.AuthorizationType != wims.AuthBasic:
		return out, wims.FieldError("username", "is only for authorizationType BASIC")
	}
	out.Secret = c.APIKeyValue + c.Password
	return out, nil
}

// pathName checks a body's optional name against the path's.
func pathName(r *http.Request, body string) (string, error) {
	name := r.PathValue("name")
	if body != "" && body != name {
		return "", wims.FieldError("name", "is %q but the path names %q; rename by creating a new one", body, name)
	}
	return name, nil
}

func (s *Server) handleListConnections(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	cs, err := s.platform.ListConnections(r.Context(), prefix)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Connections []connectionView `json:"connections"`
	}{viewAll(cs, viewConnection)})
}

func (s *Server) handleCreateConnection(w http.ResponseWriter, r *http.Request) error {
	var req connectionRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	c, err := req.connection()
	if err != nil {
		return err
	}
	if c, err = s.platform.CreateConnection(r.Context(), c); err != nil {
		return err
	}
	w.Header().Set("Location", location("connections", c.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewConnection(c))
}

func (s *Server) handleGetConnection(w http.ResponseWriter, r *http.Request) error {
	c, err := s.platform.DescribeConnection(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewConnection(c))
}

// handleUpdateConnection replaces a connection; without apiKeyValue or
// password it keeps the stored secret, so a description can change without
// the caller knowing the secret.
func (s *Server) handleUpdateConnection(w http.ResponseWriter, r *http.Request) error {
	var req connectionRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	name, err := pathName(r, req.Name)
	if err != nil {
		return err
	}
	req.Name = name
	c, err := req.connection()
	if err != nil {
		return err
	}
	if c, err = s.platform.UpdateConnection(r.Context(), c); err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewConnection(c))
}

func (s *Server) handleDeleteConnection(w http.ResponseWriter, r *http.Request) error {
	if err := s.platform.DeleteConnection(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// API destinations.

// destinationRequest is the body of POST /api-destinations and PUT
// /api-destinations/{name}. A rate of 0 means EventBridge's default (300/s).
type destinationRequest struct {
	Name                         string `json:"name"`
	Description                  string `json:"description"`
	ConnectionName               string `json:"connectionName"`
	InvocationEndpoint           string `json:"invocationEndpoint"`
	HTTPMethod                   string `json:"httpMethod"`
	InvocationRateLimitPerSecond int    `json:"invocationRateLimitPerSecond"`
}

func (d destinationRequest) destination() wims.APIDestination {
	return wims.APIDestination{
		Name: d.Name, Description: d.Description, ConnectionName: strings.TrimPrefix(d.ConnectionName, connectionARNPrefix),
		InvocationEndpoint: d.InvocationEndpoint, HTTPMethod: d.HTTPMethod,
		InvocationRateLimitPerSecond: d.InvocationRateLimitPerSecond,
	}
}

func (s *Server) handleListDestinations(w http.ResponseWriter, r *http.Request) error {
	prefix, err := prefixParam(r)
	if err != nil {
		return err
	}
	ds, err := s.platform.ListAPIDestinations(r.Context(), prefix)
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		APIDestinations []destinationView `json:"apiDestinations"`
	}{viewAll(ds, viewDestination)})
}

func (s *Server) handleCreateDestination(w http.ResponseWriter, r *http.Request) error {
	var req destinationRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	d, err := s.platform.CreateAPIDestination(r.Context(), req.destination())
	if err != nil {
		return err
	}
	w.Header().Set("Location", location("api-destinations", d.Name))
	return s.writeJSON(w, r, http.StatusCreated, viewDestination(d))
}

func (s *Server) handleGetDestination(w http.ResponseWriter, r *http.Request) error {
	d, err := s.platform.DescribeAPIDestination(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewDestination(d))
}

func (s *Server) handleUpdateDestination(w http.ResponseWriter, r *http.Request) error {
	var req destinationRequest
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	name, err := pathName(r, req.Name)
	if err != nil {
		return err
	}
	req.Name = name
	d, err := s.platform.UpdateAPIDestination(r.Context(), req.destination())
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, viewDestination(d))
}

func (s *Server) handleDeleteDestination(w http.ResponseWriter, r *http.Request) error {
	if err := s.platform.DeleteAPIDestination(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PutEvents and TestEventPattern.

// maxPutEventsBody bounds POST /events: the entries may add up to 256 KB as
// EventBridge counts them (with claim checks wims.MaxClaimCheckBytes), and
// their JSON (member names, escaped detail strings) is larger than that.
const maxPutEventsBody = 2*wims.MaxClaimCheckBytes + 1<<20

// eventEntry is one entry of POST /events. detail is a JSON object or a
// string holding one.
type eventEntry struct {
	Source       string    `json:"source"`
	DetailType   string    `json:"detailType"`
	Detail       jsonText  `json:"detail"`
	Resources    []string  `json:"resources"`
	Time         time.Time `json:"time"`
	EventBusName string    `json:"eventBusName"`
}

type putEventsResponse struct {
	FailedEntryCount int                    `json:"failedEntryCount"`
	Entries          []wims.PutEventsResult `json:"entries"`
}

// handlePutEvents answers 200 whenever the request as a whole is valid;
// each entry succeeds (eventId) or fails (errorCode, errorMessage) on its
// own, as EventBridge's PutEvents does. The request's trace context goes
// with the events, so a trace follows them to their targets.
func (s *Server) handlePutEvents(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Entries []eventEntry `json:"entries"`
	}
	if err := decodeNamed(w, r, &req, maxPutEventsBody); err != nil {
		return err
	}
	trace := wims.TraceParent(r.Context())
	entries := make([]wims.PutEventsEntry, len(req.Entries))
	for i, e := range req.Entries {
		entries[i] = wims.PutEventsEntry{
			Source: e.Source, DetailType: e.DetailType, Detail: string(e.Detail), Resources: e.Resources,
			Time: e.Time, EventBusName: e.EventBusName, TraceHeader: trace,
		}
	}
	results, err := s.platform.PutEvents(r.Context(), entries)
	if err != nil {
		return err
	}
	failed := 0
	for _, res := range results {
		if res.ErrorCode != "" {
			failed++
		}
	}
	return s.writeJSON(w, r, http.StatusOK, putEventsResponse{failed, results})
}

func (s *Server) handleTestPattern(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		EventPattern jsonText `json:"eventPattern"`
		Event        jsonText `json:"event"`
	}
	if err := decodeNamed(w, r, &req, MaxBodyBytes); err != nil {
		return err
	}
	if req.EventPattern == "" {
		return wims.FieldError("eventPattern", "is required")
	}
	if req.Event == "" {
		return wims.FieldError("event", "is required")
	}
	ok, err := s.platform.TestEventPattern(r.Context(), string(req.EventPattern), string(req.Event))
	if err != nil {
		return err
	}
	return s.writeJSON(w, r, http.StatusOK, struct {
		Result bool `json:"result"`
	}{ok})
}
