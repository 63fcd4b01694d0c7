// Package eventbridge serves the Amazon EventBridge wire protocol (JSON 1.1:
// POST / with X-Amz-Target: AWSEvents.<Operation>) over a
// wims.EventPlatform, so the AWS CLI and SDKs drive wims with
// --endpoint-url. Shapes, member names and exception names follow AWS's
// service model (botocore events/2015-10-07/service-2.json); the converters
// in shapes.go are the only place AWS shapes meet wims' domain types.
package eventbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wims/wims"
)

// TargetPrefix is the X-Amz-Target prefix of EventBridge operations.
const TargetPrefix = "AWSEvents."

// DefaultMaxBody bounds a request: PutEvents' entries (256 KB, or with
// claim checks wims.MaxClaimCheckBytes) grow when JSON-escaped inside a JSON
// document, at most about twice.
const DefaultMaxBody = 2*wims.MaxClaimCheckBytes + 1<<20

// Authenticator checks a request's credentials and returns the caller's
// role ("admin", "orders" or "read").
type Authenticator interface {
	Authenticate(r *http.Request, body []byte) (role string, err error)
}

// AuthError is an authentication failure with its AWS exception name.
type AuthError struct {
	Type    string
	Message string
}

func (e *AuthError) Error() string { return e.Type + ": " + e.Message }

// Options configure the handler.
type Options struct {
	Platform wims.EventPlatform
	Logger   *slog.Logger
	// Auth, if nil, accepts unsigned requests (loopback dev mode) as admin.
	Auth    Authenticator
	MaxBody int64
	// Extra registers more operations (archives, replays, …) by name.
	Extra map[string]Operation
}

// Operation is one wire operation: its handler and the role it needs.
type Operation struct {
	// Access is "read" (read, orders and admin may call it), "put" (orders
	// and admin) or "admin".
	Access string
	Call   func(ctx context.Context, p wims.EventPlatform, body []byte) (any, error)
}

// Handler serves the wire API.
type Handler struct {
	opt Options
	ops map[string]Operation
}

// NewHandler returns the wire API handler.
func NewHandler(opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = DefaultMaxBody
	}
	h := &Handler{opt: opt, ops: map[string]Operation{}}
	for _, ops := range []map[string]Operation{operations, archiveOperations, opt.Extra} {
		for name, op := range ops {
			h.ops[name] = op
		}
	}
	return h
}

// IsWireRequest reports whether r is meant for this handler.
func IsWireRequest(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/" && strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := requestID()
	w.Header().Set("x-amzn-RequestId", reqID)
	if r.Method != http.MethodPost {
		writeError(w, awsError{400, "UnknownOperationException", "the EventBridge API takes POST requests"})
		return
	}
	name, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	op, known := h.ops[name]
	if !ok || !known {
		writeError(w, awsError{400, "UnknownOperationException", "Unknown operation " + r.Header.Get("X-Amz-Target")})
		return
	}
	ct := r.Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/x-amz-json-1.1") && !strings.HasPrefix(ct, "application/json") {
		writeError(w, awsError{400, "SerializationException", "Content-Type must be application/x-amz-json-1.1"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opt.MaxBody+1))
	if err != nil {
		writeError(w, awsError{400, "SerializationException", "cannot read the request body"})
		return
	}
	if int64(len(body)) > h.opt.MaxBody {
		writeError(w, awsError{413, "RequestEntityTooLargeException", "Request size exceeded"})
		return
	}
	role := "admin"
	if h.opt.Auth != nil {
		if role, err = h.opt.Auth.Authenticate(r, body); err != nil {
			var ae *AuthError
			if errors.As(err, &ae) {
				writeError(w, awsError{403, ae.Type, ae.Message})
				return
			}
			writeError(w, awsError{403, "AccessDeniedException", "access denied"})
			return
		}
	}
	if !allowed(role, op.Access) {
		writeError(w, awsError{400, "AccessDeniedException",
			"User with role " + role + " is not authorized to perform: events:" + name})
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	out, err := op.Call(r.Context(), h.opt.Platform, body)
	if err != nil {
		e := toAWSError(err)
		if e.Status >= 500 {
			h.opt.Logger.Error("eventbridge operation failed", "operation", name, "request_id", reqID, "err", err)
		}
		writeError(w, e)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		h.opt.Logger.Error("eventbridge: encode response", "operation", name, "err", err)
		writeError(w, awsError{500, "InternalException", "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

func allowed(role, access string) bool {
	switch access {
	case "read":
		return role == "read" || role == "orders" || role == "admin"
	case "put":
		return role == "orders" || role == "admin"
	default:
		return role == "admin"
	}
}

func requestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
