package nats

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Leadership elects one holder per name among all wims instances sharing a
// bus, through a JetStream key-value bucket whose entries expire: the leader
// rewrites its key every TTL/3 with a compare-and-set on the revision, and
// anyone may create the key once it has expired. A leader that dies is
// replaced within about TTL; a leader cut off from the bus stops acting as
// leader when its renewal fails, before its key can expire and someone else
// can win, so two leaders never overlap by more than one renewal interval.
//
// It is for the components that must run once per deployment: the CDC relay
// (one reader of one log) and the payment dispatcher (one global rate).
type Leadership struct {
	kv     jetstream.KeyValue
	stream jetstream.Stream // the bucket's stream, for a key's last change (acquire)
	bucket string
	id     string
	ttl    time.Duration
}

// Term says how an instance's term as leader of a name began; f finds it
// in its context (TermOf).
type Term struct {
	// PreviousEnd is when the previous holder may last have acted as
	// leader: when it released the key (a clean hand-over), or now when the
	// previous term was this instance's own (it lost a renewal, or an
	// earlier process with its id was killed at an unknown moment). It is
	// zero when the key had expired or never existed: a holder cut off from
	// the bus stops at its first failed renewal, at least TTL/3 before its
	// key expires, so none has acted in that time.
	PreviousEnd time.Time
}

type termKey struct{}

// TermOf returns the term of the leader whose f was given ctx (Run); the
// zero Term outside one.
func TermOf(ctx context.Context) Term {
	t, _ := ctx.Value(termKey{}).(Term)
	return t
}

// leadersBucket names the key-value bucket of the leaders' keys.
func (b *Bus) leadersBucket() string { return b.nsUp + "_LEADERS" }

// Leadership returns an elector for this instance (id must be unique per
// instance and stable across its restarts, so a restarted leader reclaims its
// key at once instead of waiting for it to expire).
func (b *Bus) Leadership(ctx context.Context, id string, ttl time.Duration) (*Leadership, error) {
	if ttl <= 0 {
		ttl = 5 * time.Second
	}
	l := &Leadership{bucket: b.leadersBucket(), id: id, ttl: ttl}
	err := b.retryTransient(ctx, "leaders bucket", func(ctx context.Context) (err error) {
		l.kv, err = b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:   l.bucket,
			TTL:      ttl,
			History:  1,
			Replicas: b.cfg.Replicas,
			Storage:  jetstream.FileStorage,
		})
		if err == nil {
			l.stream, err = b.js.Stream(ctx, "KV_"+l.bucket)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Run runs f whenever this instance leads name, with a context cancelled as
// soon as leadership is lost, until ctx is done. f's errors are reported to
// onErr (which may be nil) and f is restarted while leadership lasts.
func (l *Leadership) Run(ctx context.Context, name string, f func(ctx context.Context) error, onErr func(error)) {
	tick := l.ttl / 3
	for ctx.Err() == nil {
		rev, term, ok := l.acquire(ctx, name)
		if !ok {
			if !sleepCtx(ctx, tick) {
				return
			}
			continue
		}
		lctx, cancel := context.WithCancel(context.WithValue(ctx, termKey{}, term))
		done := make(chan struct{})
		go func() {
			defer close(done)
			for lctx.Err() == nil {
				if err := f(lctx); err != nil && lctx.Err() == nil && onErr != nil {
					onErr(err)
				}
				sleepCtx(lctx, time.Second)
			}
		}()
		l.hold(lctx, name, rev, tick)
		cancel()
		<-done
	}
	// Hand over at once on a clean stop rather than after the TTL.
	dctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if e, err := l.kv.Get(dctx, name); err == nil && string(e.Value()) == l.id {
		_ = l.kv.Delete(dctx, name, jetstream.LastRevision(e.Revision()))
	}
}

// acquire takes the key if it is free or already this instance's, and
// says how the term begins. Each write expects the entry it read (or none)
// to be the key's last, so the term describes exactly what it replaced.
func (l *Leadership) acquire(ctx context.Context, name string) (uint64, Term, bool) {
	// No entry at all: never held, or expired.
	if rev, err := l.kv.Update(ctx, name, []byte(l.id), 0); err == nil {
		return rev, Term{}, true
	}
	last, err := l.stream.GetLastMsgForSubject(ctx, "$KV."+l.bucket+"."+name)
	if err != nil {
		return 0, Term{}, false
	}
	var term Term
	switch op := last.Header.Get("KV-Operation"); {
	case op == "DEL" || op == "PURGE": // released on a clean stop, as the server stamped it
		term.PreviousEnd = last.Time
	case string(last.Data) == l.id: // this id's own earlier term
		term.PreviousEnd = time.Now()
	default: // held by another
		return 0, Term{}, false
	}
	rev, err := l.kv.Update(ctx, name, []byte(l.id), last.Sequence)
	return rev, term, err == nil
}

// hold renews the key until ctx is done or a renewal fails.
func (l *Leadership) hold(ctx context.Context, name string, rev uint64, tick time.Duration) {
	for sleepCtx(ctx, tick) {
		rctx, cancel := context.WithTimeout(ctx, tick)
		next, err := l.kv.Update(rctx, name, []byte(l.id), rev)
		cancel()
		if err != nil {
			return // lost it, or stopping: either way, stop leading
		}
		rev = next
	}
}

// Leader returns the id holding name, "" if none.
func (l *Leadership) Leader(ctx context.Context, name string) (string, error) {
	e, err := l.kv.Get(ctx, name)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return string(e.Value()), nil
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
