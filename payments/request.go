package payments

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/wims/wims"
)

// EncodeRequest returns the payments queue message body for an order: the
// wims.PaymentRequest the API will receive.
func EncodeRequest(o wims.Order) ([]byte, error) {
	return json.Marshal(requestFor(o))
}

// DecodeRequest parses a payments queue message body. It returns an EINVALID
// *wims.Error when the body is not a JSON object with an orderId; the other
// fields are informational, because Handle charges what the stored order says.
func DecodeRequest(b []byte) (wims.PaymentRequest, error) {
	var req wims.PaymentRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&req); err != nil {
		return req, wims.Errorf(wims.EINVALID, "payment request is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, wims.Errorf(wims.EINVALID, "payment request has data after the JSON object")
	}
	if req.OrderID == "" {
		return req, wims.FieldError("orderId", "is required")
	}
	return req, nil
}

// requestFor builds the API request from the stored order, the source of
// truth, rather than from the message, which may predate a correction.
func requestFor(o wims.Order) wims.PaymentRequest {
	return o.PaymentRequest()
}
