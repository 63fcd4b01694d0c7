package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestRulesTest(t *testing.T) {
	dir := t.TempDir()
	patFile := filepath.Join(dir, "p.json")
	evFile := filepath.Join(dir, "e.json")
	if err := os.WriteFile(patFile, []byte(`{"detail":{"data":{"table":["orders"],"eventType":["INSERT"]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(evFile, []byte(`{"id":"1","source":"wims.cdc","detail":{"data":{"table":"orders","eventType":"INSERT"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	alert := `{"detail":{"data":{"table":["inventory"],"NewImage":{"quantity":[{"numeric":["<=",100]}]}}}}`
	tests := []struct {
		name       string
		stdin      string
		args       []string
		code       int
		out, inErr string
	}{
		{"match", "", []string{"--pattern", alert, "--event", `{"detail":{"data":{"table":"inventory","NewImage":{"quantity":97}}}}`}, 0, "true\n", ""},
		{"no match", "", []string{"--pattern", alert, "--event", `{"detail":{"data":{"table":"inventory","NewImage":{"quantity":101}}}}`}, 0, "false\n", ""},
		{"files", "", []string{"--pattern", "@" + patFile, "--event", "@" + evFile}, 0, "true\n", ""},
		{"stdin event", `{"detail":{"data":{"table":"orders","eventType":"REMOVE"}}}`, []string{"--pattern", "@" + patFile, "--event", "@-"}, 0, "false\n", ""},
		{"invalid pattern", "", []string{"--pattern", `{"detail":{"quantity":[{"numeric":[">",5,"<",1]}]}}`, "--event", `{}`}, 2, "", "detail.quantity"},
		{"pattern not an object", "", []string{"--pattern", `[1]`, "--event", `{}`}, 2, "", "invalid pattern"},
		{"event not an object", "", []string{"--pattern", alert, "--event", `[1,2]`}, 2, "", "invalid event"},
		{"event malformed", "", []string{"--pattern", alert, "--event", `{"a":`}, 2, "", "invalid event"},
		{"missing file", "", []string{"--pattern", "@" + filepath.Join(dir, "nope"), "--event", `{}`}, 2, "", "pattern"},
		{"missing flag", "", []string{"--pattern", alert}, 2, "", "event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.stdin, append([]string{"rules", "test"}, tt.args...)...)
			if code != tt.code || out != tt.out || !strings.Contains(errOut, tt.inErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr containing %q",
					code, out, errOut, tt.code, tt.out, tt.inErr)
			}
		})
	}
}

func TestServeRefusesUnsafeOrInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"non-loopback without --insecure", []string{"--addr", "0.0.0.0:0"}, "--insecure"},
		{"unknown architecture", []string{"--architecture", "v3"}, "--architecture"},
		{"bad payments rate", []string{"--payments-rate", "0"}, "--payments-rate"},
		{"bad webhook", []string{"--notify-webhook", "ftp://x"}, "--notify-webhook"},
		{"bad store", []string{"--store", "mysql://x"}, "--store"},
		{"unknown flag", []string{"--nope"}, "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--data-dir", t.TempDir()}, tt.args...)
			code, _, errOut := runCLI(t, "", args...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 mentioning %q", code, errOut, tt.want)
			}
		})
	}
}

func TestServeFlagsFromEnvironment(t *testing.T) {
	t.Setenv("WIMS_ADDR", "0.0.0.0:0")
	code, _, errOut := runCLI(t, "", "serve", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "0.0.0.0:0") {
		t.Fatalf("WIMS_ADDR not applied: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("WIMS_PAYMENTS_RATE", "abc")
	code, _, errOut = runCLI(t, "", "serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "WIMS_PAYMENTS_RATE") {
		t.Fatalf("bad WIMS_PAYMENTS_RATE: exit %d, stderr %q", code, errOut)
	}
}
