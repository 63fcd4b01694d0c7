package tracing

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/wims/wims"
)

// The store keeps exactly the attributes wims.SpanAttributes documents.
func TestKeptAttributesAreDocumented(t *testing.T) {
	for _, k := range wims.SpanAttributes {
		if !keptAttribute(attribute.Key(k)) {
			t.Errorf("%s is in wims.SpanAttributes but not kept", k)
		}
	}
	if n := len(wims.SpanAttributes); n != 7 {
		t.Errorf("wims.SpanAttributes has %d names; keptAttribute's switch lists 7", n)
	}
}
