package wims

import "context"

type contextKey int

const traceParentKey contextKey = iota

// WithTraceParent returns a context carrying a W3C traceparent, so a store can
// record it with the changes a request makes and the trace continues past the
// change log (the course's X-Ray trace broke at the stream).
func WithTraceParent(ctx context.Context, traceParent string) context.Context {
	return context.WithValue(ctx, traceParentKey, traceParent)
}

// TraceParent returns the traceparent stored by WithTraceParent, or "".
func TraceParent(ctx context.Context) string {
	tp, _ := ctx.Value(traceParentKey).(string)
	return tp
}
