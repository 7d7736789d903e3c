package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/snapshot"
)

// Release is one release a history holds.
type Release struct {
	Seq       int
	Label     string
	Effective string // YYYY-MM-DD or ""
	Codes     int
	Snapshot  string // SHA-256 of its snapshot
}

// Records is an open history database, for finding the record a code had
// when last seen: what reactivation needs, without reading snapshots.
type Records struct {
	db   *sql.DB
	path string
	// Releases are the releases the history holds, oldest first.
	Releases []Release
}

// OpenRecords opens the history database at path, which must be of the
// current schema version.
func OpenRecords(ctx context.Context, path string) (*Records, error) {
	db, err := openHistory(ctx, path)
	if err != nil {
		return nil, err
	}
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		db.Close()
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if version != snapshot.SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("read history %s: schema version %d, this codeset reads version %d", path, version, snapshot.SchemaVersion)
	}
	r := &Records{db: db, path: path}
	rows, err := db.QueryContext(ctx, `SELECT seq, label, effective, codes, snapshot FROM releases ORDER BY seq`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rel Release
		if err := rows.Scan(&rel.Seq, &rel.Label, &rel.Effective, &rel.Codes, &rel.Snapshot); err != nil {
			db.Close()
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		r.Releases = append(r.Releases, rel)
	}
	if err := rows.Err(); err != nil {
		db.Close()
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	return r, nil
}

// Close closes the database.
func (r *Records) Close() error { return r.db.Close() }

// LastSeenBefore answers, for a comparison whose older release is the
// seq-th of the history, with the record each code had in the latest
// release before it that had the code: the history's record of the code
// with the changes of later releases undone. Codes first seen after
// release seq are left out.
func (r *Records) LastSeenBefore(seq int) snapshot.LastSeen {
	return func(ctx context.Context, codes []string) (map[string]codeset.Code, error) {
		m := map[string]codeset.Code{}
		for _, code := range codes {
			c, ok, err := r.recordBefore(ctx, code, seq)
			if err != nil {
				return nil, fmt.Errorf("read history %s: %w", r.path, err)
			}
			if ok {
				m[code] = c
			}
		}
		return m, nil
	}
}

func (r *Records) recordBefore(ctx context.Context, code string, seq int) (codeset.Code, bool, error) {
	c := codeset.Code{Code: code}
	var attrs string
	var first int
	err := r.db.QueryRowContext(ctx, `SELECT r.seq, c.category, c.short, c.medium, c.long, c.status, c.attributes
		FROM codes c JOIN releases r ON r.label = c.first_release WHERE c.code = ?`, code).
		Scan(&first, &c.Category, &c.Short, &c.Medium, &c.Long, &c.Status, &attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if first > seq {
		return c, false, nil
	}
	if c.Attrs, err = snapshot.DecodeAttrs(attrs); err != nil {
		return c, false, fmt.Errorf("code %s: bad attributes: %w", code, err)
	}
	rows, err := r.db.QueryContext(ctx, `SELECT field, before FROM events WHERE code = ? AND seq > ? AND field != '' ORDER BY seq DESC`, code, seq)
	if err != nil {
		return c, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var field, before string
		if err := rows.Scan(&field, &before); err != nil {
			return c, false, err
		}
		switch field {
		case codeset.FieldCategory:
			c.Category = before
		case codeset.FieldShort:
			c.Short = before
		case codeset.FieldMedium:
			c.Medium = before
		case codeset.FieldLong:
			c.Long = before
		case codeset.FieldStatus:
			c.Status = before
		default:
			if before == "" {
				delete(c.Attrs, field)
			} else {
				if c.Attrs == nil {
					c.Attrs = map[string]string{}
				}
				c.Attrs[field] = before
			}
		}
	}
	if len(c.Attrs) == 0 {
		c.Attrs = nil
	}
	return c, true, rows.Err()
}
