package wims

import "time"

// Execution is one run of the order workflow for one order, recorded so that
// what happened to an order can be seen (like a Step Functions execution).
type Execution struct {
	ID         string    `json:"executionId"`
	OrderID    string    `json:"orderId"`
	Workflow   string    `json:"workflow"`
	Status     string    `json:"status"` // RUNNING, SUCCEEDED, FAILED
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt,omitzero"`
	Steps      []Step    `json:"steps"`
	// EventID is the event that started the execution.
	EventID string `json:"eventId"`
}

// Execution statuses.
const (
	ExecutionRunning   = "RUNNING"
	ExecutionSucceeded = "SUCCEEDED"
	ExecutionFailed    = "FAILED"
)

// Step is one step of an execution.
type Step struct {
	Name       string    `json:"name"`
	Outcome    string    `json:"outcome"`
	StartedAt  time.Time `json:"startedAt"`
	DurationMS float64   `json:"durationMs"`
	Error      string    `json:"error,omitempty"`
}

// Validate checks an execution before it is saved: it needs an execution ID
// and an order ID.
func (e Execution) Validate() error {
	if e.ID == "" {
		return FieldError("executionId", "is required")
	}
	if e.OrderID == "" {
		return FieldError("orderId", "is required")
	}
	return nil
}
