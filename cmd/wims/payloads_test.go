package main

import (
	"context"
	"testing"
	"time"

	"github.com/wims/wims/nats"
)

// TestPayloadRetentionMatchesStreams: the claim-check payloads' retention
// covers what the streams keep (so a stored event, log entry or dead
// letter never refers to an expired payload): were a stream's MaxAge
// raised (or made unlimited), this fails until payloadRetention follows.
func TestPayloadRetentionMatchesStreams(t *testing.T) {
	a := startTestApp(t, nil)
	ctx := context.Background()
	for kind, kept := range map[string]time.Duration{
		nats.Events: payloadRetention.Events, nats.EventLog: payloadRetention.Events, nats.DeadLetter: payloadRetention.DeadLetters,
	} {
		s, err := a.bus.JetStream().Stream(ctx, a.bus.Stream(kind))
		mustNil(t, err)
		info, err := s.Info(ctx)
		mustNil(t, err)
		if age := info.Config.MaxAge; age == 0 || age > kept {
			t.Errorf("stream %s keeps messages %v, payloads are kept past it only %v", kind, age, kept)
		}
	}
}
