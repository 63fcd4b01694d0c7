package nats

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/wims/wims"
)

// archiveRoot is the subject root of archived events.
const archiveRoot = "archive"

// Archives: each archive is a stream of its own, so that its retention
// (RetentionDays) is the stream's MaxAge, its size and count are the
// stream's state, and deleting it is deleting the stream. Stream names
// cannot hold '.', which archive names may, so both the stream and the
// subject are keyed by a hash of the name.

func archiveKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return hex.EncodeToString(sum[:10])
}

// ArchiveSubject is the subject an archive's events are stored on.
func (b *Bus) ArchiveSubject(name string) string {
	return b.Subject(archiveRoot, archiveKey(name))
}

func (b *Bus) archiveStream(name string) string {
	return b.nsUp + "_ARCHIVE_" + strings.ToUpper(archiveKey(name))
}

// EnsureArchive creates the archive's stream, or updates its retention
// (0: forever).
func (b *Bus) EnsureArchive(ctx context.Context, name string, retention time.Duration) error {
	sc := jetstream.StreamConfig{
		Name:        b.archiveStream(name),
		Description: "wims archive " + name,
		Subjects:    []string{b.ArchiveSubject(name)},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      retention,
		Duplicates:  dedupeWindow,
		Storage:     jetstream.FileStorage,
		Replicas:    b.cfg.Replicas,
		AllowDirect: true,
	}
	return b.retryTransient(ctx, "archive "+name, func(ctx context.Context) error {
		_, err := b.js.CreateOrUpdateStream(ctx, sc)
		if err == nil {
			b.streamCreated()
		}
		return err
	})
}

// DeleteArchive deletes the archive's stream and every event in it.
func (b *Bus) DeleteArchive(ctx context.Context, name string) error {
	err := b.js.DeleteStream(ctx, b.archiveStream(name))
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("nats: delete archive %s: %w", name, err)
	}
	return nil
}

// ArchiveStats returns the number of events an archive holds, their bytes
// and its last sequence. An archive whose stream is missing holds nothing.
func (b *Bus) ArchiveStats(ctx context.Context, name string) (wims.ArchiveStats, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	s, err := b.js.Stream(ctx, b.archiveStream(name))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return wims.ArchiveStats{}, nil
	}
	if err != nil {
		return wims.ArchiveStats{}, fmt.Errorf("nats: archive %s: %w", name, err)
	}
	st := s.CachedInfo().State
	return wims.ArchiveStats{Events: int64(st.Msgs), Bytes: int64(st.Bytes), LastSeq: st.LastSeq}, nil
}

// ArchiveSeqAt returns the sequence of the first event archived at or
// after t, or 0 when there is none.
func (b *Bus) ArchiveSeqAt(ctx context.Context, name string, t time.Time) (uint64, error) {
	m, err := b.leaderGet(ctx, b.archiveStream(name), map[string]any{"start_time": t.UTC()})
	if err != nil {
		return 0, fmt.Errorf("nats: archive %s at %s: %w", name, t.Format(time.RFC3339), err)
	}
	if m == nil {
		return 0, nil
	}
	return m.Seq, nil
}

// ReadArchive returns up to limit events of an archive with sequences in
// [from, to], oldest first, each with the time it was archived (Stored).
func (b *Bus) ReadArchive(ctx context.Context, name string, from, to uint64, limit int) ([]*wims.Message, error) {
	if from > to || limit <= 0 {
		return nil, nil
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	hi := min(to, from+uint64(limit)-1)
	msgs, err := b.directBatch(ctx, b.archiveStream(name), from, hi, b.ArchiveSubject(name))
	if err != nil {
		return nil, fmt.Errorf("nats: read archive %s: %w", name, err)
	}
	return msgs, nil
}
