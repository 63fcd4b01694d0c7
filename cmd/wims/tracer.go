package main

import (
	"context"
	"fmt"
	"net/url"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/wims/wims/tracing"
)

// newTracerProvider returns the provider every component starts its spans
// from. Spans always get real ids, so the traceparent travels through the
// change log and the bus; spans always end in store, which keeps the most
// recent traces for the console and GET /traces/{traceId}; with
// --otlp-endpoint they are also exported, batched, over OTLP/HTTP to a
// collector (Jaeger, Tempo, the OpenTelemetry Collector, …).
func newTracerProvider(ctx context.Context, endpoint string, store *tracing.SpanStore) (*sdktrace.TracerProvider, error) {
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName("wims"))),
		// Synchronous, but OnEnd is a few field copies under a mutex.
		sdktrace.WithSpanProcessor(store),
	}
	if endpoint != "" {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("--otlp-endpoint %q: want an http(s) URL such as http://127.0.0.1:4318", endpoint)
		}
		eopts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host)}
		if u.Scheme == "http" {
			eopts = append(eopts, otlptracehttp.WithInsecure())
		}
		if u.Path != "" && u.Path != "/" {
			eopts = append(eopts, otlptracehttp.WithURLPath(u.Path))
		}
		exp, err := otlptracehttp.New(ctx, eopts...)
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	return sdktrace.NewTracerProvider(opts...), nil
}
