package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	// Codes get their ids in the order first seen: those after the
	// oldest release are a range of ids, read without a scan. A history
	// written before codes kept their rows (no records table, rebuilt by
	// the next publish) is read as it was.
	q := `SELECT c.code, r.effective FROM records c JOIN releases r ON r.seq = c.first_seq
		WHERE c.id >= coalesce((SELECT first_id FROM releases WHERE seq = 2), 1 << 62) AND r.effective != ''`
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'`).Scan(&n); err != nil {
		return nil, fmt.Errorf("read history %s: %w", path, err)
	}
	if n == 0 {
		q = `SELECT c.code, r.effective FROM codes c JOIN releases r ON r.label = c.first_release
		WHERE r.seq > 1 AND r.effective != ''`
	}
	rows, err := db.QueryContext(ctx, q)
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
