package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/wims/wims"
)

// resourceColumns is the column list scanResource expects.
const resourceColumns = `kind, name, doc, secret, created_at, updated_at`

// Resource statements. Listing is a range on the primary key (kind, name),
// not LIKE, which would need '%' and '_' escaped and, under COLLATE "C",
// text_pattern_ops to use an index; see wims.PrefixEnd for the upper bound.
const (
	qGetResource    = `SELECT ` + resourceColumns + ` FROM resources WHERE kind = $1 AND name = $2`
	qInsertResource = `INSERT INTO resources (` + resourceColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`
	qUpdateResource = `UPDATE resources SET doc = $3, secret = $4, updated_at = $5 WHERE kind = $1 AND name = $2`
	qDeleteResource = `DELETE FROM resources WHERE kind = $1 AND name = $2`
	qListResources  = `SELECT ` + resourceColumns + ` FROM resources WHERE kind = $1 AND name >= $2`
	// qBumpGeneration runs first in every resource transaction: the row lock
	// it takes, held to the commit, serialises resource writers. Resource
	// writes are rare, and serialised they cannot deadlock on each other's
	// rows whatever order their batches name them in, and each one's reads,
	// taken after the lock at READ COMMITTED, see every earlier commit, so
	// "exists?" is answered against the latest state (two creates of one
	// name: the second sees the first and fails with ECONFLICT). The lock
	// order of the package doc becomes resource_generation, resources rows,
	// change_seq.
	qBumpGeneration = `UPDATE resource_generation SET generation = generation + 1 WHERE id = 1`
)

var _ wims.ResourceStore = (*Store)(nil)

// ApplyResources runs the writes in order in one transaction: all or none.
// Each write appends one change (its documents as images, never the secret)
// and the transaction bumps the generation once. Returns EINVALID for an
// empty or malformed batch, ECONFLICT for creating a resource that exists
// and ENOTFOUND for updating or deleting one that does not.
func (s *Store) ApplyResources(ctx context.Context, writes []wims.ResourceWrite) ([]wims.Resource, error) {
	if err := wims.ValidateResourceWrites(writes); err != nil {
		return nil, err
	}
	var out []wims.Resource
	err := s.write(ctx, func(w *writeTx) error {
		if _, err := w.exec(qBumpGeneration); err != nil {
			return err
		}
		out = make([]wims.Resource, 0, len(writes))
		for i, rw := range writes {
			r, err := applyResource(w, rw)
			if err != nil {
				return fmt.Errorf("write %d (%s): %w", i, rw.Resource, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, wrap("apply resources", err)
	}
	return out, nil
}

// applyResource carries out one write in w as wims.PlanResourceWrite decides.
func applyResource(w *writeTx, rw wims.ResourceWrite) (wims.Resource, error) {
	old, found, err := getResource(w.ctx, w, rw.Resource.Kind, rw.Resource.Name)
	if err != nil {
		return wims.Resource{}, err
	}
	p, err := wims.PlanResourceWrite(rw, old, found, w.now)
	if err != nil {
		return wims.Resource{}, err
	}
	n := p.New
	switch p.EventType {
	case wims.ChangeInsert:
		_, err = w.exec(qInsertResource, string(n.Kind), n.Name, string(n.Doc), n.Secret, n.CreatedAt, n.UpdatedAt)
	case wims.ChangeUpdate:
		_, err = w.exec(qUpdateResource, string(n.Kind), n.Name, string(n.Doc), n.Secret, n.UpdatedAt)
	case wims.ChangeRemove:
		_, err = w.exec(qDeleteResource, string(old.Kind), old.Name)
	}
	if err != nil {
		return wims.Resource{}, err
	}
	c, err := p.Change(w.now, w.traceParent)
	if err != nil {
		return wims.Resource{}, fmt.Errorf("record %w", err)
	}
	if err := addChange(w, c); err != nil {
		return wims.Resource{}, err
	}
	return p.Result(), nil
}

// GetResource returns the resource, or ENOTFOUND. Returns EINVALID for a
// kind or name no resource can have (PostgreSQL could not even take some of
// them as parameters).
func (s *Store) GetResource(ctx context.Context, kind wims.ResourceKind, name string) (wims.Resource, error) {
	if err := wims.ValidateResourceKey(kind, name); err != nil {
		return wims.Resource{}, err
	}
	var (
		r     wims.Resource
		found bool
	)
	err := s.read(ctx, func(c *pgx.Conn) error {
		var err error
		r, found, err = getResource(ctx, c, kind, name)
		return err
	})
	if err != nil {
		return wims.Resource{}, wrap("get resource", err)
	}
	if !found {
		return wims.Resource{}, wims.Errorf(wims.ENOTFOUND, "%s not found", wims.Resource{Kind: kind, Name: name})
	}
	return r, nil
}

// ListResources returns the resources of kind whose names start with prefix,
// in byte order of their names. Returns EINVALID (field "prefix") for a
// prefix that is not valid UTF-8 or contains NUL.
func (s *Store) ListResources(ctx context.Context, kind wims.ResourceKind, prefix string) ([]wims.Resource, error) {
	if err := wims.ValidatePrefix(prefix); err != nil {
		return nil, err
	}
	q, args := qListResources, []any{string(kind), prefix}
	if end, ok := wims.PrefixEnd(prefix); ok {
		q += ` AND name < $3`
		args = append(args, end)
	}
	out := []wims.Resource{}
	err := s.read(ctx, func(c *pgx.Conn) error {
		out = out[:0]
		rows, err := c.Query(ctx, q+` ORDER BY name`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanResource(rows)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, wrap("list resources", err)
	}
	return out, nil
}

// ResourceGeneration returns the number of committed ApplyResources calls.
func (s *Store) ResourceGeneration(ctx context.Context) (int64, error) {
	var g int64
	err := s.read(ctx, func(c *pgx.Conn) error {
		return c.QueryRow(ctx, `SELECT generation FROM resource_generation WHERE id = 1`).Scan(&g)
	})
	if err != nil {
		return 0, wrap("resource generation", err)
	}
	return g, nil
}

// getResource reads one resource through q; found is false if there is none.
func getResource(ctx context.Context, q querier, kind wims.ResourceKind, name string) (r wims.Resource, found bool, err error) {
	r, err = scanResource(q.QueryRow(ctx, qGetResource, string(kind), name))
	if errNoRows(err) {
		return wims.Resource{}, false, nil
	}
	if err != nil {
		return wims.Resource{}, false, err
	}
	return r, true, nil
}

// scanResource reads the columns listed in resourceColumns.
func scanResource(r pgx.Row) (wims.Resource, error) {
	var (
		res                  wims.Resource
		kind, doc            string
		secret               []byte
		createdAt, updatedAt time.Time
	)
	if err := r.Scan(&kind, &res.Name, &doc, &secret, &createdAt, &updatedAt); err != nil {
		return wims.Resource{}, err
	}
	res.Kind = wims.ResourceKind(kind)
	res.Doc = []byte(doc)
	if len(secret) > 0 {
		res.Secret = secret
	}
	res.CreatedAt, res.UpdatedAt = createdAt.UTC(), updatedAt.UTC()
	return res, nil
}
