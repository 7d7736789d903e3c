package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// Introduced returns, by code, the effective date of the release that
// brought each code in, for the codes that came after the oldest release
// of the history database at path: for the others, present from the start,
// the history does not know when they took effect. Releases without a date
// give none.
func Introduced(ctx context.Context, path string) (map[string]string, error) {
	db, err := openHistory(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if n == 0 {
		// A history written before codes kept their rows (no records
		// table, rebuilt by the next publish) is read as it was.
		return introducedBefore(ctx, db, path)
	}
	// Codes get their ids in the order first seen, so the codes each
	// release brought are the ids from its first_id to the next one's:
	// read as one string per release rather than a row per code.
	type brought struct {
		effective string
		from, to  int64 // ids; to is 0 for the latest release
	}
	var rels []brought
	rows, err := db.QueryContext(ctx, `SELECT effective, first_id FROM releases ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b brought
		if err := rows.Scan(&b.effective, &b.from); err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		if len(rels) > 0 {
			rels[len(rels)-1].to = b.from
		}
		rels = append(rels, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	rows.Close()
	out := map[string]string{}
	if len(rels) < 2 {
		return out, nil
	}
	for _, b := range rels[1:] {
		if b.effective == "" {
			continue
		}
		var n int
		var list sql.NullString
		q := `SELECT count(*), group_concat(code, char(10)) FROM records WHERE id >= ?1 AND (?2 = 0 OR id < ?2)`
		if err := db.QueryRowContext(ctx, q, b.from, b.to).Scan(&n, &list); err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		if n == 0 {
			continue
		}
		codes := strings.Split(list.String, "\n")
		if len(codes) != n {
			// A code with a line break in it: read them one by one.
			codes = codes[:0]
			rows, err := db.QueryContext(ctx, `SELECT code FROM records WHERE id >= ?1 AND (?2 = 0 OR id < ?2)`, b.from, b.to)
			if err != nil {
				return nil, fmt.Errorf("read history %s: %w", path, err)
			}
			defer rows.Close()
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					return nil, fmt.Errorf("read history %s: %w", path, err)
				}
				codes = append(codes, c)
			}
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("read history %s: %w", path, err)
			}
		}
		for _, c := range codes {
			out[c] = b.effective
		}
	}
	return out, nil
}

// introducedBefore is Introduced of a history without a records table.
func introducedBefore(ctx context.Context, db *sql.DB, path string) (map[string]string, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.code, r.effective FROM codes c JOIN releases r ON r.label = c.first_release
		WHERE r.seq > 1 AND r.effective != ''`)
	if err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var code, eff string
		if err := rows.Scan(&code, &eff); err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		out[code] = eff
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	return out, nil
}

// Spans returns, by code, the first and last release that had each of
// codes, for those the history database at path knows.
func Spans(ctx context.Context, path string, codes []string) (map[string][2]string, error) {
	db, err := openHistory(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	out := map[string][2]string{}
	for _, c := range codes {
		var first, last string
		err := db.QueryRowContext(ctx, `SELECT first_release, last_release FROM codes WHERE code = ?`, c).Scan(&first, &last)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read history %s: %w", path, err)
		}
		out[c] = [2]string{first, last}
	}
	return out, nil
}
