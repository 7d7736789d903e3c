package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/durable"
	"github.com/codeset/codeset/publish/snapshot"
)

// Snapshot names one release's snapshot file and its SHA-256 (lower-case
// hex), as a manifest lists it.
type Snapshot struct {
	Path   string
	SHA256 string
	// Sum, when set and SHA256 is "", gives the SHA-256: for a snapshot
	// still being hashed when the history starts to be built. It is
	// called once the hash is needed, to record the release, and may
	// wait for it.
	Sum func() (string, error)
}

// sha256 returns the SHA-256 of the snapshot, from Sum when it is not
// known yet.
func (s Snapshot) sha256() (string, error) {
	if s.SHA256 != "" || s.Sum == nil {
		return s.SHA256, nil
	}
	sum, err := s.Sum()
	if err != nil {
		return "", fmt.Errorf("hash snapshot %s: %w", s.Path, err)
	}
	return sum, nil
}

// Build writes the history database of the snapshots at paths (releases of
// one system, oldest first) to dst, which must not exist, from scratch:
// Update with no earlier history. The same snapshots always give the same
// bytes.
func Build(ctx context.Context, dst string, paths []string) error {
	snaps := make([]Snapshot, len(paths))
	for i, p := range paths {
		_, sum, err := durable.HashFile(ctx, p)
		if err != nil {
			return fmt.Errorf("build history %s: %w", dst, err)
		}
		snaps[i] = Snapshot{Path: p, SHA256: sum}
	}
	return Update(ctx, dst, "", snaps)
}

// Update writes to dst, which must not exist, the history database of
// snaps (releases of one system, oldest first). When the history at prev
// holds a first part of snaps (the same snapshots by SHA-256, in the same
// order), dst starts as a copy of it and is extended by the rest;
// otherwise, or when prev is "" or missing, dst starts as a history of no
// releases. Each remaining release is then added by step: its changes are
// appended and only the rows of the codes it changes are written, in
// place, so the SQL work is proportional to the release's changes, not to
// all codes of all releases (the copy is a plain file copy). prev is never
// changed.
//
// Either way the bytes of dst depend only on snaps: a history built from
// scratch is the empty history extended one release at a time by the
// same steps, each a deterministic function of the file before and the
// release, so an extended history and one built from scratch are the same
// file by construction.
func Update(ctx context.Context, dst, prev string, snaps []Snapshot) error {
	_, err := Extend(ctx, dst, prev, snaps)
	return err
}

// Extension tells what Extend added to the history it started from.
type Extension struct {
	// Kept is how many of the first releases were taken from the
	// previous history as they were (0 when it was built from nothing).
	Kept int
	// Changed lists, in order, every code with an event in the releases
	// after the first Kept, when Kept is not 0: what WriteDataAfter
	// needs to read those events code by code (After.Changed).
	Changed []string
}

// Extend is Update, telling what it added.
func Extend(ctx context.Context, dst, prev string, snaps []Snapshot) (ext Extension, err error) {
	if _, err := os.Lstat(dst); err == nil {
		return ext, fmt.Errorf("build history %s: %w", dst, durable.ErrNoReplace)
	}
	defer func() {
		if err != nil {
			os.Remove(dst)
			err = fmt.Errorf("build history %s: %w", dst, err)
		}
	}()
	done := 0
	if prev != "" {
		if done, err = held(ctx, prev, snaps); err != nil {
			return ext, err
		}
	}
	if done > 0 {
		if err := copyFile(dst, prev); err != nil {
			return ext, err
		}
		ext.Kept = done
	} else {
		done = 0
		if err := empty(ctx, dst); err != nil {
			return ext, err
		}
	}
	return extendFrom(ctx, dst, snaps, done, ext)
}

// extendFrom adds to the history at path, which holds the first done
// releases of snaps, the others by step, and syncs it. ext is what is
// known of the start.
func extendFrom(ctx context.Context, path string, snaps []Snapshot, done int, ext Extension) (Extension, error) {
	var changed [][]string
	for k := done; k < len(snaps); k++ {
		prevSnap := ""
		if k > 0 {
			prevSnap = snaps[k-1].Path
		}
		codes, err := step(ctx, path, prevSnap, snaps[k], k+1)
		if err != nil {
			return ext, err
		}
		changed = append(changed, codes)
	}
	if ext.Kept > 0 {
		ext.Changed = []string{}
		for _, codes := range changed {
			ext.Changed = append(ext.Changed, codes...)
		}
		slices.Sort(ext.Changed)
		ext.Changed = slices.Compact(ext.Changed)
	}
	return ext, durable.SyncFile(path)
}

// Copy copies the history at prev to dst, which must not exist, and
// syncs the copy: the first half of an Extend split in two, done before
// the new release's snapshot is ready, so that what is left (ExtendFile)
// is the release's own work, and the sync at its end writes only the
// pages the release changed. A missing prev copies nothing.
func Copy(ctx context.Context, dst, prev string) (err error) {
	if _, err := os.Stat(prev); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	defer func() {
		if err != nil {
			os.Remove(dst)
			err = fmt.Errorf("copy history %s: %w", prev, err)
		}
	}()
	if err := copyFile(dst, prev); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return durable.SyncFile(dst)
}

// ExtendFile is the second half of an Extend split in two: it extends
// the history at path, a file of the caller's own that nothing else reads
// (made by Copy), in place, by the releases of snaps it lacks. A file that
// is missing, or holds anything but a first part of snaps, is built again
// from nothing. The bytes are those Extend writes. On failure the file is
// removed.
func ExtendFile(ctx context.Context, path string, snaps []Snapshot) (ext Extension, err error) {
	defer func() {
		if err != nil {
			os.Remove(path)
			err = fmt.Errorf("build history %s: %w", path, err)
		}
	}()
	done, err := held(ctx, path, snaps)
	if err != nil {
		return ext, err
	}
	if done > 0 {
		ext.Kept = done
	} else {
		done = 0
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return ext, err
		}
		if err := empty(ctx, path); err != nil {
			return ext, err
		}
	}
	return extendFrom(ctx, path, snaps, done, ext)
}

// copyFile copies src to dst, which must not exist, without syncing it:
// Update syncs dst once it is complete.
func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Covers reports whether the history at path holds exactly snaps: then
// there is nothing to add to it.
func Covers(ctx context.Context, path string, snaps []Snapshot) bool {
	n, err := held(ctx, path, snaps)
	return err == nil && n == len(snaps)
}

// held returns how many of the first snaps the history at path holds, or
// -1 when it holds anything else or cannot be extended (missing, another
// schema version, or a history written before codes kept their rows, with
// no records table). A context error is returned.
func held(ctx context.Context, path string, snaps []Snapshot) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	r, err := OpenRecords(ctx, path)
	if err != nil {
		return -1, ctx.Err()
	}
	defer r.Close()
	var n int
	if err := r.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'`).Scan(&n); err != nil || n == 0 {
		return -1, ctx.Err()
	}
	if len(r.Releases) > len(snaps) {
		return -1, nil
	}
	for i, rel := range r.Releases {
		sum, err := snaps[i].sha256()
		if err != nil {
			return -1, err
		}
		if rel.Snapshot != sum {
			return -1, nil
		}
	}
	return len(r.Releases), nil
}

// empty writes a history of no releases, not synced.
func empty(ctx context.Context, dst string) error {
	db, tx, err := dbfile.Create(ctx, dst, Schema, applicationID, snapshot.SchemaVersion)
	if err != nil {
		return err
	}
	defer db.Close()
	defer tx.Rollback()
	if err := tx.Commit(); err != nil {
		return err
	}
	return db.Close()
}

// secureDelete is the DSN query that makes step's connection zero what it
// frees (see step).
var secureDelete = "&_pragma=secure_delete(ON)"

// step adds to the history at path, in place and in one transaction, the
// release of snap, the seq-th, compared with the snapshot at prevSnap (""
// for the first release). path is a file of Update's own: it is removed
// when a step fails, so it needs no rollback journal.
//
// Every write is in an order fixed by the release's changes (code order,
// then field), and the connection is opened for this one transaction, so
// the bytes written depend only on the file before and the release. The
// connection zeroes what it frees (PRAGMA secure_delete): the full-text
// index merges its segments as rows go in, and a page it frees would
// otherwise keep whatever it held when it was last written out, which
// depends on when the page cache spilled it, so on the cache's size and
// not on the history.
//
// It returns the codes the release changed (those it added events for),
// in code order; nil for a first release.
func step(ctx context.Context, path, prevSnap string, snap Snapshot, seq int) (changed []string, err error) {
	err = dbfile.OnConn(ctx, path, dbfile.CreateQuery+secureDelete, func(conn *sql.Conn) error {
		if prevSnap == "" && seq == 1 && !genericFirst {
			return first(ctx, conn, snap)
		}
		changed, err = stepOn(ctx, conn, prevSnap, snap, seq)
		return err
	})
	return changed, err
}

// stepOn is step on the connection conn of the history.
func stepOn(ctx context.Context, conn *sql.Conn, prevSnap string, snap Snapshot, seq int) ([]string, error) {

	// The history so far ends with the release before: the record it
	// holds for a code missing from that release is the one last seen.
	// The codes are looked up insertBatch at a time.
	lookup := func(n int) string {
		return `SELECT code, category, short, medium, long, status, attributes FROM records WHERE code IN (` +
			strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + `)`
	}
	full, err := conn.PrepareContext(ctx, lookup(insertBatch))
	if err != nil {
		return nil, err
	}
	defer full.Close()
	lastSeen := func(ctx context.Context, codes []string) (map[string]codeset.Code, error) {
		m := map[string]codeset.Code{}
		args := make([]any, 0, insertBatch)
		for start := 0; start < len(codes); start += insertBatch {
			batch := codes[start:min(start+insertBatch, len(codes))]
			args = args[:0]
			for _, c := range batch {
				args = append(args, c)
			}
			stmt := full
			if len(batch) < insertBatch {
				part, err := conn.PrepareContext(ctx, lookup(len(batch)))
				if err != nil {
					return nil, err
				}
				defer part.Close()
				stmt = part
			}
			rows, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return nil, err
			}
			if err := scanCodes(rows, m); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	l, err := snapshot.Compare(ctx, prevSnap, snap.Path, lastSeen)
	if err != nil {
		return nil, err
	}
	info, err := snapshot.ReadInfo(ctx, snap.Path)
	if err != nil {
		return nil, err
	}
	if err := full.Close(); err != nil {
		return nil, err
	}
	changed := make([]string, len(l.Changes))
	for i, c := range l.Changes {
		changed[i] = c.Code
	}
	sum, err := snap.sha256()
	if err != nil {
		return nil, err
	}
	return changed, apply(ctx, conn, l, info, sum, seq)
}

// apply adds to the history open on conn, in one transaction, the
// release described by info (its snapshot's SHA-256 sum), the seq-th,
// whose changes from the release before are l.
func apply(ctx context.Context, conn *sql.Conn, l *codeset.Changelog, info snapshot.Info, sum string, seq int) error {
	exec := func(q string, args ...any) error {
		_, err := conn.ExecContext(ctx, q, args...)
		return err
	}
	if err := exec(`BEGIN IMMEDIATE`); err != nil {
		return err
	}
	defer exec(`ROLLBACK`)
	var last int
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM releases`).Scan(&last); err != nil {
		return err
	}
	if last != seq-1 {
		return fmt.Errorf("history holds %d releases, cannot add release %d", last, seq)
	}
	var maxID int64
	if err := conn.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM records`).Scan(&maxID); err != nil {
		return err
	}
	if err := exec(`
CREATE TEMP TABLE new_codes (code TEXT PRIMARY KEY, gone INTEGER, category TEXT, short TEXT, medium TEXT, long TEXT, status TEXT, attributes TEXT);
CREATE TEMP TABLE retext (id INTEGER PRIMARY KEY);
`); err != nil {
		return err
	}
	if err := addChanges(ctx, conn, l, seq); err != nil {
		return err
	}
	if err := addLinks(ctx, conn, l, seq); err != nil {
		return err
	}
	eff := ""
	if !info.Effective.IsZero() {
		eff = info.Effective.Format(codeset.DateLayout)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO releases (seq, label, effective, codes, snapshot, first_id) VALUES (?, ?, ?, ?, ?, ?)`,
			[]any{seq, info.Label, eff, info.Codes, sum, maxID + 1}},
		// A deleted code keeps the record it had, last seen in the
		// release before.
		{`UPDATE records SET last_seq = ? WHERE code IN (SELECT code FROM temp.new_codes WHERE gone)`, []any{seq - 1}},
		// The codes whose descriptors change leave the full-text index
		// with their old text, and come back with the new below.
		{`INSERT INTO temp.retext (id)
			SELECT r.id FROM temp.new_codes n CROSS JOIN records r ON r.code = n.code
			WHERE NOT n.gone AND (r.short != n.short OR r.medium != n.medium OR r.long != n.long)`, nil},
		{`INSERT INTO search (search, rowid, short, medium, long)
			SELECT 'delete', r.id, r.short, r.medium, r.long FROM temp.retext t CROSS JOIN records r ON r.id = t.id ORDER BY t.id`, nil},
		// A changed or reactivated code takes its new record.
		// (Driven by the changes: an UPDATE ... FROM would walk records.)
		{`UPDATE records SET (last_seq, category, short, medium, long, status, attributes) =
				(SELECT 0, n.category, n.short, n.medium, n.long, n.status, n.attributes FROM temp.new_codes n WHERE n.code = records.code)
			WHERE code IN (SELECT code FROM temp.new_codes WHERE NOT gone)`, nil},
		// A code never seen before gets the next id, in code order.
		{`INSERT INTO records (id, code, first_seq, last_seq, category, short, medium, long, status, attributes)
			SELECT ?1 + row_number() OVER (ORDER BY n.code), n.code, ?2, 0, n.category, n.short, n.medium, n.long, n.status, n.attributes
			FROM temp.new_codes n WHERE NOT n.gone AND NOT EXISTS (SELECT 1 FROM records r WHERE r.code = n.code)
			ORDER BY n.code`, []any{maxID, seq}},
		{`INSERT INTO temp.retext (id) SELECT id FROM records WHERE id > ?`, []any{maxID}},
		{`INSERT INTO search (rowid, short, medium, long)
			SELECT r.id, r.short, r.medium, r.long FROM temp.retext t CROSS JOIN records r ON r.id = t.id ORDER BY t.id`, nil},
	} {
		if err := exec(q.sql, q.args...); err != nil {
			return err
		}
	}
	return exec(`COMMIT`)
}

// addLinks adds to replacements and replacement_problems the
// replacement links of l, the release numbered seq, and what does not add
// up in them: a link naming a code in neither release of its transition
// is reported, not kept in the graph.
func addLinks(ctx context.Context, conn *sql.Conn, l *codeset.Changelog, seq int) error {
	unknown := map[[2]string]bool{}
	for _, p := range l.LinkProblems {
		if p.Kind == codeset.UnknownCode {
			unknown[[2]string{p.Code, p.Other}] = true
		}
	}
	for _, r := range l.Replacements {
		if unknown[[2]string{r.Old, r.New}] || unknown[[2]string{r.New, r.Old}] {
			continue
		}
		eff := ""
		if !r.Effective.IsZero() {
			eff = r.Effective.Format(codeset.DateLayout)
		}
		if _, err := conn.ExecContext(ctx, `INSERT OR IGNORE INTO main.replacements (old, new, seq, release, source, effective, how) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.Old, r.New, seq, l.To, r.Source, eff, string(r.How)); err != nil {
			return fmt.Errorf("replacement %s -> %s: %w", r.Old, r.New, err)
		}
	}
	for _, p := range l.LinkProblems {
		if p.Kind == codeset.NoReplacement {
			continue
		}
		if _, err := conn.ExecContext(ctx, `INSERT INTO main.replacement_problems (code, seq, release, problem, other, source, reason) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.Code, seq, l.To, string(p.Kind), p.Other, p.Source, p.Reason); err != nil {
			return fmt.Errorf("replacement problem of %s: %w", p.Code, err)
		}
	}
	return nil
}

// addChanges adds to events the changes of l, the release numbered seq,
// and fills temp.new_codes with the records of the changed codes. The rows
// go in batches of insertBatch, in the order one insert per row would put
// them, so the file is the same.
func addChanges(ctx context.Context, conn *sql.Conn, l *codeset.Changelog, seq int) error {
	events := &batchInsert{conn: conn, head: `INSERT INTO main.events (code, seq, release, change, field, before, after) VALUES `, cols: 7}
	defer events.close()
	codes := &batchInsert{conn: conn, head: `INSERT INTO temp.new_codes (code, gone, category, short, medium, long, status, attributes) VALUES `, cols: 8}
	defer codes.close()
	watched := ctx
	ctx = dbfile.Unwatched(ctx)
	for i, c := range l.Changes {
		if i%4096 == 0 && watched.Err() != nil {
			return watched.Err()
		}
		if len(c.Fields) == 0 {
			if err := events.add(ctx, c.Code, seq, l.To, string(c.Kind), "", "", ""); err != nil {
				return err
			}
		}
		for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
			fc := c.Fields[f]
			if err := events.add(ctx, c.Code, seq, l.To, string(c.Kind), f, fc.Before, fc.After); err != nil {
				return err
			}
		}
		r := c.Record
		attrs, err := snapshot.EncodeAttrs(r.Attrs)
		if err != nil {
			return fmt.Errorf("code %s: %w", c.Code, err)
		}
		if err := codes.add(ctx, c.Code, c.Kind == codeset.Deleted, r.Category, r.Short, r.Medium, r.Long, r.Status, attrs); err != nil {
			return err
		}
	}
	if err := events.flush(ctx); err != nil {
		return err
	}
	return codes.flush(ctx)
}

// insertBatch is how many rows one statement of a batchInsert inserts.
const insertBatch = 64

// batchInsert inserts rows of cols values with statements of up to
// insertBatch rows each: a statement per row costs more in database/sql
// and the driver than the insert itself.
type batchInsert struct {
	conn *sql.Conn
	head string // the statement up to VALUES
	cols int
	full *sql.Stmt
	args []any
	// first and last code of the rows waiting, for errors
	first, last any
}

func (b *batchInsert) statement(ctx context.Context, rows int) (*sql.Stmt, error) {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", b.cols), ", ") + ")"
	return b.conn.PrepareContext(ctx, b.head+strings.TrimSuffix(strings.Repeat(row+", ", rows), ", "))
}

// add adds a row, args being its values.
func (b *batchInsert) add(ctx context.Context, args ...any) error {
	if len(b.args) == 0 {
		b.first = args[0]
	}
	b.last = args[0]
	b.args = append(b.args, args...)
	if len(b.args) < insertBatch*b.cols {
		return nil
	}
	if b.full == nil {
		var err error
		if b.full, err = b.statement(ctx, insertBatch); err != nil {
			return err
		}
	}
	return b.exec(ctx, b.full)
}

func (b *batchInsert) exec(ctx context.Context, stmt *sql.Stmt) error {
	if _, err := stmt.ExecContext(ctx, b.args...); err != nil {
		return fmt.Errorf("codes %v..%v: %w", b.first, b.last, err)
	}
	b.args = b.args[:0]
	return nil
}

// flush inserts the rows waiting.
func (b *batchInsert) flush(ctx context.Context) error {
	if len(b.args) == 0 {
		return nil
	}
	stmt, err := b.statement(ctx, len(b.args)/b.cols)
	if err != nil {
		return err
	}
	defer stmt.Close()
	return b.exec(ctx, stmt)
}

func (b *batchInsert) close() {
	if b.full != nil {
		b.full.Close()
	}
}
