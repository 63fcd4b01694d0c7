package http

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/wims/wims"
	"github.com/wims/wims/internal/textcheck"
)

// MaxBodyBytes bounds a request body. The largest legitimate body (an item
// with 200-character names) is well under 1 KiB; the limit only has to stop a
// client from making the server buffer without bound.
const MaxBodyBytes = 256 << 10

// decodeJSON reads r's body into v, which must be a pointer to a struct. It
// accepts exactly one JSON object with known members of the right types, so
// that a typo in a field name is an error rather than a silently ignored
// field. Errors are client errors with the offending field where known:
// ETOOLARGE over MaxBodyBytes, 415 for a non-JSON Content-Type,
// malformed-json for syntax, EINVALID for unknown members and wrong types.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONMax(w, r, v, MaxBodyBytes)
}

// decodeJSONMax is decodeJSON with a body limit of max bytes, for the routes
// whose bodies may legitimately be larger (POST /events).
func decodeJSONMax(w http.ResponseWriter, r *http.Request, v any, max int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return newAPIError(kindUnsupportedMediaType, wims.EINVALID, "Content-Type", "must be application/json")
		}
	}
	if r.ContentLength > max {
		return tooLarge(max)
	}
	// The body is read whole before decoding, so an oversized body is always
	// 413 (not a syntax error found in its first bytes), and so the trailing
	// data check below sees everything.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(max)
		}
		// The connection failed mid-body; the client is unlikely to read
		// the answer, but it is its fault, not ours.
		return newAPIError(kindMalformedJSON, wims.EINVALID, "", "Could not read the request body.")
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return newAPIError(kindMalformedJSON, wims.EINVALID, "", "The request body is empty; a JSON object is required.")
	}
	if trimmed[0] != '{' {
		// Catches null, arrays, strings and numbers, which encoding/json
		// would either accept as a zero value (null) or report without a
		// useful field.
		return newAPIError(kindMalformedJSON, wims.EINVALID, "", "The request body must be a JSON object.")
	}
	if path, found := textcheck.NULInJSON(body); found {
		return wims.FieldError(cmp.Or(path, "body"), "must not contain NUL characters")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if rest := bytes.TrimSpace(body[dec.InputOffset():]); len(rest) > 0 {
		return newAPIError(kindMalformedJSON, wims.EINVALID, "",
			fmt.Sprintf("Unexpected data after the JSON object at offset %d.", dec.InputOffset()))
	}
	return nil
}

func tooLarge(max int64) error {
	return wims.Errorf(wims.ETOOLARGE, "The request body is larger than %d bytes.", max)
}

// decodeError turns an encoding/json error into a client error that names
// the field or the offset, so the client can fix its request.
func decodeError(err error) error {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr):
		return newAPIError(kindMalformedJSON, wims.EINVALID, "",
			fmt.Sprintf("Malformed JSON at offset %d: %s.", syntaxErr.Offset, strings.TrimPrefix(syntaxErr.Error(), "json: ")))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return newAPIError(kindMalformedJSON, wims.EINVALID, "", "Malformed JSON: the body ends before the object does.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return newAPIError(kindMalformedJSON, wims.EINVALID, "", "The request body must be a JSON object.")
		}
		t := typeErr.Type
		for t.Kind() == reflect.Pointer {
			t = t.Elem() // optional fields are pointers
		}
		return wims.FieldError(field, "must be %s, not %s", jsonTypeName(t.Kind()), typeErr.Value)
	}
	// DisallowUnknownFields reports `json: unknown field "name"` with no
	// typed error to inspect.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		if len(field) > 100 {
			field = field[:100] + "…" // echo enough to recognise it, not a megabyte
		}
		return wims.FieldError(field, "is not a known field")
	}
	return newAPIError(kindMalformedJSON, wims.EINVALID, "", "Malformed JSON.")
}

// jsonTypeName names a Go kind as the JSON type a client must send.
func jsonTypeName(kind reflect.Kind) string {
	switch kind {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}
