package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// loadInstanceID returns this instance's id, kept in the data directory so it
// survives restarts: a restarted leader reclaims its leadership at once
// instead of waiting for its old claim to expire. Instances sharing a bus must
// have their own data directories.
func loadInstanceID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "instance-id")
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read instance id: %w", err)
	}
	id := uuid.NewString()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write instance id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write instance id: %w", err)
	}
	return id, nil
}
