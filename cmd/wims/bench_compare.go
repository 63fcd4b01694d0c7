package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/wims/wims/bench"
)

// compareOptions configure `wims bench compare`.
type compareOptions struct {
	Orders       int
	Concurrency  int
	PaymentsRate float64
	Postgres     string // optional base URL; a fresh database is made per run
	Timeout      time.Duration
	KeepLogs     bool
	// Binary is the wims to start (default: this executable).
	Binary string
}

// compareRun is one row of the comparison.
type compareRun struct {
	Name   string        `json:"name"`
	Args   []string      `json:"args"`
	Report *bench.Report `json:"report,omitempty"`
	Error  string        `json:"error,omitempty"`
}

func newBenchCompareCommand() *cobra.Command {
	var (
		opt    compareOptions
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "compare",
		Short: "Run the same burst against wims V1, V2 and V2 on PostgreSQL, side by side",
		Long: `compare starts this binary's wims serve once per architecture on a fresh data
dir (V1, the course's synchronous design; V2, the event-driven default on
SQLite; and, with --postgres, V2 on a fresh PostgreSQL database made for the
run and dropped after it), sends each the same closed-loop burst (--orders
orders from --concurrency clients), waits until every order is RESERVED and
PAID (the drain), stops it and prints one table.

Every wims uses one payments mock started by compare at --payments-rate
(high by default, so the table shows wims, not the payments API's limit),
and the durable defaults (every acknowledged order fsynced).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			runs, err := runCompare(cmd.Context(), opt, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return printReport(cmd.OutOrStdout(), asJSON, runs, writeCompareTable)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&opt.Orders, "orders", 4000, "orders in each burst")
	fs.IntVar(&opt.Concurrency, "concurrency", 32, "concurrent clients")
	fs.Float64Var(&opt.PaymentsRate, "payments-rate", 100000, "requests/s the payments mock accepts and each wims may send")
	fs.StringVar(&opt.Postgres, "postgres", "", "postgres:// URL of a server where compare may create and drop a database (adds the V2-on-PostgreSQL run)")
	fs.DurationVar(&opt.Timeout, "timeout", 2*time.Minute, "how long each run may take to drain")
	fs.BoolVar(&opt.KeepLogs, "keep", false, "keep the data dirs and server logs (their path is printed)")
	fs.BoolVar(&asJSON, "json", false, "print the runs as JSON")
	return cmd
}

// runCompare runs every architecture in turn. A run that fails is reported
// in its row; only a failure to set up the comparison is an error.
func runCompare(ctx context.Context, opt compareOptions, progress io.Writer) ([]compareRun, error) {
	if opt.Orders < 1 || opt.Concurrency < 1 || opt.PaymentsRate <= 0 {
		return nil, &exitError{code: 2, err: errors.New("bench compare: --orders, --concurrency and --payments-rate must be positive")}
	}
	if opt.Postgres != "" {
		if u, err := url.Parse(opt.Postgres); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return nil, &exitError{code: 2, err: fmt.Errorf("bench compare: --postgres %q is not a postgres:// URL", opt.Postgres)}
		}
	}
	bin := opt.Binary
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("bench compare: find this binary: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "wims-compare-")
	if err != nil {
		return nil, err
	}
	if opt.KeepLogs {
		fmt.Fprintf(progress, "data dirs and logs in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	rate := strconv.FormatFloat(opt.PaymentsRate, 'f', -1, 64)
	mockAddr, err := loopbackAddr()
	if err != nil {
		return nil, err
	}
	mock, err := startProc(ctx, bin, filepath.Join(dir, "payments-mock.log"),
		"payments-mock", "--addr", mockAddr, "--rate", rate, "--burst", rate)
	if err != nil {
		return nil, fmt.Errorf("bench compare: payments mock: %w", err)
	}
	defer mock.stop()
	if err := waitTCP(ctx, mockAddr, 30*time.Second); err != nil {
		return nil, fmt.Errorf("bench compare: payments mock: %w", err)
	}
	common := []string{"--payments-url", "http://" + mockAddr + "/payments", "--payments-rate", rate}
	runs := []compareRun{
		{Name: "V1 (synchronous, SQLite)", Args: append([]string{"--architecture", "v1"}, common...)},
		{Name: "V2 (event-driven, SQLite)", Args: common},
	}
	var dropDB func()
	if opt.Postgres != "" {
		dbURL, drop, err := freshDatabase(ctx, opt.Postgres)
		if err != nil {
			return nil, fmt.Errorf("bench compare: --postgres: %w", err)
		}
		dropDB = drop
		defer func() { dropDB() }()
		runs = append(runs, compareRun{Name: "V2 (event-driven, PostgreSQL)", Args: append([]string{"--store", dbURL}, common...)})
	}
	for i := range runs {
		r := &runs[i]
		fmt.Fprintf(progress, "%s: %d orders from %d clients…\n", r.Name, opt.Orders, opt.Concurrency)
		rep, err := compareOne(ctx, bin, filepath.Join(dir, strconv.Itoa(i)), r.Args, opt)
		r.Report = rep
		if err != nil {
			r.Error = err.Error()
			fmt.Fprintf(progress, "%s: %v\n", r.Name, err)
		}
		if ctx.Err() != nil {
			return runs, interrupted(ctx.Err())
		}
	}
	return runs, nil
}

// compareOne starts wims serve with args on a fresh data dir, runs the
// burst against it and stops it.
func compareOne(ctx context.Context, bin, dir string, args []string, opt compareOptions) (*bench.Report, error) {
	addr, err := loopbackAddr()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	args = append([]string{"serve", "--data-dir", filepath.Join(dir, "data"), "--addr", addr}, args...)
	p, err := startProc(ctx, bin, filepath.Join(dir, "serve.log"), args...)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	base := "http://" + addr
	if err := waitHealthy(ctx, base, p.done, 60*time.Second); err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, filepath.Join(dir, "serve.log"))
	}
	return bench.Run(ctx, bench.Options{
		URL: base, Mode: bench.ModeClosed, Orders: opt.Orders, Concurrency: opt.Concurrency,
		Drain: true, E2ESample: -1, E2ETimeout: opt.Timeout,
	})
}

// proc is a child process compare started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProc starts bin with args, its output appended to logPath, without
// the WIMS_* environment that would configure it behind compare's back.
func startProc(ctx context.Context, bin, logPath string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = childEnv()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", args[0], err)
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// childEnv is this process's environment without its WIMS_* variables, for
// a wims child that its flags alone must configure.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WIMS_") {
			env = append(env, kv)
		}
	}
	return env
}

// stop asks the process to shut down and kills it if it has not within
// 30 seconds.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// loopbackAddr returns a loopback address with a port free a moment ago.
func loopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitTCP waits until addr accepts connections.
func waitTCP(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening within %s: %w", addr, within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitHealthy waits until GET base/healthz answers 200, or the process ends.
func waitHealthy(ctx context.Context, base string, exited <-chan struct{}, within time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wims not healthy within %s: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("wims exited before serving")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// freshDatabase creates an empty database on the server of base and
// returns its URL and a function that drops it.
func freshDatabase(ctx context.Context, base string) (string, func(), error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "wims_compare_" + hex.EncodeToString(b[:])
	// A database name cannot be a query parameter; name is ours, made of
	// hex digits, and quoted as an identifier.
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = conn.Exec(dctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		conn.Close(dctx)
	}
	return u.String(), drop, nil
}

// writeCompareTable prints the runs as one table for people.
func writeCompareTable(w io.Writer, runs []compareRun) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "architecture\taccepted/s\taccept p50\taccept p99\taccepted in\tall RESERVED\tratio\tall PAID\tratio")
	for _, r := range runs {
		rep := r.Report
		if rep == nil {
			fmt.Fprintf(tw, "%s\tfailed: %s\t\t\t\t\t\t\t\n", r.Name, r.Error)
			continue
		}
		d := rep.Drain
		if d == nil {
			d = &bench.Drain{}
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f ms\t%.1f ms\t%s\t%s\t%s\t%s\t%s\n", r.Name, rep.AcceptedPerS,
			rep.Accept.P50, rep.Accept.P99, seconds(d.AcceptSeconds),
			seconds(d.AllReservedSeconds), ratio(d.ReservedRatio), seconds(d.AllPaidSeconds), ratio(d.PaidRatio))
	}
	return tw.Flush()
}

func seconds(s float64) string {
	if s == 0 {
		return "—"
	}
	return strconv.FormatFloat(s, 'f', 2, 64) + " s"
}

func ratio(r float64) string {
	if r == 0 {
		return "—"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}
