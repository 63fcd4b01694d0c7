package bench_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wims/wims/bench"
)

// TestRunInterrupted: a server that stops answering after a few orders
// leaves requests hanging; cancelling the run's context (Ctrl-C) abandons
// them at once and returns the partial report, marked interrupted.
func TestRunInterrupted(t *testing.T) {
	var answered, hanging atomic.Int64
	release := make(chan struct{}) // lets hanging handlers go before srv.Close
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client leave
		if answered.Add(1) <= 5 {
			w.WriteHeader(http.StatusAccepted)
			_, _ = w.Write([]byte(`{"orderId":"o"}`))
			return
		}
		hanging.Add(1)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	defer close(release)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		rep *bench.Report
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := bench.Run(ctx, bench.Options{URL: srv.URL, Mode: bench.ModeClosed, Concurrency: 2, Duration: time.Hour})
		done <- outcome{rep, err}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for hanging.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the workers never reached the hanging server")
		}
		time.Sleep(5 * time.Millisecond) // polling the server's counter
	}
	cancel()
	var got outcome
	select {
	case got = <-done:
	case <-time.After(time.Minute): // a hang detector, not a timing bound
		t.Fatal("Run did not return after its context was cancelled")
	}
	if !errors.Is(got.err, bench.ErrInterrupted) || !errors.Is(got.err, context.Canceled) {
		t.Fatalf("err = %v, want ErrInterrupted and context.Canceled", got.err)
	}
	rep := got.rep
	if rep == nil || !rep.Interrupted || rep.Accepted != 5 || rep.Statuses["202"] != 5 ||
		rep.Statuses[bench.StatusInterrupted] != 2 || rep.Statuses["error"] != 0 || rep.Reserved != nil {
		t.Fatalf("report = %+v", rep)
	}
}
