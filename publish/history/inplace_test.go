package history

import (
	"context"
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/dbfile"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestInPlaceRecords extends a history release by release, each step
// updating only the rows of the codes that changed, and checks the result
// against what every release says directly: each code ever seen has the
// first and last release that had it and the record of that last release,
// keeps the id it was given when first seen, and the full-text index
// agrees with the records (FTS5's own integrity check, which compares an
// external-content index with its table).
func TestInPlaceRecords(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(23, 1500, 7)
	rels[3].Codes[5].Attrs = map[string]string{"billable": "1"}
	snaps := writeSeries(t, rels)
	dir := t.TempDir()
	prev := ""
	ids := map[string]int64{}
	for k := 1; k <= len(snaps); k++ {
		cur := filepath.Join(dir, "h"+string(rune('0'+k))+".sqlite")
		if err := Update(ctx, cur, prev, snaps[:k]); err != nil {
			t.Fatal(err)
		}
		type want struct {
			first, last string
			rec         string
		}
		wants := map[string]want{}
		for _, r := range rels[:k] {
			for _, c := range r.Codes {
				w := wants[c.Code]
				if w.first == "" {
					w.first = r.Label
				}
				attrs, err := snapshot.EncodeAttrs(c.Attrs)
				if err != nil {
					t.Fatal(err)
				}
				w.last, w.rec = r.Label, c.Category+"|"+c.Short+"|"+c.Medium+"|"+c.Long+"|"+c.Status+"|"+attrs
				wants[c.Code] = w
			}
		}
		db, err := dbfile.Open(cur, "mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(ctx, `SELECT id, code, first_release, last_release, category || '|' || short || '|' || medium || '|' || long || '|' || status || '|' || attributes FROM codes`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var id int64
			var code, first, last, rec string
			if err := rows.Scan(&id, &code, &first, &last, &rec); err != nil {
				t.Fatal(err)
			}
			n++
			w, ok := wants[code]
			if !ok || w.first != first || w.last != last || w.rec != rec {
				t.Errorf("release %d: %s is %s..%s %q, want %+v", k, code, first, last, rec, w)
			}
			if old, seen := ids[code]; seen && old != id {
				t.Errorf("release %d: %s changed id %d -> %d", k, code, old, id)
			}
			ids[code] = id
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if n != len(wants) {
			t.Errorf("release %d: %d codes, want %d", k, n, len(wants))
		}
		db.Close()
		// Introduced: the codes first seen after the oldest release, with
		// the effective date of the release that brought them.
		intro, err := Introduced(ctx, cur)
		if err != nil {
			t.Fatal(err)
		}
		wantIntro := map[string]string{}
		for _, r := range rels[1:k] {
			for _, c := range r.Codes {
				if wants[c.Code].first == r.Label && !r.Effective.IsZero() {
					wantIntro[c.Code] = r.Effective.Format(codeset.DateLayout)
				}
			}
		}
		if !maps.Equal(intro, wantIntro) {
			t.Errorf("release %d: Introduced gives %d codes, want %d", k, len(intro), len(wantIntro))
		}
		if k > 1 && len(wantIntro) == 0 {
			t.Errorf("release %d: no code introduced: the check checks nothing", k)
		}
		// integrity-check writes nothing but needs a writable handle.
		check := filepath.Join(dir, "check.sqlite")
		os.Remove(check)
		if err := copyFile(check, cur); err != nil {
			t.Fatal(err)
		}
		cdb, err := sql.Open("sqlite", dbfile.DSN(check, ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cdb.ExecContext(ctx, `INSERT INTO search(search, rank) VALUES ('integrity-check', 1)`); err != nil {
			t.Errorf("release %d: full-text index: %v", k, err)
		}
		cdb.Close()
		prev = cur
	}
}

// TestOldHistoryRebuilt: a history without the records table (written
// before codes kept their rows) cannot be extended in place, so Update
// builds the history from scratch, the same bytes as Build.
func TestOldHistoryRebuilt(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(5, 300, 3)
	snaps := writeSeries(t, rels)
	dir := t.TempDir()
	old := filepath.Join(dir, "old.sqlite")
	if err := Update(ctx, old, "", snaps[:2]); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbfile.DSN(old, ""))
	if err != nil {
		t.Fatal(err)
	}
	// The codes table as it was: the view's rows, stored.
	if _, err := db.ExecContext(ctx, `CREATE TABLE old_codes AS SELECT * FROM codes;
		DROP TABLE search; DROP VIEW codes; DROP TABLE records; ALTER TABLE old_codes RENAME TO codes`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// Read as it is until the next publish rebuilds it.
	cur := filepath.Join(dir, "cur.sqlite")
	if err := Update(ctx, cur, "", snaps[:2]); err != nil {
		t.Fatal(err)
	}
	a, err := Introduced(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Introduced(ctx, cur)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(a, b) || len(a) == 0 {
		t.Errorf("Introduced of the old history: %d codes, of the new: %d", len(a), len(b))
	}
	if Covers(ctx, old, snaps[:2]) {
		t.Error("a history without records covers its releases")
	}
	got := filepath.Join(dir, "got.sqlite")
	if err := Update(ctx, got, old, snaps); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "want.sqlite")
	var paths []string
	for _, s := range snaps {
		paths = append(paths, s.Path)
	}
	if err := Build(ctx, want, paths); err != nil {
		t.Fatal(err)
	}
	ga, _ := os.ReadFile(got)
	wb, _ := os.ReadFile(want)
	if len(ga) == 0 || string(ga) != string(wb) {
		t.Errorf("updating an old history gave %d bytes, not the %d of a history built from scratch", len(ga), len(wb))
	}
}
