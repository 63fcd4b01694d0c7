package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestVersion: `wims version` and GET /healthz name the same build.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"version"}, nil, &out, &bytes.Buffer{}); code != 0 {
		t.Fatalf("wims version exited %d", code)
	}
	if !strings.HasPrefix(out.String(), "wims ") || !strings.Contains(out.String(), "go1.") {
		t.Fatalf("wims version = %q", out.String())
	}
	a := startTestApp(t, nil)
	_, body := a.do("GET", "/healthz", nil)
	var h struct{ Status, Version string }
	if err := json.Unmarshal(body, &h); err != nil || h.Status != "ok" || "wims "+h.Version+"\n" != out.String() {
		t.Fatalf("healthz = %s, version command = %q", body, out.String())
	}
}
