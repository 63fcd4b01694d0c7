// Package tracing joins wims' hops into one OpenTelemetry trace, from the HTTP
// request to the payment call. The HTTP API starts the trace and stores its
// W3C traceparent with the change it makes; the relay copies it onto the
// event; Handler continues it in every consumer and hands its own span on, so
// the workflow's reservation, the payment message and the call to the
// payments API carry the same trace id. (In the course, X-Ray's trace broke at
// the DynamoDB stream.)
//
// SpanStore, a span processor, keeps the spans of the most recent traces in
// memory, bounded, so the console and GET /traces/{traceId} can show an
// order's trace without a collector.
package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/wims/wims"
)

var propagator = propagation.TraceContext{}

// Handler wraps h in a consumer span named name, the child of the message's
// traceparent header if it has one. The handler sees the span's own
// traceparent in the message header and in its context (wims.TraceParent), so
// what it writes or sends continues the trace.
func Handler(tp trace.TracerProvider, name string, h wims.Handler) wims.Handler {
	tracer := tp.Tracer("wims/" + name)
	return func(ctx context.Context, m *wims.Message) error {
		if tp := m.Header[wims.HeaderTraceParent]; tp != "" {
			ctx = propagator.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
		}
		ctx, span := tracer.Start(ctx, "process "+name, trace.WithSpanKind(trace.SpanKindConsumer),
			trace.WithAttributes(attribute.String("messaging.destination.name", m.Subject), attribute.String("messaging.message.id", m.ID)))
		defer span.End()
		if tp := TraceParent(ctx); tp != "" {
			hdr := make(map[string]string, len(m.Header)+1)
			for k, v := range m.Header {
				hdr[k] = v
			}
			hdr[wims.HeaderTraceParent] = tp
			copied := *m
			copied.Header = hdr
			m = &copied
			ctx = wims.WithTraceParent(ctx, tp)
		}
		err := h(ctx, m)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		return err
	}
}

// TraceParent formats the span in ctx as a traceparent value, "" if none.
func TraceParent(ctx context.Context) string {
	c := propagation.MapCarrier{}
	propagator.Inject(ctx, c)
	return c["traceparent"]
}
