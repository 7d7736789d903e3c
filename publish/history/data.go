package history

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/codeset/codeset/publish/dbfile"
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
	return WriteDataAfter(ctx, path, After{}, w)
}

// dataHeader is the first line of history data.
const dataHeader = "# codeset history data; R label effective | E code release change field before after | L old new release source how\n"

// After is what WriteDataAfter takes from the history data written
// before, when the history was a first part of the one written now.
type After struct {
	// Prev is the history data written of a history that held the
	// first Kept releases of this one (nil for none).
	Prev *io.SectionReader
	Kept int
	// Changed, when not nil, lists every code with an event in the
	// releases after the first Kept, in order (as Extend tells; more
	// codes do no harm): their events are then looked up by code rather
	// than found by reading every event of the history.
	Changed []string
}

// WriteDataAfter writes what WriteData writes, taking the lines of the
// first after.Kept releases from after.Prev. Events and links are listed
// release by release, so the lines of the kept releases are Prev's as
// they are, copied from it, and only the later releases' lines are read
// from the database: the work follows the new releases, not the length of
// the history (but for a scan of Prev's lines at the speed of memory, and
// of the links, few). Prev is used only when its release lines are
// exactly those of the history's first Kept releases and its other lines
// are events then links; otherwise, or when Prev is nil or Kept is 0,
// everything is read from the database. The bytes are WriteData's either
// way.
//
// The history is read without a memory map: each page is read about once,
// and a mapped page read stays in the process's resident memory to its
// end, 32-36 MiB more at the very end of a run of a million codes, which
// made the run's peak. On 2026-12-03, five runs each, alternating, a first
// release of 1M codes peaked at 358-364 MiB mapped and 344-351 unmapped,
// the next release at 370-374 and 359-371 MiB; an ICD-10-CM run took the
// same CPU and page faults either way.
func WriteDataAfter(ctx context.Context, path string, after After, w io.Writer) error {
	db, err := openHistoryWith(ctx, path, dbfile.OpenReadOnlyUnmapped)
	if err != nil {
		return err
	}
	defer db.Close()
	bw := bufio.NewWriterSize(w, 256<<10)
	var rels bytes.Buffer
	if err := dataRows(ctx, db, path, &rels, "R", `SELECT label, effective FROM releases ORDER BY seq`, 2); err != nil {
		return err
	}
	kept := after.Kept
	events, links, ok := splitData(after.Prev, rels.Bytes(), kept)
	if !ok {
		events, links, kept = emptySection, emptySection, 0
	}
	bw.WriteString(dataHeader)
	bw.Write(rels.Bytes())
	if _, err := io.Copy(bw, events); err != nil {
		return fmt.Errorf("write history data: %w", err)
	}
	// Events are keyed by code: those of the later releases are either
	// looked up by their codes or found by reading them all.
	newEvents := `SELECT code, release, change, field, before, after FROM events WHERE seq > ?1 AND NOT (seq = 1 AND change = 'added') ORDER BY seq, code, field`
	args := []any{kept}
	if kept > 0 && after.Changed != nil {
		list, err := json.Marshal(after.Changed)
		if err != nil {
			return err
		}
		newEvents = `SELECT code, release, change, field, before, after FROM events WHERE code IN (SELECT value FROM json_each(?2)) AND seq > ?1 ORDER BY seq, code, field`
		args = append(args, string(list))
	}
	if err := dataRows(ctx, db, path, bw, "E", newEvents, 6, args...); err != nil {
		return err
	}
	// A history built before links were recorded has no such table.
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'replacements'`).Scan(&n); err != nil {
		return fmt.Errorf("read history %s: %w", path, err)
	}
	if n > 0 {
		if _, err := io.Copy(bw, links); err != nil {
			return fmt.Errorf("write history data: %w", err)
		}
		if err := dataRows(ctx, db, path, bw, "L", `SELECT old, new, release, source, how FROM replacements WHERE seq > ? ORDER BY seq, old, new, source`, 5, kept); err != nil {
			return err
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write history data: %w", err)
	}
	return nil
}

var emptySection = io.NewSectionReader(bytes.NewReader(nil), 0, 0)

// splitData returns the event and link lines of prev, history data of a
// history whose releases were the first kept of rels (the release lines
// of the history now), or ok false when prev is not that. It reads prev
// once, line by line, without holding it.
func splitData(prev *io.SectionReader, rels []byte, kept int) (events, links *io.SectionReader, ok bool) {
	if kept <= 0 || prev == nil {
		return nil, nil, false
	}
	// The release lines: the first kept of rels, exactly.
	end := 0
	for range kept {
		i := bytes.IndexByte(rels[end:], '\n')
		if i < 0 {
			return nil, nil, false
		}
		end += i + 1
	}
	head := make([]byte, len(dataHeader)+end)
	if _, err := prev.ReadAt(head, 0); err != nil || string(head[:len(dataHeader)]) != dataHeader || !bytes.Equal(head[len(dataHeader):], rels[:end]) {
		return nil, nil, false
	}
	// Then events, then links: every line starts with its tag (values
	// hold no line breaks) and the last one ends with a line break.
	start := int64(len(head))
	r := bufio.NewReaderSize(io.NewSectionReader(prev, start, prev.Size()-start), 64<<10)
	split := int64(-1)
	at := start
	for {
		line, err := r.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		switch {
		case bytes.HasPrefix(line, []byte("E\t")) && split < 0:
		case bytes.HasPrefix(line, []byte("L\t")):
			if split < 0 {
				split = at
			}
		default:
			return nil, nil, false
		}
		n := int64(len(line))
		// A line longer than the buffer is read on to its end.
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			n += int64(len(line))
		}
		if err != nil {
			// Cut short (no line break at the end) or unreadable.
			return nil, nil, false
		}
		at += n
	}
	if split < 0 {
		split = at
	}
	return io.NewSectionReader(prev, start, split-start), io.NewSectionReader(prev, split, at-split), true
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
