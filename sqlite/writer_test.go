package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/wims/wims"
)

// openInternal opens a store for white-box tests of the writer.
func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Path: filepath.Join(t.TempDir(), "wims.db"), Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// insertOp returns an op that stores an item (with its change) and then
// fails with fail, if not nil.
func insertOp(ctx context.Context, sku string, fail error) *writeOp {
	return &writeOp{ctx: ctx, done: make(chan error, 1), fn: func(w *writeTx) error {
		if _, err := w.domain().PutItem(wims.Item{SKU: sku, Quantity: 1}); err != nil {
			return err
		}
		if fail != nil {
			return fail
		}
		return nil
	}}
}

// TestCommitBatch runs one hand-made batch: an op that fails after writing
// is rolled back to its savepoint, a panicking op fails alone, an op whose
// context was cancelled never runs, and the rest commit together.
func TestCommitBatch(t *testing.T) {
	s := openInternal(t)
	boom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	panicky := &writeOp{ctx: context.Background(), done: make(chan error, 1), fn: func(w *writeTx) error {
		if _, err := w.domain().PutItem(wims.Item{SKU: "P", Quantity: 1}); err != nil {
			return err
		}
		panic("bug")
	}}
	batch := []*writeOp{
		insertOp(context.Background(), "A", nil),
		insertOp(context.Background(), "B", boom),
		panicky,
		insertOp(cancelled, "C", nil),
		insertOp(context.Background(), "D", nil),
	}
	s.commitBatch(batch)
	wantErr := []error{nil, boom, nil, context.Canceled, nil}
	for i, op := range batch {
		err := <-op.done
		switch {
		case i == 2:
			if err == nil {
				t.Fatalf("panicking op: nil error")
			}
		case !errors.Is(err, wantErr[i]) || (wantErr[i] == nil) != (err == nil):
			t.Fatalf("op %d: %v, want %v", i, err, wantErr[i])
		}
	}
	items, err := s.ListItems(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var skus []string
	for _, it := range items {
		skus = append(skus, it.SKU)
	}
	if len(skus) != 2 || skus[0] != "A" || skus[1] != "D" {
		t.Fatalf("committed %v, want [A D]", skus)
	}
	cs, err := s.ReadChanges(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Seq != 1 || cs[1].Seq != 2 {
		t.Fatalf("changes %+v, want seq 1 and 2", cs)
	}
	select {
	case <-s.ChangeSignal():
	default:
		t.Fatal("no change signal after a batch that logged changes")
	}
}

// TestClose_DrainsQueue holds the writer inside one op, queues more behind
// it, and closes: Close must wait and commit every queued op.
func TestClose_DrainsQueue(t *testing.T) {
	s := openInternal(t)
	entered, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.write(context.Background(), func(w *writeTx) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	const n = 100
	results := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.PutItem(context.Background(), wims.Item{SKU: "S" + string(rune('A'+i%26)) + string(rune('A'+i/26)), Quantity: 1})
			results <- err
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(s.ops) < n { // poll until all are queued behind the blocked op
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d writes queued", len(s.ops), n)
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	close(release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := <-results; err != nil {
			t.Fatalf("queued write failed: %v", err)
		}
	}
	s2, err := Open(context.Background(), Options{Path: s.path, Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	items, err := s2.ListItems(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != n {
		t.Fatalf("%d items after reopening, want %d", len(items), n)
	}
}

// TestWrite_CancelWhileQueued: a caller that gives up while queued gets its
// context error, and its op is skipped.
func TestWrite_CancelWhileQueued(t *testing.T) {
	s := openInternal(t)
	entered, release := make(chan struct{}), make(chan struct{})
	go s.write(context.Background(), func(w *writeTx) error {
		close(entered)
		<-release
		return nil
	})
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.write(ctx, func(w *writeTx) error { ran <- struct{}{}; return nil })
	}()
	for len(s.ops) < 1 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled write: %v", err)
	}
	close(release)
	// A later write going through proves the cancelled op was passed over.
	if _, err := s.PutItem(context.Background(), wims.Item{SKU: "A", Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ran:
		t.Fatal("the op of a cancelled caller ran")
	default:
	}
}
