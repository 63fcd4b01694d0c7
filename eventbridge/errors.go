package eventbridge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/wims/wims"
)

// awsError is an error as the JSON 1.1 protocol carries it.
type awsError struct {
	Status  int
	Type    string
	Message string
}

func (e awsError) Error() string { return e.Type + ": " + e.Message }

// validation is a ValidationException about a member.
func validation(format string, args ...any) error {
	return awsError{400, "ValidationException", fmt.Sprintf(format, args...)}
}

// toAWSError maps a wims error to AWS's exception, once for every
// operation. The model declares no status codes for EventBridge's client
// errors, which the JSON protocol then sends as 400; InternalException is 500.
func toAWSError(err error) awsError {
	if e, ok := err.(awsError); ok {
		return e
	}
	msg := wims.ErrorMessage(err)
	switch wims.ErrorCode(err) {
	case wims.EINVALID:
		field := wims.ErrorField(err)
		if field == "EventPattern" || field == "Event" {
			return awsError{400, "InvalidEventPatternException", "Event pattern is not valid. Reason: " + msg}
		}
		if field != "" {
			msg = "1 validation error detected: Value at '" + lowerFirst(field) + "' failed to satisfy constraint: " + msg
		}
		return awsError{400, "ValidationException", msg}
	case wims.ENOTFOUND:
		return awsError{400, "ResourceNotFoundException", msg}
	case wims.ECONFLICT:
		if strings.Contains(msg, "already exists") {
			return awsError{400, "ResourceAlreadyExistsException", msg}
		}
		// Still in use (a bus with rules, a connection with destinations):
		// EventBridge answers such deletes with a ValidationException.
		return awsError{400, "ValidationException", msg}
	case wims.ELIMIT:
		return awsError{400, "LimitExceededException", msg}
	case wims.ETOOLARGE:
		return awsError{413, "RequestEntityTooLargeException", msg}
	case wims.EUNAVAILABLE:
		return awsError{503, "ServiceUnavailableException", msg}
	case wims.ERATELIMIT:
		return awsError{400, "ThrottlingException", msg}
	case wims.EUNAUTHORIZED:
		return awsError{403, "UnrecognizedClientException", msg}
	case wims.EFORBIDDEN:
		return awsError{400, "AccessDeniedException", msg}
	}
	return awsError{500, "InternalException", "An internal error occurred; the request id is in x-amzn-RequestId."}
}

func writeError(w http.ResponseWriter, e awsError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-ErrorType", e.Type)
	w.WriteHeader(e.Status)
	data, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.Type, e.Message})
	_, _ = w.Write(data)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}
