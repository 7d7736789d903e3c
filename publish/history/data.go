package history

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
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
	return WriteDataAfter(ctx, path, nil, 0, w)
}

// dataHeader is the first line of history data.
const dataHeader = "# codeset history data; R label effective | E code release change field before after | L old new release source how\n"

// WriteDataAfter writes what WriteData writes, taking the lines of the
// first kept releases from prev, the history data written of a history
// that held those same releases (the history at path extends it by later
// releases). Events and links are listed release by release, so the lines
// of the kept releases are prev's as they are, and only the later
// releases' lines are read from the database: the work follows the new
// releases, not the length of the history. prev is used only when its
// release lines are exactly those of the history's first kept releases;
// otherwise, or when kept is 0, everything is read from the database.
// The bytes are WriteData's either way.
func WriteDataAfter(ctx context.Context, path string, prev []byte, kept int, w io.Writer) error {
	db, err := openHistory(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	bw := bufio.NewWriter(w)
	var rels bytes.Buffer
	if err := dataRows(ctx, db, path, &rels, "R", `SELECT label, effective FROM releases ORDER BY seq`, 2); err != nil {
		return err
	}
	events, links, ok := splitData(prev, rels.Bytes(), kept)
	if !ok {
		events, links, kept = nil, nil, 0
	}
	bw.WriteString(dataHeader)
	bw.Write(rels.Bytes())
	bw.Write(events)
	if err := dataRows(ctx, db, path, bw, "E", `SELECT code, release, change, field, before, after FROM events WHERE seq > ? AND NOT (seq = 1 AND change = 'added') ORDER BY seq, code, field`, 6, kept); err != nil {
		return err
	}
	// A history built before links were recorded has no such table.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'replacements'`).Scan(&n); err != nil {
		return fmt.Errorf("read history %s: %w", path, err)
	}
	if n > 0 {
		bw.Write(links)
		if err := dataRows(ctx, db, path, bw, "L", `SELECT old, new, release, source, how FROM replacements WHERE seq > ? ORDER BY seq, old, new, source`, 5, kept); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write history data: %w", err)
	}
	return nil
}

// splitData returns the event and link lines of prev, history data of a
// history whose releases were the first kept of rels (the release lines
// of the history now), or ok false when prev is not that.
func splitData(prev, rels []byte, kept int) (events, links []byte, ok bool) {
	if kept <= 0 || !bytes.HasPrefix(prev, []byte(dataHeader)) {
		return nil, nil, false
	}
	rest := prev[len(dataHeader):]
	// The release lines: the first kept of rels, exactly.
	end := 0
	for range kept {
		i := bytes.IndexByte(rels[end:], '\n')
		if i < 0 {
			return nil, nil, false
		}
		end += i + 1
	}
	if !bytes.HasPrefix(rest, rels[:end]) {
		return nil, nil, false
	}
	rest = rest[end:]
	if bytes.HasPrefix(rest, []byte("R\t")) || (len(rest) > 0 && rest[len(rest)-1] != '\n') {
		return nil, nil, false
	}
	// Events come before links; each is a run of lines of its tag.
	split := len(rest)
	if bytes.HasPrefix(rest, []byte("L\t")) {
		split = 0
	} else if i := bytes.Index(rest, []byte("\nL\t")); i >= 0 {
		split = i + 1
	}
	events, links = rest[:split], rest[split:]
	if (len(events) > 0 && !bytes.HasPrefix(events, []byte("E\t"))) || bytes.Contains(events, []byte("\nR\t")) || bytes.Contains(links, []byte("\nE\t")) || bytes.Contains(links, []byte("\nR\t")) {
		return nil, nil, false
	}
	return events, links, true
}

// dataRows writes the rows of query (n text columns) as lines of tag.
func dataRows(ctx context.Context, db *sql.DB, path string, w io.Writer, tag, query string, n int, args ...any) error {
	bw, ok := w.(interface {
		io.Writer
		io.ByteWriter
		io.StringWriter
	})
	if !ok {
		bw = bufio.NewWriter(w)
		defer bw.(*bufio.Writer).Flush()
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read history %s: %w", path, err)
	}
	defer rows.Close()
	vals := make([]string, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read history %s: %w", path, err)
		}
		bw.WriteString(tag)
		for _, v := range vals {
			bw.WriteByte('\t')
			bw.WriteString(dataClean.Replace(v))
		}
		bw.WriteByte('\n')
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read history %s: %w", path, err)
	}
	return nil
}

// dataClean turns the tabs and line breaks inside values into spaces.
var dataClean = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
