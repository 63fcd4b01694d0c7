package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/wims/wims"
)

// resourceColumns is the column list scanResource expects.
const resourceColumns = `kind, name, doc, secret, created_at, updated_at`

// Resource statements. Listing is a range on the primary key (kind, name),
// not LIKE, which would need '%' and '_' escaped and could not use the index
// with an ESCAPE clause; see wims.PrefixEnd for the upper bound.
const (
	qGetResource    = `SELECT ` + resourceColumns + ` FROM resources WHERE kind = ? AND name = ?`
	qInsertResource = `INSERT INTO resources (` + resourceColumns + `) VALUES (?, ?, ?, ?, ?, ?)`
	qUpdateResource = `UPDATE resources SET doc = ?, secret = ?, updated_at = ? WHERE kind = ? AND name = ?`
	qDeleteResource = `DELETE FROM resources WHERE kind = ? AND name = ?`
	qListResources  = `SELECT ` + resourceColumns + ` FROM resources WHERE kind = ? AND name >= ?`
	qBumpGeneration = `UPDATE resource_generation SET generation = generation + 1 WHERE id = 1`
)

var _ wims.ResourceStore = (*Store)(nil)

// ApplyResources runs the writes in order in one write closure, so they
// commit together with the other writes of their batch, and the savepoint
// the writer puts around a failing closure undoes all of them: all or none.
// Each write appends one change (its documents as images, never the secret)
// and the closure bumps the generation once. Returns EINVALID for an empty
// or malformed batch, ECONFLICT for creating a resource that exists and
// ENOTFOUND for updating or deleting one that does not.
func (s *Store) ApplyResources(ctx context.Context, writes []wims.ResourceWrite) ([]wims.Resource, error) {
	if err := wims.ValidateResourceWrites(writes); err != nil {
		return nil, err
	}
	var out []wims.Resource
	err := s.write(ctx, func(w *writeTx) error {
		out = make([]wims.Resource, 0, len(writes))
		for i, rw := range writes {
			r, err := applyResource(w, rw)
			if err != nil {
				return fmt.Errorf("write %d (%s): %w", i, rw.Resource, err)
			}
			out = append(out, r)
		}
		_, err := w.exec(qBumpGeneration)
		return err
	})
	if err != nil {
		return nil, wrap("apply resources", err)
	}
	return out, nil
}

// applyResource carries out one write in w as wims.PlanResourceWrite decides.
func applyResource(w *writeTx, rw wims.ResourceWrite) (wims.Resource, error) {
	old, found, err := getResource(w.ctx(), w, rw.Resource.Kind, rw.Resource.Name)
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
		_, err = w.exec(qInsertResource, string(n.Kind), n.Name, string(n.Doc), nullBlob(n.Secret),
			toMicros(n.CreatedAt), toMicros(n.UpdatedAt))
	case wims.ChangeUpdate:
		_, err = w.exec(qUpdateResource, string(n.Doc), nullBlob(n.Secret), toMicros(n.UpdatedAt), string(n.Kind), n.Name)
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
	if err := appendChange(w, c); err != nil {
		return wims.Resource{}, err
	}
	return p.Result(), nil
}

// GetResource returns the resource, or ENOTFOUND. Returns EINVALID for a
// kind or name no resource can have.
func (s *Store) GetResource(ctx context.Context, kind wims.ResourceKind, name string) (wims.Resource, error) {
	if err := wims.ValidateResourceKey(kind, name); err != nil {
		return wims.Resource{}, err
	}
	r, found, err := getResource(ctx, s.rdb, kind, name)
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
		q += ` AND name < ?`
		args = append(args, end)
	}
	rows, err := s.rdb.QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, wrap("list resources", err)
	}
	defer rows.Close()
	out := []wims.Resource{}
	for rows.Next() {
		r, err := scanResource(rows)
		if err != nil {
			return nil, wrap("list resources", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list resources", err)
	}
	return out, nil
}

// ResourceGeneration returns the number of committed ApplyResources calls.
func (s *Store) ResourceGeneration(ctx context.Context) (int64, error) {
	var g int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT generation FROM resource_generation WHERE id = 1`).Scan(&g); err != nil {
		return 0, wrap("resource generation", err)
	}
	return g, nil
}

// getResource reads one resource through q; found is false if there is none.
func getResource(ctx context.Context, q queryer, kind wims.ResourceKind, name string) (r wims.Resource, found bool, err error) {
	r, err = scanResource(q.QueryRowContext(ctx, qGetResource, string(kind), name))
	if errors.Is(err, sql.ErrNoRows) {
		return wims.Resource{}, false, nil
	}
	if err != nil {
		return wims.Resource{}, false, err
	}
	return r, true, nil
}

// scanResource reads the columns listed in resourceColumns.
func scanResource(r scanner) (wims.Resource, error) {
	var (
		res                  wims.Resource
		kind, doc            string
		secret               []byte
		createdAt, updatedAt int64
	)
	if err := r.Scan(&kind, &res.Name, &doc, &secret, &createdAt, &updatedAt); err != nil {
		return wims.Resource{}, err
	}
	res.Kind = wims.ResourceKind(kind)
	res.Doc = json.RawMessage(doc)
	if len(secret) > 0 {
		res.Secret = secret
	}
	res.CreatedAt, res.UpdatedAt = fromMicros(createdAt), fromMicros(updatedAt)
	return res, nil
}

// nullBlob stores no secret as NULL: the driver would store a nil []byte as
// an empty BLOB, which reads back as []byte{} rather than nil.
func nullBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
