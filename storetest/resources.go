package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wims/wims"
)

// testResources covers wims.ResourceStore: the four operations and their
// error codes, all-or-nothing batches, the changes and the generation they
// leave, prefix listing, byte-exact documents and secrets, and racing
// creates.
func testResources(t *testing.T, open func(t *testing.T) wims.Store) {
	t.Run("CRUD", func(t *testing.T) { t.Parallel(); testResourceCRUD(t, open(t)) })
	t.Run("Errors", func(t *testing.T) { t.Parallel(); testResourceErrors(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { t.Parallel(); testResourceInvalid(t, open(t)) })
	t.Run("AllOrNothing", func(t *testing.T) { t.Parallel(); testResourceAllOrNothing(t, open(t)) })
	t.Run("AllOrNothingConcurrent", func(t *testing.T) { t.Parallel(); testResourceAllOrNothingConcurrent(t, open(t)) })
	t.Run("Changes", func(t *testing.T) { t.Parallel(); testResourceChanges(t, open(t)) })
	t.Run("Generation", func(t *testing.T) { t.Parallel(); testResourceGeneration(t, open(t)) })
	t.Run("Prefix", func(t *testing.T) { t.Parallel(); testResourcePrefix(t, open(t)) })
	t.Run("ExactBytes", func(t *testing.T) { t.Parallel(); testResourceExactBytes(t, open(t)) })
	t.Run("RacingCreates", func(t *testing.T) { t.Parallel(); testResourceRacingCreates(t, open(t)) })
}

// Resource write constructors, to keep the cases readable.
func rCreate(kind wims.ResourceKind, name, doc string) wims.ResourceWrite {
	return wims.ResourceWrite{Op: wims.ResourceCreate, Resource: wims.Resource{Kind: kind, Name: name, Doc: json.RawMessage(doc)}}
}

func rUpdate(kind wims.ResourceKind, name, doc string) wims.ResourceWrite {
	return wims.ResourceWrite{Op: wims.ResourceUpdate, Resource: wims.Resource{Kind: kind, Name: name, Doc: json.RawMessage(doc)}}
}

func rUpsert(kind wims.ResourceKind, name, doc string) wims.ResourceWrite {
	return wims.ResourceWrite{Op: wims.ResourceUpsert, Resource: wims.Resource{Kind: kind, Name: name, Doc: json.RawMessage(doc)}}
}

func rDelete(kind wims.ResourceKind, name string) wims.ResourceWrite {
	return wims.ResourceWrite{Op: wims.ResourceDelete, Resource: wims.Resource{Kind: kind, Name: name}}
}

// withSecret sets a write's secret.
func withSecret(w wims.ResourceWrite, secret []byte) wims.ResourceWrite {
	w.Resource.Secret = secret
	return w
}

// mustApply applies writes or fails the test.
func mustApply(t *testing.T, s wims.Store, writes ...wims.ResourceWrite) []wims.Resource {
	t.Helper()
	out, err := s.ApplyResources(t.Context(), writes)
	if err != nil {
		t.Fatalf("ApplyResources: %v", err)
	}
	if len(out) != len(writes) {
		t.Fatalf("ApplyResources returned %d resources for %d writes", len(out), len(writes))
	}
	return out
}

// mustGetResource reads a resource or fails the test.
func mustGetResource(t *testing.T, s wims.Store, kind wims.ResourceKind, name string) wims.Resource {
	t.Helper()
	r, err := s.GetResource(t.Context(), kind, name)
	if err != nil {
		t.Fatalf("GetResource(%s, %q): %v", kind, name, err)
	}
	return r
}

// mustNoResource fails the test unless the resource does not exist.
func mustNoResource(t *testing.T, s wims.Store, kind wims.ResourceKind, name string) {
	t.Helper()
	_, err := s.GetResource(t.Context(), kind, name)
	mustCode(t, err, wims.ENOTFOUND)
}

// mustGeneration returns the resource generation or fails the test.
func mustGeneration(t *testing.T, s wims.Store) int64 {
	t.Helper()
	g, err := s.ResourceGeneration(t.Context())
	if err != nil {
		t.Fatalf("ResourceGeneration: %v", err)
	}
	return g
}

// mustList lists resources or fails the test.
func mustList(t *testing.T, s wims.Store, kind wims.ResourceKind, prefix string) []wims.Resource {
	t.Helper()
	rs, err := s.ListResources(t.Context(), kind, prefix)
	if err != nil {
		t.Fatalf("ListResources(%s, %q): %v", kind, prefix, err)
	}
	return rs
}

// names returns the resources' names in order.
func names(rs []wims.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}

// sameResource fails the test unless got equals want field by field, the
// document and secret byte for byte.
func sameResource(t *testing.T, what string, got, want wims.Resource) {
	t.Helper()
	if got.Kind != want.Kind || got.Name != want.Name || !bytes.Equal(got.Doc, want.Doc) ||
		!bytes.Equal(got.Secret, want.Secret) || (got.Secret == nil) != (want.Secret == nil) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("%s = %+v (doc %s), want %+v (doc %s)", what, got, got.Doc, want, want.Doc)
	}
}

func testResourceCRUD(t *testing.T, s wims.Store) {
	created := mustApply(t, s, rCreate(wims.KindEventBus, "orders", `{"name":"orders"}`))[0]
	if created.Kind != wims.KindEventBus || created.Name != "orders" || string(created.Doc) != `{"name":"orders"}` {
		t.Fatalf("created %+v", created)
	}
	if created.CreatedAt.IsZero() || !created.UpdatedAt.Equal(created.CreatedAt) {
		t.Fatalf("created at %v, updated at %v: want both set and equal", created.CreatedAt, created.UpdatedAt)
	}
	sameResource(t, "GetResource after create", mustGetResource(t, s, wims.KindEventBus, "orders"), created)

	// The same name under another kind is another resource.
	mustApply(t, s, rCreate(wims.KindRule, "orders", `{"name":"orders-rule"}`))
	if rs := mustList(t, s, wims.KindEventBus, ""); len(rs) != 1 {
		t.Fatalf("event buses %v, want only orders", names(rs))
	}

	updated := mustApply(t, s, rUpdate(wims.KindEventBus, "orders", `{"name":"orders","description":"d"}`))[0]
	if string(updated.Doc) != `{"name":"orders","description":"d"}` {
		t.Fatalf("updated doc %s", updated.Doc)
	}
	if !updated.CreatedAt.Equal(created.CreatedAt) || updated.UpdatedAt.Before(created.UpdatedAt) {
		t.Fatalf("update: created at %v (was %v), updated at %v: want CreatedAt kept", updated.CreatedAt, created.CreatedAt, updated.UpdatedAt)
	}
	sameResource(t, "GetResource after update", mustGetResource(t, s, wims.KindEventBus, "orders"), updated)

	// Upsert creates, then replaces keeping CreatedAt.
	up1 := mustApply(t, s, rUpsert(wims.KindEventBus, "audit", `{"v":1}`))[0]
	up2 := mustApply(t, s, rUpsert(wims.KindEventBus, "audit", `{"v":2}`))[0]
	if string(up2.Doc) != `{"v":2}` || !up2.CreatedAt.Equal(up1.CreatedAt) {
		t.Fatalf("upsert of an existing resource %+v, first %+v: want doc replaced, CreatedAt kept", up2, up1)
	}
	sameResource(t, "GetResource after upsert", mustGetResource(t, s, wims.KindEventBus, "audit"), up2)

	list := mustList(t, s, wims.KindEventBus, "")
	if got := names(list); !slices.Equal(got, []string{"audit", "orders"}) {
		t.Fatalf("ListResources = %v, want [audit orders]", got)
	}
	sameResource(t, "listed audit", list[0], up2)
	sameResource(t, "listed orders", list[1], updated)

	deleted := mustApply(t, s, rDelete(wims.KindEventBus, "orders"))[0]
	sameResource(t, "Delete's result", deleted, updated)
	mustNoResource(t, s, wims.KindEventBus, "orders")
	if got := names(mustList(t, s, wims.KindEventBus, "")); !slices.Equal(got, []string{"audit"}) {
		t.Fatalf("after delete ListResources = %v, want [audit]", got)
	}
	mustGetResource(t, s, wims.KindRule, "orders")

	// A deleted name can be created again, as a new resource.
	mustApply(t, s, rCreate(wims.KindEventBus, "orders", `{}`))

	// Several writes to one resource in one batch see each other.
	out := mustApply(t, s,
		rCreate(wims.KindTarget, "b|r|t", `{"v":1}`),
		rUpdate(wims.KindTarget, "b|r|t", `{"v":2}`),
		rDelete(wims.KindTarget, "b|r|t"),
		rUpsert(wims.KindTarget, "b|r|t", `{"v":3}`),
	)
	if string(out[2].Doc) != `{"v":2}` || string(out[3].Doc) != `{"v":3}` {
		t.Fatalf("batch results %s, %s; want the deleted {\"v\":2} and the upserted {\"v\":3}", out[2].Doc, out[3].Doc)
	}
	sameResource(t, "GetResource after batch", mustGetResource(t, s, wims.KindTarget, "b|r|t"), out[3])
}

func testResourceErrors(t *testing.T, s wims.Store) {
	mustApply(t, s, rCreate(wims.KindConnection, "c1", `{"v":1}`))
	gen := mustGeneration(t, s)
	seq := lastSeq(t, s)

	_, err := s.ApplyResources(t.Context(), []wims.ResourceWrite{rCreate(wims.KindConnection, "c1", `{"v":2}`)})
	mustCode(t, err, wims.ECONFLICT)
	if !strings.Contains(wims.ErrorMessage(err), "already exists") {
		t.Fatalf("create of an existing resource: message %q, want it to say it already exists", wims.ErrorMessage(err))
	}
	_, err = s.ApplyResources(t.Context(), []wims.ResourceWrite{rUpdate(wims.KindConnection, "nope", `{}`)})
	mustCode(t, err, wims.ENOTFOUND)
	_, err = s.ApplyResources(t.Context(), []wims.ResourceWrite{rDelete(wims.KindConnection, "nope")})
	mustCode(t, err, wims.ENOTFOUND)
	// Kinds are separate name spaces.
	_, err = s.ApplyResources(t.Context(), []wims.ResourceWrite{rUpdate(wims.KindAPIDestination, "c1", `{}`)})
	mustCode(t, err, wims.ENOTFOUND)

	_, err = s.GetResource(t.Context(), wims.KindConnection, "nope")
	mustCode(t, err, wims.ENOTFOUND)
	_, err = s.GetResource(t.Context(), wims.KindAPIDestination, "c1")
	mustCode(t, err, wims.ENOTFOUND)

	if got := string(mustGetResource(t, s, wims.KindConnection, "c1").Doc); got != `{"v":1}` {
		t.Fatalf("after failed writes c1 is %s, want {\"v\":1}", got)
	}
	if g := mustGeneration(t, s); g != gen {
		t.Fatalf("generation %d after failed writes, want %d", g, gen)
	}
	mustNoChangesAfter(t, s, seq)
	if rs := mustList(t, s, wims.KindAPIDestination, ""); rs == nil || len(rs) != 0 {
		t.Fatalf("ListResources of an empty kind = %#v, want an empty, non-nil slice", rs)
	}
}

func testResourceInvalid(t *testing.T, s wims.Store) {
	long := strings.Repeat("n", wims.MaxResourceNameLength)
	if r := mustApply(t, s, rCreate(wims.KindRule, long, `{}`))[0]; r.Name != long {
		t.Fatalf("name of %d bytes not kept", len(long))
	}
	gen := mustGeneration(t, s)
	seq := lastSeq(t, s)

	_, err := s.ApplyResources(t.Context(), nil)
	mustCode(t, err, wims.EINVALID)
	_, err = s.ApplyResources(t.Context(), []wims.ResourceWrite{})
	mustCode(t, err, wims.EINVALID)

	for _, c := range []struct {
		name  string
		write wims.ResourceWrite
		field string
	}{
		{"NoOp", wims.ResourceWrite{Resource: wims.Resource{Kind: wims.KindRule, Name: "r", Doc: json.RawMessage(`{}`)}}, "op"},
		{"NoKind", rCreate("", "r", `{}`), "kind"},
		{"NoName", rCreate(wims.KindRule, "", `{}`), "name"},
		{"NameTooLong", rCreate(wims.KindRule, long+"x", `{}`), "name"},
		{"NameNotUTF8", rCreate(wims.KindRule, "r\xff", `{}`), "name"},
		{"NameNUL", rCreate(wims.KindRule, "r\x00s", `{}`), "name"},
		{"DeleteNoName", rDelete(wims.KindRule, ""), "name"},
		{"NoDoc", rCreate(wims.KindRule, "r", ``), "doc"},
		{"DocNotJSON", rCreate(wims.KindRule, "r", `{"a":`), "doc"},
		{"DocArray", rUpsert(wims.KindRule, "r", `[1]`), "doc"},
		{"DocString", rUpdate(wims.KindRule, "r", `"s"`), "doc"},
		{"DocNull", rCreate(wims.KindRule, "r", `null`), "doc"},
		{"DocNotUTF8", rCreate(wims.KindRule, "r", "{\"a\":\"\xff\"}"), "doc"},
	} {
		// A bad write fails the batch however many good writes precede it.
		_, err := s.ApplyResources(t.Context(), []wims.ResourceWrite{rCreate(wims.KindRule, "good", `{}`), c.write})
		if wims.ErrorCode(err) != wims.EINVALID || wims.ErrorField(err) != c.field {
			t.Fatalf("%s: %v, want EINVALID about %q", c.name, err, c.field)
		}
	}
	mustNoResource(t, s, wims.KindRule, "good")

	_, err = s.GetResource(t.Context(), wims.KindRule, "r\x00")
	mustField(t, err, "name")
	_, err = s.ListResources(t.Context(), wims.KindRule, "\xc3")
	mustField(t, err, "prefix")
	_, err = s.ListResources(t.Context(), wims.KindRule, "a\x00")
	mustField(t, err, "prefix")

	if g := mustGeneration(t, s); g != gen {
		t.Fatalf("generation %d after invalid writes, want %d", g, gen)
	}
	mustNoChangesAfter(t, s, seq)
}

func testResourceAllOrNothing(t *testing.T, s wims.Store) {
	mustApply(t, s, rCreate(wims.KindRule, "existing", `{"v":1}`))
	gen := mustGeneration(t, s)
	seq := lastSeq(t, s)

	for _, c := range []struct {
		name   string
		writes []wims.ResourceWrite
		code   string
	}{
		{"CreateThenConflict", []wims.ResourceWrite{
			rCreate(wims.KindRule, "new", `{}`), rCreate(wims.KindRule, "existing", `{}`),
		}, wims.ECONFLICT},
		{"CreateThenDuplicate", []wims.ResourceWrite{
			rCreate(wims.KindRule, "new", `{}`), rCreate(wims.KindRule, "new", `{}`),
		}, wims.ECONFLICT},
		{"UpdateThenMissing", []wims.ResourceWrite{
			rUpdate(wims.KindRule, "existing", `{"v":2}`), rUpdate(wims.KindRule, "missing", `{}`),
		}, wims.ENOTFOUND},
		{"DeleteThenMissing", []wims.ResourceWrite{
			rDelete(wims.KindRule, "existing"), rDelete(wims.KindRule, "missing"),
		}, wims.ENOTFOUND},
		{"DeleteTwice", []wims.ResourceWrite{
			rDelete(wims.KindRule, "existing"), rDelete(wims.KindRule, "existing"),
		}, wims.ENOTFOUND},
		{"ManyThenFail", []wims.ResourceWrite{
			rUpsert(wims.KindRule, "new", `{}`), rUpsert(wims.KindRule, "existing", `{"v":3}`),
			rCreate(wims.KindTarget, "t", `{}`), rUpdate(wims.KindTarget, "missing", `{}`),
		}, wims.ENOTFOUND},
	} {
		out, err := s.ApplyResources(t.Context(), c.writes)
		if wims.ErrorCode(err) != c.code || out != nil {
			t.Fatalf("%s: %v, %v; want %s and no results", c.name, out, err, c.code)
		}
		mustNoResource(t, s, wims.KindRule, "new")
		mustNoResource(t, s, wims.KindTarget, "t")
		if got := string(mustGetResource(t, s, wims.KindRule, "existing").Doc); got != `{"v":1}` {
			t.Fatalf("%s: existing is %s, want {\"v\":1}", c.name, got)
		}
		if g := mustGeneration(t, s); g != gen {
			t.Fatalf("%s: generation %d, want %d", c.name, g, gen)
		}
		mustNoChangesAfter(t, s, seq)
	}
}

// testResourceAllOrNothingConcurrent runs failing and succeeding batches at
// once, so that an engine that groups writes (SQLite's group commit) puts
// them in one transaction: a failing batch must still leave nothing, and the
// others everything.
func testResourceAllOrNothingConcurrent(t *testing.T, s wims.Store) {
	mustApply(t, s, rCreate(wims.KindRule, "existing", `{}`))
	gen := mustGeneration(t, s)
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			writes := []wims.ResourceWrite{
				rCreate(wims.KindRule, fmt.Sprintf("r-%d-a", i), `{}`),
				rCreate(wims.KindRule, fmt.Sprintf("r-%d-b", i), `{}`),
			}
			if i%2 == 1 {
				writes = append(writes, rCreate(wims.KindRule, "existing", `{}`))
			}
			_, err := s.ApplyResources(t.Context(), writes)
			if want := map[bool]string{false: "", true: wims.ECONFLICT}[i%2 == 1]; wims.ErrorCode(err) != want {
				t.Errorf("batch %d: %v, want code %q", i, err, want)
			}
		})
	}
	wg.Wait()
	var want []string
	for i := 0; i < n; i += 2 {
		want = append(want, fmt.Sprintf("r-%d-a", i), fmt.Sprintf("r-%d-b", i))
	}
	sort.Strings(want)
	if got := names(mustList(t, s, wims.KindRule, "r-")); !slices.Equal(got, want) {
		t.Fatalf("resources %v, want only the succeeding batches' %v", got, want)
	}
	if g := mustGeneration(t, s); g != gen+n/2 {
		t.Fatalf("generation %d, want %d (one per committed batch)", g, gen+n/2)
	}
	cs := allChanges(t, s)
	if len(cs) != 1+n { // the setup's INSERT and two per succeeding batch
		t.Fatalf("%d changes, want %d", len(cs), 1+n)
	}
	for _, c := range cs {
		checkResourceChange(t, c, nil)
	}
}

// checkResourceChange verifies what every resource change must satisfy:
// the change invariants, the {"name"} key matching the resource, and that
// the secret (if any) appears nowhere in it.
func checkResourceChange(t *testing.T, c wims.Change, secret []byte) {
	t.Helper()
	checkChangeShape(t, c)
	if key := decode[map[string]string](t, c.Key); len(key) != 1 || key["name"] == "" {
		t.Fatalf("seq %d: key %s, want {\"name\": …}", c.Seq, c.Key)
	}
	if len(secret) == 0 {
		return
	}
	for _, part := range [][]byte{c.NewImage, c.OldImage, c.Key, []byte(strings.Join(c.ChangedColumns, ","))} {
		if bytes.Contains(part, secret) {
			t.Fatalf("seq %d: the secret appears in the change: %s", c.Seq, part)
		}
	}
}

func testResourceChanges(t *testing.T, s wims.Store) {
	secret := []byte("s3cr3t-value-that-must-never-leak")
	const (
		doc1 = `{"name":"c","authorizationType":"API_KEY","apiKeyName":"X-Key"}`
		doc2 = `{"name":"c","authorizationType":"API_KEY","apiKeyName":"X-Other","state":"AUTHORIZED"}`
		doc3 = `{"name":"c","authorizationType":"NONE"}`
	)
	seq := lastSeq(t, s)
	mustApply(t, s, withSecret(rCreate(wims.KindConnection, "c", doc1), secret))
	mustApply(t, s, withSecret(rUpdate(wims.KindConnection, "c", doc2), secret))
	mustApply(t, s,
		withSecret(rUpsert(wims.KindConnection, "c", doc3), secret),
		withSecret(rUpsert(wims.KindConnection, "d", `{"name":"d"}`), secret),
		rDelete(wims.KindConnection, "c"),
	)

	cs := changesAfter(t, s, seq)
	type want struct {
		eventType, name, oldImage, newImage string
		cols                                []string
	}
	wants := []want{
		{wims.ChangeInsert, "c", "", doc1, []string{"apiKeyName", "authorizationType", "name"}},
		{wims.ChangeUpdate, "c", doc1, doc2, []string{"apiKeyName", "state"}},
		{wims.ChangeUpdate, "c", doc2, doc3, []string{"apiKeyName", "authorizationType", "state"}},
		{wims.ChangeInsert, "d", "", `{"name":"d"}`, []string{"name"}},
		{wims.ChangeRemove, "c", doc3, "", []string{"authorizationType", "name"}},
	}
	if len(cs) != len(wants) {
		t.Fatalf("changes %v, want one per write (%d)", summary(cs), len(wants))
	}
	for i, c := range cs {
		w := wants[i]
		checkResourceChange(t, c, secret)
		if c.Table != string(wims.KindConnection) || c.EventType != w.eventType {
			t.Fatalf("change %d: %s %s, want %s %s", i, c.Table, c.EventType, wims.KindConnection, w.eventType)
		}
		if key := decode[map[string]string](t, c.Key); !reflect.DeepEqual(key, map[string]string{"name": w.name}) {
			t.Fatalf("change %d: key %s, want name %q", i, c.Key, w.name)
		}
		if string(c.OldImage) != w.oldImage || string(c.NewImage) != w.newImage {
			t.Fatalf("change %d: images old %s new %s, want old %s new %s", i, c.OldImage, c.NewImage, w.oldImage, w.newImage)
		}
		cols := slices.Clone(c.ChangedColumns)
		sort.Strings(cols)
		if !slices.Equal(cols, w.cols) {
			t.Fatalf("change %d: changedColumns %v, want %v", i, c.ChangedColumns, w.cols)
		}
	}
	// The resources keep their secrets all the same.
	if got := mustGetResource(t, s, wims.KindConnection, "d").Secret; !bytes.Equal(got, secret) {
		t.Fatalf("secret %q, want %q", got, secret)
	}
}

func testResourceGeneration(t *testing.T, s wims.Store) {
	g0 := mustGeneration(t, s)
	if g0 != 0 {
		t.Fatalf("generation of a fresh store %d, want 0", g0)
	}
	// Writes to other tables do not count.
	mustPutItem(t, s, sku, 1)
	if g := mustGeneration(t, s); g != g0 {
		t.Fatalf("generation %d after an item write, want %d", g, g0)
	}
	prev := g0
	for i, writes := range [][]wims.ResourceWrite{
		{rCreate(wims.KindEventBus, "a", `{}`)},
		{rCreate(wims.KindEventBus, "b", `{}`), rCreate(wims.KindEventBus, "c", `{}`)},
		{rUpdate(wims.KindEventBus, "a", `{"x":1}`)},
		{rDelete(wims.KindEventBus, "a")},
	} {
		mustApply(t, s, writes...)
		g := mustGeneration(t, s)
		if g <= prev {
			t.Fatalf("generation %d after write %d, want more than %d", g, i, prev)
		}
		prev = g
	}
}

func testResourcePrefix(t *testing.T, s wims.Store) {
	all := []string{
		"a", "a%", "a%b", "a%c", "a_b", "aXb", "axb", "a\\b", "ab",
		"bus|r1", "bus|r1|t1", "bus|r1|t2", "bus|r2", "bus||", "bus2|r1", "busX",
		"é", "éa", "ê", "\u00ff", "\ud7ff", "\ud7ffx", "\ue000", "\U0010ffff", "\U0010ffffz", "z\U0010ffff",
	}
	var writes []wims.ResourceWrite
	for _, n := range all {
		writes = append(writes, rCreate(wims.KindRule, n, `{}`))
	}
	writes = append(writes, rCreate(wims.KindTarget, "a%b", `{}`), rCreate(wims.KindTarget, "bus|r1|t9", `{}`))
	mustApply(t, s, writes...)

	for _, prefix := range []string{
		"", "a", "a%", "a_", "a\\", "ax", "aX", "b", "bus|", "bus|r1|", "bus|r1", "bus||", "bus2|",
		"é", "\u00ff", "\ud7ff", "\U0010ffff", "z", "nothing", "%", "_",
	} {
		var want []string
		for _, n := range all {
			if strings.HasPrefix(n, prefix) {
				want = append(want, n)
			}
		}
		sort.Strings(want) // byte order
		got := names(mustList(t, s, wims.KindRule, prefix))
		if !slices.Equal(got, want) {
			t.Fatalf("ListResources(%q) = %q, want %q", prefix, got, want)
		}
	}
}

func testResourceExactBytes(t *testing.T, s wims.Store) {
	// Whitespace, key order, escapes and non-ASCII must all survive: the
	// document is stored and returned as written, not re-encoded.
	doc := "{ \"z\" : 1,\n\t\"a\":\"<tag> & \\u00e9 é \\\"q\\\"\" , \"n\":{\"b\":2,  \"a\":[1, 2.50, 1e3]}}  "
	secret := make([]byte, 256)
	for i := range secret {
		secret[i] = byte(i)
	}
	created := mustApply(t, s, withSecret(rCreate(wims.KindAPIDestination, "exact", doc), secret))[0]
	if string(created.Doc) != doc || !bytes.Equal(created.Secret, secret) {
		t.Fatalf("ApplyResources returned doc %q secret %x, want %q %x", created.Doc, created.Secret, doc, secret)
	}
	got := mustGetResource(t, s, wims.KindAPIDestination, "exact")
	sameResource(t, "GetResource", got, created)
	listed := mustList(t, s, wims.KindAPIDestination, "ex")
	if len(listed) != 1 {
		t.Fatalf("listed %v, want [exact]", names(listed))
	}
	sameResource(t, "ListResources", listed[0], created)
	cs := allChanges(t, s)
	if len(cs) != 1 || string(cs[0].NewImage) != doc {
		t.Fatalf("change image %q, want the document byte for byte %q", cs[0].NewImage, doc)
	}
	checkResourceChange(t, cs[0], secret)

	// A new secret replaces the old one; a write without one leaves none.
	other := []byte{0, 0, 0xff, 0}
	updated := mustApply(t, s, withSecret(rUpdate(wims.KindAPIDestination, "exact", doc), other))[0]
	if got := mustGetResource(t, s, wims.KindAPIDestination, "exact"); !bytes.Equal(got.Secret, other) || !bytes.Equal(updated.Secret, other) {
		t.Fatalf("secret after update %x (returned %x), want %x", got.Secret, updated.Secret, other)
	}
	mustApply(t, s, rUpsert(wims.KindAPIDestination, "exact", `{}`))
	if got := mustGetResource(t, s, wims.KindAPIDestination, "exact"); got.Secret != nil {
		t.Fatalf("secret after a write without one %x, want nil", got.Secret)
	}
	mustApply(t, s, withSecret(rCreate(wims.KindAPIDestination, "empty", `{}`), []byte{}))
	if got := mustGetResource(t, s, wims.KindAPIDestination, "empty"); got.Secret != nil {
		t.Fatalf("empty secret read back as %#v, want nil (no secret)", got.Secret)
	}

	// Changing the caller's slices afterwards changes nothing stored.
	w := withSecret(rCreate(wims.KindAPIDestination, "alias", `{"a":1}`), []byte("abc"))
	out := mustApply(t, s, w)[0]
	w.Resource.Doc[5], w.Resource.Secret[0] = '2', 'X'
	if got := mustGetResource(t, s, wims.KindAPIDestination, "alias"); string(got.Doc) != `{"a":1}` || string(got.Secret) != "abc" ||
		string(out.Doc) != `{"a":1}` || string(out.Secret) != "abc" {
		t.Fatalf("stored %s %q, returned %s %q after the caller's slices changed", got.Doc, got.Secret, out.Doc, out.Secret)
	}
}

// testResourceRacingCreates races creates of one name: exactly one wins, the
// others get ECONFLICT, and the log has one INSERT.
func testResourceRacingCreates(t *testing.T, s wims.Store) {
	const n = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []int
		start   = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := s.ApplyResources(t.Context(), []wims.ResourceWrite{rCreate(wims.KindEventBus, "contested", fmt.Sprintf(`{"by":%d}`, i))})
			switch wims.ErrorCode(err) {
			case "":
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			case wims.ECONFLICT:
			default:
				t.Errorf("create %d: %v, want success or ECONFLICT", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d creates won (%v), want exactly 1", len(winners), winners)
	}
	r := mustGetResource(t, s, wims.KindEventBus, "contested")
	if want := fmt.Sprintf(`{"by":%d}`, winners[0]); string(r.Doc) != want {
		t.Fatalf("stored %s, want the winner's %s", r.Doc, want)
	}
	cs := allChanges(t, s)
	if len(cs) != 1 || cs[0].EventType != wims.ChangeInsert {
		t.Fatalf("changes %v, want one INSERT", summary(cs))
	}
	if g := mustGeneration(t, s); g != 1 {
		t.Fatalf("generation %d, want 1 (one committed create)", g)
	}
}

// testResourceTimes checks that resources are stamped with the store's
// clock: CreatedAt and UpdatedAt on create, UpdatedAt alone on update, and
// the change's time is the write's.
func testResourceTimes(t *testing.T, open func(*testing.T, wims.Clock) wims.Store) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.FixedZone("X", 3600))
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := open(t, clock)
	t0 := now.UTC().Truncate(time.Microsecond)
	created := mustApply(t, s, rCreate(wims.KindRule, "r", `{}`))[0]
	if created.CreatedAt != t0 || created.UpdatedAt != t0 {
		t.Fatalf("created at %v, updated at %v; want both %v (UTC, microseconds)", created.CreatedAt, created.UpdatedAt, t0)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	t1 := t0.Add(time.Hour)
	for _, w := range []wims.ResourceWrite{rUpdate(wims.KindRule, "r", `{"a":1}`), rUpsert(wims.KindRule, "r", `{"a":2}`)} {
		r := mustApply(t, s, w)[0]
		if r.CreatedAt != t0 || r.UpdatedAt != t1 {
			t.Fatalf("op %d: created at %v, updated at %v; want %v, %v", w.Op, r.CreatedAt, r.UpdatedAt, t0, t1)
		}
		if got := mustGetResource(t, s, wims.KindRule, "r"); got.CreatedAt != t0 || got.UpdatedAt != t1 {
			t.Fatalf("op %d: read created at %v, updated at %v; want %v, %v", w.Op, got.CreatedAt, got.UpdatedAt, t0, t1)
		}
	}
	cs := allChanges(t, s)
	if len(cs) != 3 || cs[0].Time != t0 || cs[2].Time != t1 {
		t.Fatalf("changes %v, want 3 at %v, then %v", cs, t0, t1)
	}
}
