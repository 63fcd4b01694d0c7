package nats_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
	"github.com/wims/wims/nats"
	"github.com/wims/wims/nats/natstest"
)

// BenchmarkConsume measures end-to-end handling through Bus.Consume (plain
// Ack) with one worker.
func BenchmarkConsume(b *testing.B) {
	bus := natstest.Open(b)
	ctx := context.Background()
	ms := make([]nats.Outgoing, b.N)
	for i := range ms {
		ms[i] = nats.Outgoing{Subject: bus.Subject("payments", "bench"), ID: strconv.Itoa(i), Data: make([]byte, 512)}
	}
	if _, err := bus.PublishBatch(ctx, ms); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	n := 0
	b.ResetTimer()
	c, err := bus.Consume(ctx, nats.ConsumerSpec{Stream: nats.Payments, Durable: "bench", FilterSubject: bus.Subject("payments", "bench")},
		func(context.Context, *wims.Message) error {
			if n++; n == b.N {
				close(done)
			}
			return nil
		})
	if err != nil {
		b.Fatal(err)
	}
	<-done
	b.StopTimer()
	c.Stop()
}

// BenchmarkAck compares a plain Ack with AckSync on raw fetched messages,
// the measurement behind Consume's choice of plain Ack.
func BenchmarkAck(b *testing.B) {
	for _, mode := range []string{"Plain", "Sync"} {
		b.Run(mode, func(b *testing.B) {
			bus := natstest.Open(b)
			ctx := context.Background()
			subj := bus.Subject("payments", "ack")
			ms := make([]nats.Outgoing, b.N)
			for i := range ms {
				ms[i] = nats.Outgoing{Subject: subj, Data: make([]byte, 512)}
			}
			if _, err := bus.PublishBatch(ctx, ms); err != nil {
				b.Fatal(err)
			}
			cons, err := bus.JetStream().CreateOrUpdateConsumer(ctx, bus.Stream(nats.Payments), jetstream.ConsumerConfig{
				Durable: "ack", FilterSubject: subj, AckPolicy: jetstream.AckExplicitPolicy,
			})
			if err != nil {
				b.Fatal(err)
			}
			it, err := cons.Messages(jetstream.PullMaxMessages(64))
			if err != nil {
				b.Fatal(err)
			}
			defer it.Stop()
			b.ResetTimer()
			for range b.N {
				msg, err := it.Next()
				if err != nil {
					b.Fatal(err)
				}
				if mode == "Plain" {
					err = msg.Ack()
				} else {
					err = msg.DoubleAck(ctx)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
