package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/wims/wims"
)

// testLogs covers the payment, execution and notification logs.
func testLogs(t *testing.T, open func(t *testing.T) wims.Store) {
	// at is a time as stores keep it: UTC, microsecond precision.
	at := func(sec int) time.Time { return time.Date(2025, 3, 1, 12, 0, sec, 123456000, time.UTC) }

	t.Run("PaymentAttempts", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		want := []wims.PaymentAttempt{
			{OrderID: "o-1", Attempt: 1, Outcome: wims.PaymentThrottled, StatusCode: 429, At: at(1), DurationMS: 1.5},
			{OrderID: "o-1", Attempt: 2, Outcome: wims.PaymentError, Error: "connection refused", At: at(2), DurationMS: 0.25},
			{OrderID: "o-1", Attempt: 3, Outcome: wims.PaymentPaid, StatusCode: 200, At: at(3), DurationMS: 12},
			{OrderID: "o-1", Kind: wims.PaymentRefund, Attempt: 1, Outcome: wims.PaymentPaid, StatusCode: 200, At: at(5)},
		}
		for _, a := range want {
			if err := s.RecordPaymentAttempt(t.Context(), a); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordPaymentAttempt(t.Context(), wims.PaymentAttempt{OrderID: "o-2", Attempt: 1, At: at(4)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.PaymentAttempts(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("PaymentAttempts = %+v, want %+v", got, want)
		}
		none, err := s.PaymentAttempts(t.Context(), "nope")
		if err != nil {
			t.Fatal(err)
		}
		if len(none) != 0 {
			t.Fatalf("attempts of an unknown order: %+v", none)
		}
		mustField(t, s.RecordPaymentAttempt(t.Context(), wims.PaymentAttempt{Attempt: 1}), "orderId")
		mustNoChangesAfter(t, s, 0) // logs are not captured tables
	})

	t.Run("Executions", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		first := wims.Execution{
			ID: "x-1", OrderID: "o-1", Workflow: "order", Status: wims.ExecutionRunning, StartedAt: at(1),
			Steps: []wims.Step{{Name: "reserve", Outcome: "RESERVED", StartedAt: at(1), DurationMS: 0.5}}, EventID: "e-1",
		}
		second := wims.Execution{ID: "x-2", OrderID: "o-1", Workflow: "order", Status: wims.ExecutionRunning, StartedAt: at(5), EventID: "e-2"}
		other := wims.Execution{ID: "x-3", OrderID: "o-2", Workflow: "order", Status: wims.ExecutionRunning, StartedAt: at(2)}
		for _, e := range []wims.Execution{second, first, other} {
			if err := s.SaveExecution(t.Context(), e); err != nil {
				t.Fatal(err)
			}
		}
		// Replacing by ID updates in place.
		first.Status = wims.ExecutionSucceeded
		first.FinishedAt = at(3)
		first.Steps = append(first.Steps, wims.Step{Name: "pay", Outcome: "PAID", StartedAt: at(2), DurationMS: 3, Error: "retried"})
		if err := s.SaveExecution(t.Context(), first); err != nil {
			t.Fatal(err)
		}
		got, err := s.Executions(t.Context(), "o-1")
		if err != nil {
			t.Fatal(err)
		}
		if want := []wims.Execution{first, second}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Executions = %+v, want %+v", got, want)
		}
		none, err := s.Executions(t.Context(), "nope")
		if err != nil {
			t.Fatal(err)
		}
		if len(none) != 0 {
			t.Fatalf("executions of an unknown order: %+v", none)
		}
		mustField(t, s.SaveExecution(t.Context(), wims.Execution{OrderID: "o-1"}), "executionId")
		mustField(t, s.SaveExecution(t.Context(), wims.Execution{ID: "x-9"}), "orderId")
	})

	t.Run("Notifications", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ok, err := s.Notified(t.Context(), "n-1", "webhook-a")
		if err != nil || ok {
			t.Fatalf("Notified before marking = %v, %v; want false", ok, err)
		}
		inserted, err := s.MarkNotified(t.Context(), "n-1", "webhook-a")
		if err != nil || !inserted {
			t.Fatalf("first MarkNotified = %v, %v; want true", inserted, err)
		}
		inserted, err = s.MarkNotified(t.Context(), "n-1", "webhook-a")
		if err != nil || inserted {
			t.Fatalf("second MarkNotified = %v, %v; want false", inserted, err)
		}
		if ok, err := s.Notified(t.Context(), "n-1", "webhook-a"); err != nil || !ok {
			t.Fatalf("Notified after marking = %v, %v; want true", ok, err)
		}
		if ok, err := s.Notified(t.Context(), "n-1", "webhook-b"); err != nil || ok {
			t.Fatalf("Notified for another target = %v, %v; want false", ok, err)
		}
		_, err = s.MarkNotified(t.Context(), "", "webhook-a")
		mustField(t, err, "id")
		_, err = s.MarkNotified(t.Context(), "n-1", "")
		mustField(t, err, "target")
	})
}
