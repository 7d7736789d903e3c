package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"

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
// order), it is extended by the rest, each release adding its own changes:
// the work is that of comparing each new release with the one before (an
// ordered merge of row hashes, see snapshot.Compare) and of writing the
// file, not of reading every earlier release. Otherwise, or when prev is
// "" or missing, the history is built from the first release on.
//
// Either way the bytes of dst depend only on snaps: each step writes a new
// file, filling every table in key order from the one before and the new
// changes, and rebuilds the full-text index, so an extended history and
// one built from scratch are the same file.
func Update(ctx context.Context, dst, prev string, snaps []Snapshot) (err error) {
	if _, err := os.Lstat(dst); err == nil {
		return fmt.Errorf("build history %s: %w", dst, durable.ErrNoReplace)
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
			return err
		}
		if done < 0 {
			prev, done = "", 0
		}
	}
	switch {
	case len(snaps) == 0:
		return empty(ctx, dst)
	case done == len(snaps):
		if err := durable.CopyNew(dst, prev); err != nil {
			return err
		}
		return durable.SyncFile(dst)
	}
	cur := prev
	for k := done; k < len(snaps); k++ {
		out := dst
		if k < len(snaps)-1 {
			out = fmt.Sprintf("%s.%d", dst, k+1)
			os.Remove(out)
		}
		prevSnap := ""
		if k > 0 {
			prevSnap = snaps[k-1].Path
		}
		serr := step(ctx, out, cur, prevSnap, snaps[k], k+1)
		if cur != prev {
			os.Remove(cur)
		}
		if serr != nil {
			os.Remove(out)
			return serr
		}
		cur = out
	}
	return durable.SyncFile(dst)
}

// Covers reports whether the history at path holds exactly snaps: then
// there is nothing to add to it.
func Covers(ctx context.Context, path string, snaps []Snapshot) bool {
	n, err := held(ctx, path, snaps)
	return err == nil && n == len(snaps)
}

// held returns how many of the first snaps the history at path holds, or
// -1 when it holds anything else or cannot be extended (missing, another
// schema version). A context error is returned.
func held(ctx context.Context, path string, snaps []Snapshot) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return -1, nil
	}
	r, err := OpenRecords(ctx, path)
	if err != nil {
		return -1, ctx.Err()
	}
	defer r.Close()
	if len(r.Releases) > len(snaps) {
		return -1, nil
	}
	for i, rel := range r.Releases {
		if rel.Snapshot != snaps[i].SHA256 {
			return -1, nil
		}
	}
	return len(r.Releases), nil
}

// empty writes a history of no releases.
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
	if err := db.Close(); err != nil {
		return err
	}
	return durable.SyncFile(dst)
}

// oldSchema stands in for the history before the first release: the
// tables a step reads, empty.
const oldSchema = `
CREATE TABLE old.releases (seq INTEGER PRIMARY KEY, label TEXT, effective TEXT, codes INTEGER, snapshot TEXT);
CREATE TABLE old.codes (id INTEGER PRIMARY KEY, code TEXT, first_release TEXT, last_release TEXT, category TEXT, short TEXT, medium TEXT, long TEXT, status TEXT, attributes TEXT);
CREATE TABLE old.events (code TEXT, seq INTEGER, release TEXT, change TEXT, field TEXT, before TEXT, after TEXT);
CREATE TABLE old.replacements (old TEXT, new TEXT, seq INTEGER, release TEXT, source TEXT, effective TEXT, how TEXT);
CREATE TABLE old.replacement_problems (code TEXT, seq INTEGER, release TEXT, problem TEXT, other TEXT, source TEXT, reason TEXT);
`

// step writes to dst the history at prev ("" for none) extended by the
// release of snap, the seq-th, compared with the snapshot at prevSnap.
func step(ctx context.Context, dst, prev, prevSnap string, snap Snapshot, seq int) error {
	db, err := dbfile.Open(dst, dbfile.CreateQuery)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string, args ...any) error {
		_, err := conn.ExecContext(ctx, q, args...)
		return err
	}
	if prev == "" {
		if err := exec(`ATTACH DATABASE ':memory:' AS old`); err != nil {
			return err
		}
		if err := exec(oldSchema); err != nil {
			return err
		}
	} else if err := exec(`ATTACH DATABASE ? AS old`, dbfile.DSN(prev, "mode=ro")); err != nil {
		return fmt.Errorf("attach %s: %w", prev, err)
	}
	var prevLabel string
	if err := conn.QueryRowContext(ctx, `SELECT coalesce((SELECT label FROM old.releases ORDER BY seq DESC LIMIT 1), '')`).Scan(&prevLabel); err != nil {
		return err
	}

	// The history so far ends with the release before: the record it
	// holds for a code missing from that release is the one last seen.
	lookup, err := conn.PrepareContext(ctx, `SELECT category, short, medium, long, status, attributes FROM old.codes WHERE code = ?`)
	if err != nil {
		return err
	}
	defer lookup.Close()
	lastSeen := func(ctx context.Context, codes []string) (map[string]codeset.Code, error) {
		m := map[string]codeset.Code{}
		for _, code := range codes {
			c := codeset.Code{Code: code}
			var attrs string
			err := lookup.QueryRowContext(ctx, code).Scan(&c.Category, &c.Short, &c.Medium, &c.Long, &c.Status, &attrs)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if c.Attrs, err = snapshot.DecodeAttrs(attrs); err != nil {
				return nil, fmt.Errorf("code %s: bad attributes: %w", code, err)
			}
			m[code] = c
		}
		return m, nil
	}
	l, err := snapshot.Compare(ctx, prevSnap, snap.Path, lastSeen)
	if err != nil {
		return err
	}
	info, err := snapshot.ReadInfo(ctx, snap.Path)
	if err != nil {
		return err
	}
	if err := lookup.Close(); err != nil {
		return err
	}

	if err := exec(`BEGIN IMMEDIATE`); err != nil {
		return err
	}
	defer exec(`ROLLBACK`)
	if err := exec(Schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	if err := exec(fmt.Sprintf("PRAGMA main.application_id = %d; PRAGMA main.user_version = %d", applicationID, snapshot.SchemaVersion)); err != nil {
		return err
	}
	if err := exec(`
CREATE TEMP TABLE new_events (code TEXT, seq INTEGER, release TEXT, change TEXT, field TEXT, before TEXT, after TEXT);
CREATE TEMP TABLE new_codes (code TEXT PRIMARY KEY, gone INTEGER, category TEXT, short TEXT, medium TEXT, long TEXT, status TEXT, attributes TEXT);
CREATE TEMP TABLE new_replacements (old TEXT, new TEXT, seq INTEGER, release TEXT, source TEXT, effective TEXT, how TEXT, PRIMARY KEY (old, new, seq, source));
CREATE TEMP TABLE new_problems (n INTEGER PRIMARY KEY, code TEXT, seq INTEGER, release TEXT, problem TEXT, other TEXT, source TEXT, reason TEXT);
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
	// Every table is filled in key order, from the history before and the
	// changes of this release, into a new file: its pages depend only on
	// the rows.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO main.releases (seq, label, effective, codes, snapshot)
			SELECT seq, label, effective, codes, snapshot FROM old.releases
			UNION ALL SELECT ?, ?, ?, ?, ?
			ORDER BY 1`, []any{seq, info.Label, eff, info.Codes, snap.SHA256}},
		{`INSERT INTO main.events (code, seq, release, change, field, before, after)
			SELECT code, seq, release, change, field, before, after FROM old.events
			UNION ALL SELECT code, seq, release, change, field, before, after FROM temp.new_events
			ORDER BY 1, 2, 5`, nil},
		{`INSERT INTO main.replacements (old, new, seq, release, source, effective, how)
			SELECT old, new, seq, release, source, effective, how FROM old.replacements
			UNION ALL SELECT old, new, seq, release, source, effective, how FROM temp.new_replacements
			ORDER BY 1, 2, 3, 5`, nil},
		// replacement_problems has no key: its rows keep the order in
		// which each release reported them, release by release.
		{`INSERT INTO main.replacement_problems (code, seq, release, problem, other, source, reason)
			SELECT code, seq, release, problem, other, source, reason FROM (
				SELECT 0 AS part, rowid AS n, code, seq, release, problem, other, source, reason FROM old.replacement_problems
				UNION ALL SELECT 1, n, code, seq, release, problem, other, source, reason FROM temp.new_problems
			) ORDER BY part, n`, nil},
		{`INSERT INTO main.codes (id, code, first_release, last_release, category, short, medium, long, status, attributes)
			SELECT row_number() OVER (ORDER BY code), code, first_release, last_release, category, short, medium, long, status, attributes FROM (
				SELECT o.code AS code, o.first_release AS first_release,
					CASE WHEN n.code IS NULL THEN (CASE WHEN o.last_release = ?1 THEN ?2 ELSE o.last_release END)
						WHEN n.gone THEN o.last_release ELSE ?2 END AS last_release,
					CASE WHEN n.code IS NULL OR n.gone THEN o.category ELSE n.category END AS category,
					CASE WHEN n.code IS NULL OR n.gone THEN o.short ELSE n.short END AS short,
					CASE WHEN n.code IS NULL OR n.gone THEN o.medium ELSE n.medium END AS medium,
					CASE WHEN n.code IS NULL OR n.gone THEN o.long ELSE n.long END AS long,
					CASE WHEN n.code IS NULL OR n.gone THEN o.status ELSE n.status END AS status,
					CASE WHEN n.code IS NULL OR n.gone THEN o.attributes ELSE n.attributes END AS attributes
				FROM old.codes o LEFT JOIN temp.new_codes n ON n.code = o.code
				UNION ALL
				SELECT n.code, ?2, ?2, n.category, n.short, n.medium, n.long, n.status, n.attributes
				FROM temp.new_codes n WHERE NOT n.gone AND n.code NOT IN (SELECT code FROM old.codes)
			) ORDER BY code`, []any{prevLabel, info.Label}},
		{`INSERT INTO search(search) VALUES ('rebuild')`, nil},
	} {
		if err := exec(q.sql, q.args...); err != nil {
			return err
		}
	}
	if err := exec(`COMMIT`); err != nil {
		return err
	}
	if err := conn.Close(); err != nil {
		return err
	}
	return db.Close()
}

// addLinks fills temp.new_replacements and temp.new_problems with the
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
		if _, err := conn.ExecContext(ctx, `INSERT OR IGNORE INTO temp.new_replacements (old, new, seq, release, source, effective, how) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			r.Old, r.New, seq, l.To, r.Source, eff, string(r.How)); err != nil {
			return fmt.Errorf("replacement %s -> %s: %w", r.Old, r.New, err)
		}
	}
	n := 0
	for _, p := range l.LinkProblems {
		if p.Kind == codeset.NoReplacement {
			continue
		}
		n++
		if _, err := conn.ExecContext(ctx, `INSERT INTO temp.new_problems (n, code, seq, release, problem, other, source, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			n, p.Code, seq, l.To, string(p.Kind), p.Other, p.Source, p.Reason); err != nil {
			return fmt.Errorf("replacement problem of %s: %w", p.Code, err)
		}
	}
	return nil
}

// addChanges fills temp.new_events and temp.new_codes with the changes of
// l, the release numbered seq.
func addChanges(ctx context.Context, conn *sql.Conn, l *codeset.Changelog, seq int) error {
	insEvent, err := conn.PrepareContext(ctx, `INSERT INTO temp.new_events (code, seq, release, change, field, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insEvent.Close()
	insCode, err := conn.PrepareContext(ctx, `INSERT INTO temp.new_codes (code, gone, category, short, medium, long, status, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insCode.Close()
	watched := ctx
	ctx = dbfile.Unwatched(ctx)
	for i, c := range l.Changes {
		if i%4096 == 0 && watched.Err() != nil {
			return watched.Err()
		}
		if len(c.Fields) == 0 {
			if _, err := insEvent.ExecContext(ctx, c.Code, seq, l.To, string(c.Kind), "", "", ""); err != nil {
				return fmt.Errorf("code %s: %w", c.Code, err)
			}
		}
		for _, f := range slices.Sorted(maps.Keys(c.Fields)) {
			fc := c.Fields[f]
			if _, err := insEvent.ExecContext(ctx, c.Code, seq, l.To, string(c.Kind), f, fc.Before, fc.After); err != nil {
				return fmt.Errorf("code %s: %w", c.Code, err)
			}
		}
		r := c.Record
		attrs, err := snapshot.EncodeAttrs(r.Attrs)
		if err != nil {
			return fmt.Errorf("code %s: %w", c.Code, err)
		}
		if _, err := insCode.ExecContext(ctx, c.Code, c.Kind == codeset.Deleted, r.Category, r.Short, r.Medium, r.Long, r.Status, attrs); err != nil {
			return fmt.Errorf("code %s: %w", c.Code, err)
		}
	}
	return nil
}
