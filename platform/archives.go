package platform

import (
	"context"
	"fmt"
	"time"

	"github.com/wims/wims"
)

// ArchiveStore keeps archived events (package nats: a stream per archive).
type ArchiveStore interface {
	// ArchiveSubject is where the fan-out stores an archive's events.
	ArchiveSubject(name string) string
	// EnsureArchive creates the archive's storage or updates its retention
	// (0: forever).
	EnsureArchive(ctx context.Context, name string, retention time.Duration) error
	// DeleteArchive drops the archive's storage and its events.
	DeleteArchive(ctx context.Context, name string) error
	ArchiveStats(ctx context.Context, name string) (wims.ArchiveStats, error)
	// ArchiveSeqAt is the first sequence archived at or after t (0: none).
	ArchiveSeqAt(ctx context.Context, name string, t time.Time) (uint64, error)
	// ReadArchive returns up to limit events with sequences in [from, to],
	// oldest first, with the time each was archived (Message.Stored).
	ReadArchive(ctx context.Context, name string, from, to uint64, limit int) ([]*wims.Message, error)
}

func stampArchive(a *wims.Archive, c, u time.Time) { a.CreatedAt, a.UpdatedAt = c, u }

func (s *Service) archiveStore() (ArchiveStore, error) {
	if s.archives == nil {
		return nil, wims.Errorf(wims.EUNAVAILABLE, "Archives are not available in this configuration.")
	}
	return s.archives, nil
}

// CreateArchive creates an archive on a bus. Its storage exists before the
// archive does, so the fan-out can store the first matching event as soon
// as the catalog has the archive.
func (s *Service) CreateArchive(ctx context.Context, a wims.Archive) (wims.Archive, error) {
	st, err := s.archiveStore()
	if err != nil {
		return wims.Archive{}, err
	}
	a.EventBus = busName(a.EventBus)
	a.State, a.StateReason, a.EventCount, a.SizeBytes = wims.ArchiveEnabled, "", 0, 0
	if err := s.checkArchive(ctx, a); err != nil {
		return wims.Archive{}, err
	}
	existing, err := s.store.ListResources(ctx, wims.KindArchive, "")
	if err != nil {
		return wims.Archive{}, err
	}
	for _, r := range existing {
		if r.Name == a.Name {
			return wims.Archive{}, wims.Errorf(wims.ECONFLICT, "Archive %s already exists.", a.Name)
		}
	}
	if len(existing) >= wims.MaxArchives {
		return wims.Archive{}, wims.Errorf(wims.ELIMIT, "The requested resource exceeds the maximum number allowed: at most %d archives.", wims.MaxArchives)
	}
	if err := st.EnsureArchive(ctx, a.Name, a.Retention()); err != nil {
		return wims.Archive{}, fmt.Errorf("create archive %s: %w", a.Name, err)
	}
	w, err := write(wims.ResourceCreate, wims.KindArchive, a.Name, a)
	if err != nil {
		return wims.Archive{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.Archive{}, exists(err, "Archive %s already exists.", a.Name)
	}
	return decode(out[0], stampArchive)
}

// checkArchive validates an archive and that its bus exists.
func (s *Service) checkArchive(ctx context.Context, a wims.Archive) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if a.EventPattern != "" {
		if _, err := s.checkPattern(a.EventPattern); err != nil {
			return err
		}
	}
	ok, err := s.busExists(ctx, a.EventBus)
	if err != nil {
		return err
	}
	if !ok {
		return wims.Errorf(wims.ENOTFOUND, "Event bus %s does not exist.", a.EventBus)
	}
	return nil
}

// UpdateArchive replaces an archive's description, pattern and retention.
// A shorter retention drops the events older than it.
func (s *Service) UpdateArchive(ctx context.Context, a wims.Archive) (wims.Archive, error) {
	st, err := s.archiveStore()
	if err != nil {
		return wims.Archive{}, err
	}
	cur, err := s.getArchive(ctx, a.Name)
	if err != nil {
		return wims.Archive{}, err
	}
	cur.Description, cur.EventPattern, cur.RetentionDays = a.Description, a.EventPattern, a.RetentionDays
	if err := s.checkArchive(ctx, cur); err != nil {
		return wims.Archive{}, err
	}
	if err := st.EnsureArchive(ctx, cur.Name, cur.Retention()); err != nil {
		return wims.Archive{}, fmt.Errorf("update archive %s: %w", cur.Name, err)
	}
	w, err := write(wims.ResourceUpdate, wims.KindArchive, cur.Name, cur)
	if err != nil {
		return wims.Archive{}, err
	}
	out, err := s.apply(ctx, w)
	if err != nil {
		return wims.Archive{}, notFound(err, "Archive %s does not exist.", a.Name)
	}
	return decode(out[0], stampArchive)
}

func (s *Service) getArchive(ctx context.Context, name string) (wims.Archive, error) {
	a, err := get(ctx, s, wims.KindArchive, wims.ArchiveNameFromARN(name), stampArchive)
	return a, notFound(err, "Archive %s does not exist.", name)
}

// DescribeArchive returns an archive with its event count and size.
func (s *Service) DescribeArchive(ctx context.Context, name string) (wims.Archive, error) {
	st, err := s.archiveStore()
	if err != nil {
		return wims.Archive{}, err
	}
	a, err := s.getArchive(ctx, name)
	if err != nil {
		return wims.Archive{}, err
	}
	return withStats(ctx, st, a)
}

func withStats(ctx context.Context, st ArchiveStore, a wims.Archive) (wims.Archive, error) {
	stats, err := st.ArchiveStats(ctx, a.Name)
	if err != nil {
		return wims.Archive{}, err
	}
	a.EventCount, a.SizeBytes = stats.Events, stats.Bytes
	return a, nil
}

// DeleteArchive deletes an archive and its events. A replay still reading
// it fails.
func (s *Service) DeleteArchive(ctx context.Context, name string) error {
	st, err := s.archiveStore()
	if err != nil {
		return err
	}
	name = wims.ArchiveNameFromARN(name)
	if _, err := s.apply(ctx, del(wims.KindArchive, name)); err != nil {
		return notFound(err, "Archive %s does not exist.", name)
	}
	return st.DeleteArchive(ctx, name)
}

// ListArchives lists archives by name, with their counts and sizes.
func (s *Service) ListArchives(ctx context.Context, f wims.ArchiveFilter) ([]wims.Archive, error) {
	st, err := s.archiveStore()
	if err != nil {
		return nil, err
	}
	all, err := list(ctx, s, wims.KindArchive, f.NamePrefix, stampArchive)
	if err != nil {
		return nil, err
	}
	bus := ""
	if f.EventBus != "" {
		bus = busName(f.EventBus)
	}
	out := all[:0]
	for _, a := range all {
		if (bus != "" && a.EventBus != bus) || (f.State != "" && a.State != f.State) {
			continue
		}
		if a, err = withStats(ctx, st, a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// archivesOn counts the archives on a bus (a bus with archives cannot be
// deleted).
func (s *Service) archivesOn(ctx context.Context, bus string) (int, error) {
	all, err := list(ctx, s, wims.KindArchive, "", stampArchive)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, a := range all {
		if a.EventBus == bus {
			n++
		}
	}
	return n, nil
}
