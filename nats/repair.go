package nats

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// consumerStoreFailed reports whether err is the server refusing to create
// a consumer whose store it cannot open, e.g. because its state file
// (o.dat) was damaged by a crash mid-write or a bad disk: a consumer-create
// error (JSConsumerCreateErrF, 10012) saying so; the server logs the cause
// ("corrupt state file", JSConsumerStoreFailedErrF). Retrying cannot help:
// the server fails the same way every time, which stalled a component for
// good before wims repaired it (issue 14).
func consumerStoreFailed(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeConsumerCreate &&
		strings.Contains(apiErr.Description, "creating store for consumer")
}

// repairConsumerStore removes the damaged store of a consumer of the
// embedded server, so that it can be created afresh. The new consumer
// starts from the stream's first message: what the old one had
// acknowledged is delivered again, which the handlers' idempotency makes
// harmless (work-queue streams hold only unacknowledged messages anyway).
// Against an external server wims cannot reach the files: it reports how
// to repair by hand and returns an error.
func (b *Bus) repairConsumerStore(stream, consumer string, cause error) error {
	if b.srv == nil {
		return fmt.Errorf("nats: consumer %s on %s cannot be loaded (%w); delete it on the cluster "+
			"(nats consumer rm %s %s) and wims recreates it", consumer, stream, cause, stream, consumer)
	}
	// The embedded server keeps accounts' stores under <StoreDir>/jetstream.
	dirs, err := filepath.Glob(filepath.Join(b.cfg.StoreDir, "jetstream", "*", "streams", stream, "obs", consumer))
	if err != nil || len(dirs) == 0 {
		return fmt.Errorf("nats: consumer %s on %s cannot be loaded (%w) and its store is not under %s", consumer, stream, cause, b.cfg.StoreDir)
	}
	for _, d := range dirs {
		if err := os.RemoveAll(d); err != nil {
			return fmt.Errorf("nats: remove the damaged store of consumer %s: %w", consumer, err)
		}
	}
	b.met.repairs.WithLabelValues(consumer).Inc()
	b.log.Error("consumer state damaged; rebuilt the consumer: messages it had acknowledged are delivered again",
		"consumer", consumer, "stream", stream, "err", cause, "removed", dirs)
	return nil
}
