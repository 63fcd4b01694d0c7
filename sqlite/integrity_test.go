package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/wims/wims"
	"github.com/wims/wims/sqlite"
)

// TestOpenRefusesCorruptDatabase writes garbage into the middle of a
// database file: Open refuses it with ErrCorrupt and a way to recover,
// instead of starting on it silently. An intact file still opens.
func TestOpenRefusesCorruptDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wims.db")
	s := mustOpen(t, sqlite.Options{Path: path})
	for i := range 300 {
		if _, err := s.PutItem(context.Background(), wims.Item{SKU: fmt.Sprintf("SKU-%04d", i), ProductName: "p", Model: "m", Quantity: 10}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if err != nil {
		t.Fatalf("intact database: %v", err)
	}
	again.Close()

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 8192)
	for i := range garbage {
		garbage[i] = byte(i*7 + 3)
	}
	if _, err := f.WriteAt(garbage, info.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()

	_, err = sqlite.Open(context.Background(), sqlite.Options{Path: path})
	if !errors.Is(err, sqlite.ErrCorrupt) {
		t.Fatalf("Open of a corrupt file = %v, want ErrCorrupt", err)
	}
	t.Log(err)
}
