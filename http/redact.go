package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/wims/wims"
)

// What each role may see.
//
// admin and orders see customer identifiers: admin sees everything, and
// orders is the shop front end that places orders for its customers and
// reads them back (it may not read /events or /dead-letters at all). read
// is for dashboards and monitoring, which need what happened but not to
// whom, so every customer identifier in what it reads is replaced by
// Redacted: in orders (GET /orders, GET /orders/{id}), in the event log
// (GET /events, GET /events/stream: the change images of the orders table)
// and in dead letters (GET /dead-letters: payment requests). The value is
// replaced rather than the member dropped, so documents keep their shape
// (consumers that decode customerId still find a string) and a reader can
// tell a hidden identifier from a missing one. read may not select by
// customer either (GET /orders?customerId=, an /events pattern naming
// customerId): the answer would tell which orders are a given customer's.
//
// Redaction is by member name at any depth, and inside strings that hold a
// JSON document; an identifier in free text (a form-encoded body, an error
// message) is not recognised.

// Redacted replaces customer identifiers in what the read role sees.
const Redacted = "REDACTED"

// seesCustomers reports whether role may see customer identifiers.
func seesCustomers(role Role) bool { return role != RoleRead }

// errCustomerSelector refuses a customer filter to a role that may not see
// customers.
func errCustomerSelector(role Role, what string) error {
	return wims.Errorf(wims.EFORBIDDEN, "The API key's role %q may not see customer identifiers, so it may not select by one (%s).", role, what)
}

// viewerSeesCustomers reports whether the request's principal may see
// customer identifiers.
func viewerSeesCustomers(r *http.Request) bool { return seesCustomers(principalFrom(r.Context()).role) }

// isCustomerKey reports whether a JSON member name is a customer identifier:
// customerId in any case, with or without '_' or '-' (customer_id,
// CustomerID).
func isCustomerKey(k string) bool {
	if len(k) < len("customerid") || len(k) > len("customer__id") {
		return false
	}
	k = strings.NewReplacer("_", "", "-", "").Replace(k)
	return strings.EqualFold(k, "customerid")
}

// mayMentionCustomer is redactJSON's fast path: a document without
// "customer" in any case, and without escapes that could spell it, has
// nothing to redact.
func mayMentionCustomer(doc []byte) bool {
	return bytes.Contains(doc, []byte(`\u`)) || bytes.Contains(bytes.ToLower(doc), []byte("customer"))
}

// redactJSON returns doc with the value of every customer-identifier member
// (see isCustomerKey), at any depth, replaced by Redacted; a string value
// that holds a JSON document is redacted inside. A document with nothing to
// redact comes back as it was; one that is not JSON but mentions a customer
// becomes the JSON string Redacted.
func redactJSON(doc []byte) []byte {
	if !mayMentionCustomer(doc) {
		return doc
	}
	out, err := redactDocument(doc)
	if err != nil {
		b, _ := json.Marshal(Redacted)
		return b
	}
	return out
}

// redactDocument re-encodes one JSON value with customer identifiers
// redacted, keeping member order and numbers as written.
func redactDocument(doc []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var out bytes.Buffer
	if err := redactValue(dec, &out); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("redact: data after the JSON value")
	}
	return out.Bytes(), nil
}

// redactValue copies the next JSON value from dec to out, redacted.
func redactValue(dec *json.Decoder, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("redact: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		return redactContainer(dec, out, t)
	case string:
		if s := strings.TrimSpace(t); (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && mayMentionCustomer([]byte(s)) {
			if inner, err := redactDocument([]byte(s)); err == nil {
				t = string(inner)
			}
		}
		writeJSONString(out, t)
	case json.Number:
		out.WriteString(t.String())
	case bool:
		fmt.Fprint(out, t)
	case nil:
		out.WriteString("null")
	}
	return nil
}

// redactContainer copies an object or array whose opening delimiter open
// was just read.
func redactContainer(dec *json.Decoder, out *bytes.Buffer, open json.Delim) error {
	out.WriteRune(rune(open))
	for first := true; dec.More(); first = false {
		if !first {
			out.WriteByte(',')
		}
		if open == '[' {
			if err := redactValue(dec, out); err != nil {
				return err
			}
			continue
		}
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("redact: %w", err)
		}
		key, _ := tok.(string)
		writeJSONString(out, key)
		out.WriteByte(':')
		if !isCustomerKey(key) {
			if err := redactValue(dec, out); err != nil {
				return err
			}
			continue
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("redact: %w", err)
		}
		writeJSONString(out, Redacted)
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("redact: %w", err)
	}
	if open == '{' {
		out.WriteByte('}')
	} else {
		out.WriteByte(']')
	}
	return nil
}

// writeJSONString writes s as a JSON string, without HTML escaping.
func writeJSONString(out *bytes.Buffer, s string) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out.Truncate(out.Len() - 1) // Encode's newline
}

// patternNamesCustomer reports whether an event pattern (JSON) has a
// customer-identifier member anywhere.
func patternNamesCustomer(pattern string) bool {
	if !mayMentionCustomer([]byte(pattern)) {
		return false
	}
	var v any
	if err := json.Unmarshal([]byte(pattern), &v); err != nil {
		return false // the pattern's own validation reports it
	}
	return namesCustomer(v)
}

func namesCustomer(v any) bool {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if isCustomerKey(k) || namesCustomer(x) {
				return true
			}
		}
	case []any:
		for _, x := range t {
			if namesCustomer(x) {
				return true
			}
		}
	}
	return false
}

// RedactJSON returns doc with every customer identifier replaced by
// Redacted, as the read role sees documents (see redactJSON). The console
// uses it for the event log and dead letters.
func RedactJSON(doc []byte) []byte { return redactJSON(doc) }

// PatternNamesCustomer reports whether an event pattern selects by a
// customer identifier, which the read role may not do.
func PatternNamesCustomer(pattern string) bool { return patternNamesCustomer(pattern) }
