package history

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/snapshot"
)

// stepCache is the page cache of the connection that adds a first release
// (PRAGMA cache_size, in KiB when negative). With modernc.org/sqlite each
// cached page is an allocation of the C heap, outside the Go heap's soft
// limit and never given back before the process ends: a first release of a
// million codes peaked at 386-397 MiB with 32 MiB of cache and at 356-357
// MiB with 8, in the same time (2026-12-03, two runs each; at SQLite's
// default 2 MB, 358-359 MiB and some 0.5 s slower).
var stepCache = `PRAGMA cache_size = -8192`

// genericFirst makes step add a first release as it adds any other, by
// comparing it with nothing and applying the changes (the test of first
// sets it to compare the two).
var genericFirst = false

// first adds to the empty history open on conn the first release, snap,
// without going through a comparison: every code of a first release is
// added, with no replacement links, reconciliation or flags that the
// history keeps, so its events, records and full-text entries are copied
// from the snapshot in SQL (attached read-only). The statements write the
// same rows in the same order as apply does for a first release (events in
// code order, the release, records in code order with ids from 1, then the
// full-text entries by id), so the file is the same bytes; a history of a
// million codes is built in a few seconds rather than a million round
// trips through database/sql for each table.
func first(ctx context.Context, conn *sql.Conn, snap Snapshot) error {
	info, err := snapshot.ReadInfo(ctx, snap.Path)
	if err != nil {
		return err
	}
	sum, err := snap.sha256()
	if err != nil {
		return err
	}
	exec := func(q string, args ...any) error {
		_, err := conn.ExecContext(ctx, q, args...)
		return err
	}
	// A bigger page cache than SQLite's 2 MB default: a first release of
	// a million codes writes hundreds of megabytes of rows and index,
	// and with the default most pages are spilled and read back. The
	// cache changes how often pages are written, not what the file holds,
	// because the connection zeroes the pages the full-text index frees
	// (see step): without that, a freed page would keep whatever it last
	// held on disk, if it was ever written there.
	if err := exec(stepCache); err != nil {
		return err
	}
	// ATTACH cannot run inside a transaction.
	if err := exec(`ATTACH DATABASE ? AS snap`, dbfile.DSN(snap.Path, "mode=ro&immutable=1")); err != nil {
		return fmt.Errorf("attach %s: %w", snap.Path, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE snap`)
	if err := exec(`BEGIN IMMEDIATE`); err != nil {
		return err
	}
	defer exec(`ROLLBACK`)
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM releases) + (SELECT count(*) FROM records)`).Scan(&n); err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("history is not empty, cannot add a first release")
	}
	eff := ""
	if !info.Effective.IsZero() {
		eff = info.Effective.Format(codeset.DateLayout)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO main.events (code, seq, release, change, field, before, after)
			SELECT code, 1, ?, ?, '', '', '' FROM snap.codes ORDER BY code`, []any{info.Label, string(codeset.Added)}},
		{`INSERT INTO releases (seq, label, effective, codes, snapshot, first_id) VALUES (1, ?, ?, ?, ?, 1)`,
			[]any{info.Label, eff, info.Codes, sum}},
		// Into an empty table the ids SQLite gives are 1, 2, ... in the
		// order of insertion, code order: what apply numbers with
		// row_number(), without the window's copy of every row.
		{`INSERT INTO records (code, first_seq, last_seq, category, short, medium, long, status, attributes)
			SELECT code, 1, 0, category, short, medium, long, status, attributes
			FROM snap.codes ORDER BY code`, nil},
		{`INSERT INTO search (rowid, short, medium, long) SELECT id, short, medium, long FROM records ORDER BY id`, nil},
	} {
		if err := exec(q.sql, q.args...); err != nil {
			return err
		}
	}
	return exec(`COMMIT`)
}
