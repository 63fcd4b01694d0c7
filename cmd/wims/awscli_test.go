package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
)

// awsCLI finds the AWS CLI: required under CI=true (.ci/run installs
// Debian's awscli), skipped with a message elsewhere.
func awsCLI(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but the AWS CLI is not installed: .ci/run installs Debian's awscli")
		}
		t.Skip("the AWS CLI is not installed (apt-get install awscli); skipping")
	}
	return path
}

// cliHome is a HOME for the CLI with a config that stops AWS CLI v1 from
// fetching http:// parameter values as URLs (v2 does not by default), so an
// API destination's endpoint is passed as text.
func cliHome(t *testing.T) (home string, env []string) {
	home = t.TempDir()
	cfg := home + "/config"
	if err := os.WriteFile(cfg, []byte("[default]\ncli_follow_urlparam = false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return home, []string{"HOME=" + home, "AWS_CONFIG_FILE=" + cfg, "AWS_SHARED_CREDENTIALS_FILE=" + home + "/none", "AWS_PAGER="}
}

// cli runs `aws events ...` against wims and decodes its JSON output.
type cli struct {
	t    *testing.T
	bin  string
	url  string
	env  []string
	sign bool
	// service is the CLI's service command; "" is events.
	service string
}

func (c cli) run(out any, args ...string) (string, error) {
	c.t.Helper()
	full := append([]string{cmp.Or(c.service, "events")}, args...)
	full = append(full, "--endpoint-url", c.url, "--region", "local", "--output", "json")
	if !c.sign {
		full = append(full, "--no-sign-request")
	}
	cmd := exec.Command(c.bin, full...)
	cmd.Env = append(os.Environ(), c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stderr.String(), fmt.Errorf("aws %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	if out != nil && stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			return "", fmt.Errorf("aws %s: output %q: %v", strings.Join(args, " "), stdout.String(), err)
		}
	}
	return stdout.String(), nil
}

func (c cli) must(out any, args ...string) {
	c.t.Helper()
	if _, err := c.run(out, args...); err != nil {
		c.t.Fatal(err)
	}
}

// TestAWSCLI is the course's "add behaviour by adding a rule" done with the
// AWS CLI against wims: a bus, a rule, an API destination target, an event
// put, delivered; errors carry AWS's exception names.
func TestAWSCLI(t *testing.T) {
	bin := awsCLI(t)
	a := startTestApp(t, nil)
	_, env := cliHome(t)
	c := cli{t: t, bin: bin, url: a.url, env: append(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")}
	rcv := newReceiver(t, nil)

	var bus struct{ EventBusArn string }
	c.must(&bus, "create-event-bus", "--name", "cli-bus")
	if bus.EventBusArn != wims.BusARN("cli-bus") {
		t.Fatalf("EventBusArn = %q", bus.EventBusArn)
	}
	var rule struct{ RuleArn string }
	c.must(&rule, "put-rule", "--name", "big", "--event-bus-name", "cli-bus", "--event-pattern", `{"source":["cli"],"detail":{"n":[{"numeric":[">",10]}]}}`)
	var conn struct{ ConnectionArn string }
	c.must(&conn, "create-connection", "--name", "hook", "--authorization-type", "BASIC",
		"--auth-parameters", `{"BasicAuthParameters":{"Username":"u","Password":"p4ss"}}`)
	var dest struct{ ApiDestinationArn string }
	c.must(&dest, "create-api-destination", "--name", "hook", "--connection-arn", conn.ConnectionArn,
		"--invocation-endpoint", rcv.srv.URL+"/cli", "--http-method", "POST")
	var pt struct{ FailedEntryCount int }
	c.must(&pt, "put-targets", "--rule", "big", "--event-bus-name", "cli-bus", "--targets",
		`[{"Id":"hook","Arn":"`+dest.ApiDestinationArn+`","InputTransformer":{"InputPathsMap":{"n":"$.detail.n"},"InputTemplate":"{\"n\": <n>}"}}]`)
	if pt.FailedEntryCount != 0 {
		t.Fatalf("put-targets failed entries: %d", pt.FailedEntryCount)
	}
	var rules struct {
		Rules []struct{ Name, State string }
	}
	c.must(&rules, "list-rules", "--event-bus-name", "cli-bus")
	if len(rules.Rules) != 1 || rules.Rules[0].State != "ENABLED" {
		t.Fatalf("list-rules = %+v", rules)
	}
	var tested struct{ Result bool }
	c.must(&tested, "test-event-pattern", "--event-pattern", `{"source":["cli"]}`, "--event",
		`{"id":"1","source":"cli","detail-type":"t","account":"000000000000","time":"2026-01-01T00:00:00Z","region":"local","resources":[],"detail":{}}`)
	if !tested.Result {
		t.Fatal("test-event-pattern = false")
	}
	var put struct {
		FailedEntryCount int
		Entries          []struct{ EventId, ErrorCode string }
	}
	c.must(&put, "put-events", "--entries", `[{"EventBusName":"cli-bus","Source":"cli","DetailType":"t","Detail":"{\"n\":42}"},`+
		`{"EventBusName":"cli-bus","Source":"cli","DetailType":"t","Detail":"{\"n\":1}"}]`)
	if put.FailedEntryCount != 0 || len(put.Entries) != 2 || put.Entries[0].EventId == "" {
		t.Fatalf("put-events = %+v", put)
	}
	eventually(t, 20*time.Second, func() error {
		for _, r := range rcv.got() {
			if strings.TrimSpace(r.Body) == `{"n":42}` && strings.HasPrefix(r.Header.Get("Authorization"), "Basic ") {
				return nil
			}
		}
		return fmt.Errorf("no delivery yet: %+v", rcv.got())
	})
	if stderr, err := c.run(nil, "describe-rule", "--name", "missing", "--event-bus-name", "cli-bus"); err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("describe-rule of a missing rule: %v %s", err, stderr)
	}
	if stderr, err := c.run(nil, "put-rule", "--name", "x", "--event-pattern", `{"source":"notalist"}`); err == nil || !strings.Contains(stderr, "InvalidEventPatternException") {
		t.Fatalf("put-rule with a bad pattern: %v %s", err, stderr)
	}
	var desc map[string]any
	c.must(&desc, "describe-connection", "--name", "hook")
	if strings.Contains(fmt.Sprint(desc), "p4ss") {
		t.Fatal("describe-connection shows the password")
	}
}

// TestAWSCLISigned: with API keys, the CLI signs with the key's fingerprint
// as access key id and the key as secret.
func TestAWSCLISigned(t *testing.T) {
	bin := awsCLI(t)
	key := "cli-admin-key-0123456789"
	a := startTestApp(t, func(c *Config) { c.APIKeys = []string{key} })
	_, env := cliHome(t)
	c := cli{t: t, bin: bin, url: a.url, sign: true, env: append(env, "AWS_ACCESS_KEY_ID="+wimshttp.Fingerprint(key), "AWS_SECRET_ACCESS_KEY="+key)}
	var buses struct{ EventBuses []struct{ Name string } }
	c.must(&buses, "list-event-buses")
	if len(buses.EventBuses) != 1 || buses.EventBuses[0].Name != wims.DefaultBus {
		t.Fatalf("list-event-buses = %+v", buses)
	}
	c.env = append(c.env, "AWS_SECRET_ACCESS_KEY=wrong")
	if stderr, err := c.run(nil, "list-event-buses"); err == nil || !strings.Contains(stderr, "InvalidSignatureException") {
		t.Fatalf("wrong secret: %v %s", err, stderr)
	}
}

// TestAWSCLIArchiveAndReplay: `aws events create-archive`, describe (the
// count moves), start-replay, describe-replay until COMPLETED, list and the
// AWS error names for a missing archive and for cancelling a finished
// replay.
func TestAWSCLIArchiveAndReplay(t *testing.T) {
	bin := awsCLI(t)
	a := startTestApp(t, nil)
	_, env := cliHome(t)
	c := cli{t: t, bin: bin, url: a.url, env: append(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=")}

	c.must(nil, "create-event-bus", "--name", "shop")
	var arc struct{ ArchiveArn, State string }
	c.must(&arc, "create-archive", "--archive-name", "shop-sales", "--event-source-arn", wims.BusARN("shop"),
		"--event-pattern", `{"source":["shop"]}`, "--retention-days", "3")
	if arc.ArchiveArn != wims.ArchiveARN("shop-sales") || arc.State != "ENABLED" {
		t.Fatalf("create-archive = %+v", arc)
	}
	start := time.Now().Add(-time.Second).UTC().Format(time.RFC3339)
	c.must(nil, "put-events", "--entries", `[{"EventBusName":"shop","Source":"shop","DetailType":"Sale","Detail":"{}"},`+
		`{"EventBusName":"shop","Source":"other","DetailType":"Sale","Detail":"{}"}]`)
	eventually(t, 20*time.Second, func() error {
		var d struct {
			EventCount, SizeBytes int64
			RetentionDays         int
		}
		c.must(&d, "describe-archive", "--archive-name", "shop-sales")
		if d.EventCount != 1 || d.SizeBytes == 0 || d.RetentionDays != 3 {
			return fmt.Errorf("describe-archive = %+v", d)
		}
		return nil
	})
	var list struct {
		Archives []struct{ ArchiveName string }
	}
	c.must(&list, "list-archives", "--event-source-arn", wims.BusARN("shop"))
	if len(list.Archives) != 1 || list.Archives[0].ArchiveName != "shop-sales" {
		t.Fatalf("list-archives = %+v", list)
	}
	end := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	var started struct{ ReplayArn, State string }
	c.must(&started, "start-replay", "--replay-name", "r1", "--event-source-arn", wims.ArchiveARN("shop-sales"),
		"--event-start-time", start, "--event-end-time", end, "--destination", `{"Arn":"`+wims.BusARN("shop")+`"}`)
	if started.State != "STARTING" || started.ReplayArn != wims.ReplayARN("r1") {
		t.Fatalf("start-replay = %+v", started)
	}
	eventually(t, 20*time.Second, func() error {
		var d struct{ State string }
		c.must(&d, "describe-replay", "--replay-name", "r1")
		if d.State != "COMPLETED" {
			return fmt.Errorf("replay %s", d.State)
		}
		return nil
	})
	var replays struct {
		Replays []struct{ ReplayName, State string }
	}
	c.must(&replays, "list-replays", "--state", "COMPLETED")
	if len(replays.Replays) != 1 {
		t.Fatalf("list-replays = %+v", replays)
	}
	if stderr, err := c.run(nil, "cancel-replay", "--replay-name", "r1"); err == nil || !strings.Contains(stderr, "IllegalStatusException") {
		t.Fatalf("cancel-replay of a completed replay: %v %s", err, stderr)
	}
	if stderr, err := c.run(nil, "describe-archive", "--archive-name", "nope"); err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("describe-archive of a missing archive: %v %s", err, stderr)
	}
	c.must(nil, "delete-archive", "--archive-name", "shop-sales")
}
