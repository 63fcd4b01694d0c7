package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// integrityBudget bounds the start-up check. quick_check reads every page
// (it skips only the index-content cross-checks of integrity_check), about
// a second per GB here; a database too large to check within the budget is
// opened with a warning rather than held up.
const integrityBudget = 10 * time.Second

// ErrCorrupt is returned by Open for a database that fails its check.
var ErrCorrupt = errors.New("sqlite: database is corrupt")

// checkIntegrity runs PRAGMA quick_check on the database before anything
// writes to it, so damage (a disk error, garbage written into the file) is
// reported at start with the way out, instead of surfacing later as lost
// orders or a half-working store.
func (s *Store) checkIntegrity(ctx context.Context, db *sql.DB) error {
	ctx, cancel := context.WithTimeout(ctx, integrityBudget)
	defer cancel()
	rows, err := db.QueryContext(ctx, `PRAGMA quick_check(20)`)
	if err != nil {
		return s.corruptOrSlow(ctx, err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.corruptOrSlow(ctx, err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.corruptOrSlow(ctx, err)
	}
	if len(problems) > 0 {
		return s.corrupt(strings.Join(problems, "; "))
	}
	return nil
}

func (s *Store) corruptOrSlow(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		s.log.Warn("database integrity check did not finish in time; starting without it", "path", s.path, "budget", integrityBudget)
		return nil
	}
	return s.corrupt(err.Error())
}

func (s *Store) corrupt(detail string) error {
	return fmt.Errorf("%w: %s failed its integrity check (%s). wims will not start on a damaged database: "+
		"stop wims, keep a copy of the file, then restore the last backup, or salvage what is readable with "+
		"`sqlite3 %s .recover | sqlite3 recovered.db` and start on the recovered file; the bus is rebuilt from the database",
		ErrCorrupt, s.path, detail, s.path)
}
