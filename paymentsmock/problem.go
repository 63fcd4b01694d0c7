package paymentsmock

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// problemContentType is the media type of RFC 9457 problem details.
const problemContentType = "application/problem+json"

// problemTypeBase prefixes every problem type; the suffixes are stable and
// clients may branch on them.
const problemTypeBase = "https://wims.dev/problems/payments-mock/"

// problem is an RFC 9457 problem details object.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

// problemBody renders a problem; kind is the stable suffix of its type.
func problemBody(status int, kind, title, detail, field string) []byte {
	b, _ := json.Marshal(problem{
		Type: problemTypeBase + kind, Title: title, Status: status, Detail: detail, Field: field,
	})
	return b
}

// writeProblem answers with a problem.
func writeProblem(w http.ResponseWriter, status int, kind, title, detail, field string) {
	writeStored(w, status, problemContentType, problemBody(status, kind, title, detail, field))
}

// writeStored writes a complete answer.
func writeStored(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// problemType names the problem for a validation status.
func problemType(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "too-large"
	}
	return "invalid-request"
}
