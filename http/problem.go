package http

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// ProblemTypeBase prefixes every problem type. Types are stable identifiers
// that clients branch on; the URL need not resolve.
const ProblemTypeBase = "https://wims.dev/problems/"

// Problem is an RFC 9457 problem details object, the body of every 4xx and
// 5xx response. Clients (the wims CLI) decode error responses into it.
type Problem struct {
	// Type identifies the kind of problem, e.g.
	// "https://wims.dev/problems/validation-error".
	Type string `json:"type"`
	// Title is a short summary of the kind, the same for every occurrence.
	Title string `json:"title"`
	// Status repeats the HTTP status code.
	Status int `json:"status"`
	// Detail explains this occurrence; for 5xx it is deliberately generic.
	Detail string `json:"detail,omitempty"`
	// Instance is the request path the problem occurred on.
	Instance string `json:"instance,omitempty"`
	// Field names the offending input field (a JSON member, query parameter
	// or header) when there is one.
	Field string `json:"field,omitempty"`
	// Errors lists the validation failures, one per field.
	Errors []FieldProblem `json:"errors,omitempty"`
	// RequestID is the X-Request-Id of the request, to find its log lines.
	RequestID string `json:"requestId,omitempty"`
}

// FieldProblem is one validation failure in a Problem.
type FieldProblem struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// writeProblem writes p with its status.
func writeProblem(w http.ResponseWriter, p Problem) {
	body, err := json.Marshal(p)
	if err != nil {
		// Problem holds only strings and ints; this cannot fail.
		panic(err)
	}
	h := w.Header()
	if p.Status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		// A dependency is down (a full disk, a lost database); the request
		// may be retried as it is once it is back.
		h.Set("Retry-After", "5")
	}
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(p.Status)
	w.Write(append(body, '\n'))
}

// writeJSON writes v as a JSON response with status code.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, code int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err // an internal error: reported as a 500 problem
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(append(body, '\n'))
	}
	return nil
}
