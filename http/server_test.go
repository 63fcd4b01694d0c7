package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wims/wims"
	wimshttp "github.com/wims/wims/http"
	"github.com/wims/wims/sqlite"
)

// testEnv is a Server over a real SQLite store, served by httptest.
type testEnv struct {
	t     testing.TB
	store *sqlite.Store
	srv   *httptest.Server
	reg   *prometheus.Registry
	logs  *syncBuffer

	mu  sync.Mutex
	seq int64 // change-log tail seen by takeSnapshot
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mustOpenStore opens a seeded SQLite store in a temp dir.
func mustOpenStore(tb testing.TB) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Options{
		Path: filepath.Join(tb.TempDir(), "wims.db"), Durable: false, Seed: true,
	})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// newEnv starts a server over a fresh seeded store. edit may wrap the store
// or set other options.
func newEnv(tb testing.TB, edit ...func(*wimshttp.Options)) *testEnv {
	tb.Helper()
	e := &testEnv{t: tb, store: mustOpenStore(tb), reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	opt := wimshttp.Options{
		Store:    e.store,
		Registry: e.reg,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, f := range edit {
		f(&opt)
	}
	e.srv = httptest.NewServer(wimshttp.NewServer(opt))
	tb.Cleanup(e.srv.Close)
	return e
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a JSON body (if body != "") and the headers as
// name, value pairs.
func (e *testEnv) do(method, path, body string, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "<delete>" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req)
}

func (e *testEnv) send(req *http.Request) response {
	e.t.Helper()
	return e.sendT(e.t, req)
}

// sendT is send failing tb, for fuzz targets, whose *testing.F must not be
// used inside the target.
func (e *testEnv) sendT(tb testing.TB, req *http.Request) response {
	tb.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: b}
	// Every response any test provokes must be one the OpenAPI document
	// declares, with a body that validates against it.
	checkOpenAPI(tb, req.Method, req.URL.EscapedPath(), r)
	return r
}

// object decodes the response body as a JSON object.
func (r response) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		tb.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// wantJSON checks status and a JSON content type.
func (r response) wantJSON(tb testing.TB, status int) map[string]any {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		tb.Fatalf("Content-Type = %q, want application/json", ct)
	}
	return r.object(tb)
}

// wantProblem checks that r is a problem with status, type slug and field
// ("" for none), and returns it.
func (r response) wantProblem(tb testing.TB, status int, slug, field string) wimshttp.Problem {
	tb.Helper()
	if r.status != status {
		tb.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.body)
	}
	var p wimshttp.Problem
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		tb.Fatalf("problem %s: %v", r.body, err)
	}
	if want := wimshttp.ProblemTypeBase + slug; p.Type != want {
		tb.Fatalf("type = %q, want %q; body %s", p.Type, want, r.body)
	}
	if p.Status != status {
		tb.Fatalf("problem status = %d, want %d", p.Status, status)
	}
	if p.Title == "" || p.Detail == "" || p.Instance == "" || p.RequestID == "" {
		tb.Fatalf("problem lacks title, detail, instance or requestId: %s", r.body)
	}
	if p.Field != field {
		tb.Fatalf("field = %q, want %q; body %s", p.Field, field, r.body)
	}
	if field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != field || p.Errors[0].Reason == "") {
		tb.Fatalf("errors = %+v, want one for %q", p.Errors, field)
	}
	return p
}

// wantKeys checks that m has exactly the keys.
func wantKeys(tb testing.TB, m map[string]any, keys ...string) {
	tb.Helper()
	var got []string
	for k := range m {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		tb.Fatalf("keys = %v, want %v", got, keys)
	}
}

// snapshot is everything a rejected request must leave alone: the items and
// the change log, which every write of any kind appends to (lastSeq is its
// tail).
type snapshot struct {
	items   []wims.Item
	lastSeq int64
}

// takeSnapshot reads the items and the change log's tail. It reads the log
// from e.seq on, so a long fuzz run stays linear, not quadratic.
func (e *testEnv) takeSnapshot(tb testing.TB) snapshot {
	tb.Helper()
	ctx := context.Background()
	items, err := e.store.ListItems(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		changes, err := e.store.ReadChanges(ctx, e.seq, 1000)
		if err != nil {
			tb.Fatal(err)
		}
		if len(changes) == 0 {
			break
		}
		e.seq = changes[len(changes)-1].Seq
	}
	return snapshot{items: items, lastSeq: e.seq}
}

func (e *testEnv) snapshot() snapshot { return e.takeSnapshot(e.t) }

// wantUnchanged fails if the store differs from before.
func (e *testEnv) wantUnchanged(before snapshot) {
	e.t.Helper()
	after := e.snapshot()
	if !reflect.DeepEqual(before, after) {
		e.t.Fatalf("store changed by a rejected request:\nbefore %+v\nafter  %+v", before, after)
	}
}

// orderInserts counts orders rows created, from the change log.
func (e *testEnv) orderInserts() int {
	e.t.Helper()
	changes, err := e.store.ReadChanges(context.Background(), 0, 10_000)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, c := range changes {
		if c.Table == wims.TableOrders && c.EventType == wims.ChangeInsert {
			n++
		}
	}
	return n
}
