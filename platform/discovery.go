package platform

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wims/wims"
	"github.com/wims/wims/schema"
)

// Discovery infers the schemas of the events on the buses that have a
// started discoverer. The fan-out hands it every such event (Observe); an
// event whose source, detail-type and structure (schema.Fingerprint) it has
// already merged costs a lookup and nothing else. Others go to a bounded
// queue that one goroutine (Run) merges into the schema, writing a version
// when the shape changed. Discovery is best effort, as on AWS: when the
// queue is full the event is skipped (a later one of the same shape is
// looked at again), and a restart forgets what was seen, which costs a
// merge per shape and no version.
type Discovery struct {
	svc *Service
	log *slog.Logger

	mu   sync.Mutex
	seen map[discoveryKey]struct{}
	// shapes caches each schema's current shape and latest version, so a
	// merge reads the store only for a schema it has not seen yet.
	shapes map[string]schemaDoc

	queue   chan observation
	dropped atomic.Int64
}

// discoveryKey names what discovery has seen: an event's structure
// (schema.Fingerprint) hashed with its source and detail-type.
type discoveryKey uint64

type observation struct {
	key                discoveryKey
	source, detailType string
	event              []byte
}

// maxSeen bounds the remembered fingerprints; past it the set starts over
// (a stream of ever-new shapes must not grow memory without bound).
// Unused queue slots are cheap: observations hold a copy of the event.
const maxSeen = 100000

// NewDiscovery returns a Discovery writing to svc's registry.
func NewDiscovery(svc *Service, log *slog.Logger) *Discovery {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Discovery{svc: svc, log: log, seen: map[discoveryKey]struct{}{}, shapes: map[string]schemaDoc{},
		queue: make(chan observation, 1024)}
}

// envelopeKeys are the envelope fields discovery names schemas by.
type envelopeKeys struct {
	Source     string `json:"source"`
	DetailType string `json:"detail-type"`
}

// Observe looks at one event of a discovered bus. It never blocks, and for
// an event like one already merged it allocates nothing: the key comes
// from one pass over the bytes, and the envelope is decoded only when the
// key is new.
func (d *Discovery) Observe(event []byte) {
	fp, ok := schema.Fingerprint(event)
	if !ok {
		return
	}
	key := quickKey(fp, event)
	d.mu.Lock()
	_, known := d.seen[key]
	d.mu.Unlock()
	if known {
		return
	}
	var k envelopeKeys
	if json.Unmarshal(event, &k) != nil || k.Source == "" || k.DetailType == "" {
		return
	}
	select {
	case d.queue <- observation{key, k.Source, k.DetailType, append([]byte(nil), event...)}:
	default:
		d.dropped.Add(1)
	}
}

// quickKey hashes an event's fingerprint with the raw text of its first
// "source" and "detail-type" members. wims' envelopes put both before
// "detail", so these are the envelope's own; for an envelope that did
// not, two events could share a key and the second would go unmerged
// until discovery next forgets what it saw.
func quickKey(fp uint64, event []byte) discoveryKey {
	h := fnvAdd(fnvOffset, binary.LittleEndian.AppendUint64(make([]byte, 0, 8), fp))
	h = fnvAdd(h, memberText(event, sourceMember))
	h = fnvAdd(h, []byte{0})
	return discoveryKey(fnvAdd(h, memberText(event, detailTypeMember)))
}

var (
	sourceMember     = []byte(`"source":`)
	detailTypeMember = []byte(`"detail-type":`)
)

// FNV-1a, written out so that hashing allocates nothing.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvAdd(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// memberText returns the raw string value that follows the first
// occurrence of key (nil if there is none or it is not a string). A key's
// quotes cannot occur unescaped inside a JSON string, so the match is a
// member name.
func memberText(event, key []byte) []byte {
	i := bytes.Index(event, key)
	if i < 0 {
		return nil
	}
	rest := bytes.TrimLeft(event[i+len(key):], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return nil
	}
	for j := 1; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			j++
		case '"':
			return rest[1:j]
		}
	}
	return nil
}

// Dropped is how many events were skipped because the queue was full.
func (d *Discovery) Dropped() int64 { return d.dropped.Load() }

// forgetEvery is how often discovery forgets what it has seen, so that a
// discovered schema someone deleted (or another instance changed) is
// merged again from the next events; each shape then costs one merge.
const forgetEvery = time.Minute

// Run merges queued events until ctx ends.
func (d *Discovery) Run(ctx context.Context) error {
	t := time.NewTicker(forgetEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			d.mu.Lock()
			clear(d.seen)
			clear(d.shapes)
			d.mu.Unlock()
		case o := <-d.queue:
			if err := d.merge(ctx, o); err != nil && ctx.Err() == nil {
				d.log.Warn("schema discovery: merge failed; the next event of this shape retries", "source", o.source,
					"detail_type", o.detailType, "err", err)
			}
		}
	}
}

// merge folds one event into its schema, writing a version if the shape
// changed. A conflict (another instance wrote a version first) reloads the
// schema and merges again.
func (d *Discovery) merge(ctx context.Context, o observation) error {
	d.mu.Lock()
	_, known := d.seen[o.key]
	d.mu.Unlock()
	if known {
		return nil
	}
	shape, err := schema.Infer(o.event)
	if err != nil {
		return nil // not JSON: nothing to learn
	}
	name := wims.DiscoveredSchemaName(o.source, o.detailType)
	for attempt := 0; ; attempt++ {
		err := d.mergeShape(ctx, name, o, shape)
		if err == nil {
			d.mu.Lock()
			if len(d.seen) >= maxSeen {
				clear(d.seen)
			}
			d.seen[o.key] = struct{}{}
			d.mu.Unlock()
			return nil
		}
		d.mu.Lock()
		delete(d.shapes, name)
		d.mu.Unlock()
		code := wims.ErrorCode(err)
		if attempt >= 2 || (code != wims.ECONFLICT && code != wims.ENOTFOUND) {
			return err
		}
	}
}

func (d *Discovery) mergeShape(ctx context.Context, name string, key observation, shape *schema.Shape) error {
	cur, found, err := d.current(ctx, name)
	if err != nil {
		return err
	}
	merged := schema.Merge(cur.Shape, shape)
	if found && schema.Equal(merged, cur.Shape) {
		return nil
	}
	content, err := schema.OpenAPI(key.source, key.detailType, merged)
	if err != nil {
		return err
	}
	next := cur
	next.Shape = merged
	op := wims.ResourceUpdate
	if !found {
		op = wims.ResourceCreate
		next = schemaDoc{Schema: wims.Schema{
			Registry: wims.DiscoveredRegistry, Name: name, Type: wims.SchemaTypeOpenAPI3,
			Source: key.source, DetailType: key.detailType,
			Description: "Discovered from the events with source " + key.source + " and detail-type " + key.detailType + ".",
		}, Shape: merged}
	}
	written, err := d.svc.writeVersion(ctx, next, string(content), op)
	if err != nil {
		return err
	}
	next.Schema = written
	next.Content = ""
	d.mu.Lock()
	d.shapes[name] = next
	d.mu.Unlock()
	d.log.Info("schema discovered", "schema", name, "version", written.Version)
	return nil
}

// current returns the schema's stored head with its shape.
func (d *Discovery) current(ctx context.Context, name string) (schemaDoc, bool, error) {
	d.mu.Lock()
	cur, ok := d.shapes[name]
	d.mu.Unlock()
	if ok {
		return cur, true, nil
	}
	cur, err := get(ctx, d.svc, wims.KindSchema, wims.SchemaKey(wims.DiscoveredRegistry, name), stampSchemaDoc)
	switch wims.ErrorCode(err) {
	case "":
	case wims.ENOTFOUND:
		return schemaDoc{}, false, nil
	default:
		return schemaDoc{}, false, err
	}
	d.mu.Lock()
	d.shapes[name] = cur
	d.mu.Unlock()
	return cur, true, nil
}
