package tracing_test

import (
	"context"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/wims/wims"
	"github.com/wims/wims/tracing"
)

func TestHandlerContinuesTheTrace(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	var gotHeader, gotCtx string
	h := tracing.Handler(tp, "test", func(ctx context.Context, m *wims.Message) error {
		gotHeader, gotCtx = m.Header[wims.HeaderTraceParent], wims.TraceParent(ctx)
		return nil
	})
	in := &wims.Message{Header: map[string]string{wims.HeaderTraceParent: parent}}
	if err := h(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(gotHeader, "00-0af7651916cd43dd8448eb211c80319c-") || gotHeader == parent || gotCtx != gotHeader {
		t.Fatalf("handler saw header %q ctx %q; want a child span of trace 0af765…", gotHeader, gotCtx)
	}
	if in.Header[wims.HeaderTraceParent] != parent {
		t.Fatal("the caller's message was modified")
	}
	// Without a parent a new trace starts.
	if err := h(context.Background(), &wims.Message{}); err != nil || gotHeader == "" || strings.Contains(gotHeader, "0af765") {
		t.Fatalf("no parent: header %q err %v", gotHeader, err)
	}
}
