package history

import (
	"context"
	"database/sql"
	"encoding/json"
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
//
// The codes are looked up together, in two queries (their records, then
// the later changes of those records), so that the work follows the
// number of codes asked, not one round trip per code.
func (r *Records) LastSeenBefore(seq int) snapshot.LastSeen {
	return func(ctx context.Context, codes []string) (map[string]codeset.Code, error) {
		m, err := recordsBefore(ctx, r.db, codes, seq)
		if err != nil {
			return nil, fmt.Errorf("read history %s: %w", r.path, err)
		}
		return m, nil
	}
}

// recordsBefore returns, by code, the record each of codes had in the
// latest release up to the seq-th that had it (see LastSeenBefore).
func recordsBefore(ctx context.Context, db *sql.DB, codes []string, seq int) (map[string]codeset.Code, error) {
	m := map[string]codeset.Code{}
	if len(codes) == 0 {
		return m, nil
	}
	// The codes go to SQLite as one JSON array: a single parameter
	// whatever their number.
	list, err := json.Marshal(codes)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT code, category, short, medium, long, status, attributes
		FROM records WHERE code IN (SELECT value FROM json_each(?1)) AND first_seq <= ?2`, string(list), seq)
	if err != nil {
		return nil, err
	}
	if err := scanCodes(rows, m); err != nil {
		return nil, err
	}
	// The changes after release seq, latest first within each code: each
	// puts back the value the field had before it, so the last one
	// applied is the value in release seq.
	events, err := db.QueryContext(ctx, `SELECT code, field, before FROM events
		WHERE code IN (SELECT value FROM json_each(?1)) AND seq > ?2 AND field != ''
		ORDER BY code, seq DESC`, string(list), seq)
	if err != nil {
		return nil, err
	}
	defer events.Close()
	for events.Next() {
		var code, field, before string
		if err := events.Scan(&code, &field, &before); err != nil {
			return nil, err
		}
		c, ok := m[code]
		if !ok {
			// First seen after release seq.
			continue
		}
		setField(&c, field, before)
		m[code] = c
	}
	if err := events.Err(); err != nil {
		return nil, err
	}
	for code, c := range m {
		if len(c.Attrs) == 0 && c.Attrs != nil {
			c.Attrs = nil
			m[code] = c
		}
	}
	return m, nil
}

// setField sets one field of c, named as in the events table, to value:
// a descriptor, the category, the status, or an attribute (removed when
// value is empty).
func setField(c *codeset.Code, field, value string) {
	switch field {
	case codeset.FieldCategory:
		c.Category = value
	case codeset.FieldShort:
		c.Short = value
	case codeset.FieldMedium:
		c.Medium = value
	case codeset.FieldLong:
		c.Long = value
	case codeset.FieldStatus:
		c.Status = value
	default:
		if value == "" {
			delete(c.Attrs, field)
			return
		}
		if c.Attrs == nil {
			c.Attrs = map[string]string{}
		}
		c.Attrs[field] = value
	}
}

// scanCodes adds to m, by code, the records of rows (code, category,
// short, medium, long, status, attributes), and closes rows.
func scanCodes(rows *sql.Rows, m map[string]codeset.Code) error {
	defer rows.Close()
	for rows.Next() {
		var c codeset.Code
		var attrs string
		if err := rows.Scan(&c.Code, &c.Category, &c.Short, &c.Medium, &c.Long, &c.Status, &attrs); err != nil {
			return err
		}
		var err error
		if c.Attrs, err = snapshot.DecodeAttrs(attrs); err != nil {
			return fmt.Errorf("code %s: bad attributes: %w", c.Code, err)
		}
		m[c.Code] = c
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}
