package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeStartupLines runs `wims serve` as main does: its first line on
// stderr says it is starting and where the data lives, before anything
// slow; then the startup log gives the URL to open and the data dir, for
// both architectures.
func TestServeStartupLines(t *testing.T) {
	for _, arch := range []string{"v2", "v1"} {
		t.Run(arch, func(t *testing.T) {
			dir, addr := filepath.Join(t.TempDir(), "data"), freeAddr(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stderr lockedBuffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--addr", addr, "--data-dir", dir, "--architecture", arch},
					nil, &bytes.Buffer{}, &stderr)
			}()
			defer func() {
				cancel()
				select {
				case <-done:
				case <-time.After(time.Minute):
					t.Error("serve did not stop")
				}
			}()
			eventually(t, time.Minute, func() error {
				if !strings.Contains(stderr.String(), "msg=\"wims serving") {
					return fmt.Errorf("no startup log yet: %q", stderr.String())
				}
				return nil
			})
			lines := strings.Split(stderr.String(), "\n")
			if want := "wims: starting (data in " + dir + ")…"; lines[0] != want {
				t.Fatalf("first line %q, want %q", lines[0], want)
			}
			var serving string
			for _, l := range lines {
				if strings.Contains(l, `msg="wims serving`) {
					serving = l
				}
			}
			for _, want := range []string{"url=http://" + addr + "/", "data_dir=" + dir} {
				if !strings.Contains(serving, want) {
					t.Fatalf("startup log %q lacks %q", serving, want)
				}
			}
		})
	}
}

// TestServeAnnounceStartJSON: with --log-format json the starting line is a
// log record, so the stream stays JSON lines.
func TestServeAnnounceStartJSON(t *testing.T) {
	var out bytes.Buffer
	log, err := newLogger(&out, "info", "json")
	if err != nil {
		t.Fatal(err)
	}
	announceStart(&out, log, Config{DataDir: "/srv/wims", LogFormat: "json"})
	var rec struct {
		Msg     string `json:"msg"`
		DataDir string `json:"data_dir"`
	}
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec.Msg != "wims starting" || rec.DataDir != "/srv/wims" {
		t.Fatalf("starting line %q (%v), want a JSON record with data_dir", out.String(), err)
	}
}
