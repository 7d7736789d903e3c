package history

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// WriteData writes the history database at path as compact text, the
// SYSTEM/history.tsv the code pages read on a static host: a comment line,
// then one line per release, change event and replacement link, fields
// separated by tabs (tabs and line breaks inside values become spaces):
//
//	R  label  effective
//	E  code  release  change  field  before  after
//	L  old  new  release  source  how
//
// The codes of the oldest release are not listed as added by it: a code
// whose first event is not an addition was there from the oldest release.
// Releases come oldest first; events by release, code and field; links by
// release, old, new and source, so the same history always gives the same
// bytes. The records themselves are left out: each release folder has
// them (records.tsv).
func WriteData(ctx context.Context, path string, w io.Writer) error {
	db, err := openHistory(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	bw := bufio.NewWriter(w)
	clean := strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
	fmt.Fprintf(bw, "# codeset history data; R label effective | E code release change field before after | L old new release source how\n")
	for _, q := range []struct {
		tag, sql string
		n        int
	}{
		{"R", `SELECT label, effective FROM releases ORDER BY seq`, 2},
		{"E", `SELECT code, release, change, field, before, after FROM events WHERE NOT (seq = 1 AND change = 'added') ORDER BY seq, code, field`, 6},
		{"L", `SELECT old, new, release, source, how FROM replacements ORDER BY seq, old, new, source`, 5},
	} {
		if q.tag == "L" {
			// A history built before links were recorded has no such table.
			var n int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'replacements'`).Scan(&n); err != nil {
				return fmt.Errorf("read history %s: %w", path, err)
			}
			if n == 0 {
				continue
			}
		}
		rows, err := db.QueryContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("read history %s: %w", path, err)
		}
		vals := make([]string, q.n)
		ptrs := make([]any, q.n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("read history %s: %w", path, err)
			}
			bw.WriteString(q.tag)
			for _, v := range vals {
				bw.WriteByte('\t')
				bw.WriteString(clean.Replace(v))
			}
			bw.WriteByte('\n')
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("read history %s: %w", path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write history data: %w", err)
	}
	return nil
}
