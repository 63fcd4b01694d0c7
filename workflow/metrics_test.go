package workflow_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wims/wims/workflow"
)

// TestReservedLatencyObservedOnce: the time to RESERVED is observed by the
// execution that reserved the order, not again by its redeliveries.
func TestReservedLatencyObservedOnce(t *testing.T) {
	f := newFixture(t, nil)
	m := workflow.NewMetrics(prometheus.NewRegistry())
	wf := workflow.New(workflow.Options{Store: f.store, Bus: f.bus, PaymentsSubject: f.subj, Metrics: m})
	msg := f.orderEvent(t, "o1", 4)
	for attempt := 1; attempt <= 3; attempt++ {
		msg.Delivered = attempt
		if err := wf.Handle(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	var pb dto.Metric
	if err := m.Reserved.Write(&pb); err != nil {
		t.Fatal(err)
	}
	if n := pb.GetHistogram().GetSampleCount(); n != 1 {
		t.Fatalf("observed %d times, want 1", n)
	}
}
