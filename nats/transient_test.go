package nats

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
)

// TestTransient pins which failed JetStream requests start-up retries. "No
// suitable peers" is a 400 that a fresh cluster's meta leader answers until
// it has heard from every peer; two instances starting at once on a new
// cluster failed on it in CI.
func TestTransient(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"no suitable peers", &jetstream.APIError{Code: http.StatusBadRequest, ErrorCode: errCodeNoPeers, Description: "no suitable peers for placement, peer offline"}, true},
		{"wrapped no suitable peers", fmt.Errorf("stream X: %w", &jetstream.APIError{Code: http.StatusBadRequest, ErrorCode: errCodeNoPeers}), true},
		{"stream name in use", &jetstream.APIError{Code: http.StatusBadRequest, ErrorCode: jetstream.JSErrCodeStreamNameInUse}, false},
		{"bad request", &jetstream.APIError{Code: http.StatusBadRequest, ErrorCode: jetstream.JSErrCodeBadRequest}, false},
		{"no leader", &jetstream.APIError{Code: http.StatusServiceUnavailable}, true},
		{"timeout", context.DeadlineExceeded, true},
	} {
		if got := transient(c.err); got != c.want {
			t.Errorf("%s: transient = %v, want %v", c.name, got, c.want)
		}
	}
}
