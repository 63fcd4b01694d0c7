package wims

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status and one problem type in package
// http, and to nothing else: callers branch on codes, never on messages.
const (
	EINVALID      = "invalid"        // the input is malformed or breaks a rule
	ENOTFOUND     = "not_found"      // the thing named does not exist
	ECONFLICT     = "conflict"       // the request clashes with the current state
	EINSUFFICIENT = "insufficient"   // not enough stock
	ETOOLARGE     = "too_large"      // the request body is over the limit
	EUNAUTHORIZED = "unauthorized"   // no or unknown credentials
	EFORBIDDEN    = "forbidden"      // credentials without the needed role
	ERATELIMIT    = "rate_limited"   // too many requests
	ELIMIT        = "limit_exceeded" // a resource limit (e.g. targets per rule) would be exceeded
	EUNAVAILABLE  = "unavailable"    // shutting down or a dependency is down
	EINTERNAL     = "internal"       // a bug or an unexpected failure
)

// Error is a domain error: a stable code, a message safe to show to a client,
// and, for validation errors, the offending field.
type Error struct {
	Code    string
	Field   string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("wims %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("wims %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID error about one input field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for nil,
// and EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorField returns the field of the first *Error in err's chain, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorMessage returns the client-safe message of err: the *Error's message,
// or a generic text for internal errors so that no internals leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
