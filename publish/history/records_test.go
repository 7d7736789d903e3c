package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/snapshot"
)

// recordBeforeOne is the lookup LastSeenBefore made before it asked for
// all codes at once: two queries per code. It stays here as the
// reference the batched lookup must agree with.
func recordBeforeOne(ctx context.Context, db *sql.DB, code string, seq int) (codeset.Code, bool, error) {
	c := codeset.Code{Code: code}
	var attrs string
	var first int
	err := db.QueryRowContext(ctx, `SELECT r.seq, c.category, c.short, c.medium, c.long, c.status, c.attributes
		FROM codes c JOIN releases r ON r.label = c.first_release WHERE c.code = ?`, code).
		Scan(&first, &c.Category, &c.Short, &c.Medium, &c.Long, &c.Status, &attrs)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	if first > seq {
		return c, false, nil
	}
	if c.Attrs, err = snapshot.DecodeAttrs(attrs); err != nil {
		return c, false, err
	}
	rows, err := db.QueryContext(ctx, `SELECT field, before FROM events WHERE code = ? AND seq > ? AND field != '' ORDER BY seq DESC`, code, seq)
	if err != nil {
		return c, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var field, before string
		if err := rows.Scan(&field, &before); err != nil {
			return c, false, err
		}
		setField(&c, field, before)
	}
	if len(c.Attrs) == 0 {
		c.Attrs = nil
	}
	return c, true, rows.Err()
}

// attrSeries is a synthetic series whose records also change status and
// attributes (added, changed, removed) from release to release, so that
// undoing later changes touches every kind of field.
func attrSeries(seed uint64, n, count int) []*codeset.Release {
	rels := synth.Series(seed, n, count)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, r := range rels[1:] {
		for i := range r.Codes {
			c := &r.Codes[i]
			switch rng.IntN(40) {
			case 0:
				c.Attrs = map[string]string{"billable": fmt.Sprint(rng.IntN(2))}
			case 1:
				c.Attrs = map[string]string{"billable": "1", "sex": "F"}
			case 2:
				c.Status = "inactive"
			case 3:
				c.Short = fmt.Sprintf("short %d", rng.IntN(3))
			}
		}
	}
	return rels
}

// TestLastSeenBatchedEqualsPerCode checks that the batched lookup of
// LastSeenBefore answers, for random sets of codes (seen in various
// releases, first seen later, never seen) and every release of a
// history, exactly what looking the codes up one at a time answers.
func TestLastSeenBatchedEqualsPerCode(t *testing.T) {
	ctx := context.Background()
	rels := attrSeries(5, 1500, 7)
	snaps := writeSeries(t, rels)
	path := filepath.Join(t.TempDir(), "history.sqlite")
	if err := Update(ctx, path, "", snaps); err != nil {
		t.Fatal(err)
	}
	recs, err := OpenRecords(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer recs.Close()
	seen := map[string]bool{}
	for _, r := range rels {
		for _, c := range r.Codes {
			seen[c.Code] = true
		}
	}
	all := slices.Sorted(func(yield func(string) bool) {
		for c := range seen {
			if !yield(c) {
				return
			}
		}
	})
	all = append(all, "Z99ZZZZ", "A00", "")
	rng := rand.New(rand.NewPCG(1, 2))
	undone, attrsFound := 0, 0
	for trial := range 40 {
		seq := 1 + rng.IntN(len(rels))
		var codes []string
		for _, c := range all {
			if rng.IntN(8) == 0 {
				codes = append(codes, c)
			}
		}
		if trial == 0 {
			codes = nil
		}
		got, err := recs.LastSeenBefore(seq)(ctx, codes)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]codeset.Code{}
		for _, code := range codes {
			c, ok, err := recordBeforeOne(ctx, recs.db, code, seq)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				want[code] = c
				if c.Attrs != nil {
					attrsFound++
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			for code, w := range want {
				if g, ok := got[code]; !ok || !reflect.DeepEqual(g, w) {
					t.Errorf("seq %d, code %s: batched %+v (found %v), one at a time %+v", seq, code, g, ok, w)
				}
			}
			for code := range got {
				if _, ok := want[code]; !ok {
					t.Errorf("seq %d, code %s: batched finds it, one at a time does not", seq, code)
				}
			}
			t.FailNow()
		}
		// The answer for the last release is the record as it stands;
		// for earlier ones some records must have had changes undone.
		for code, c := range got {
			if cur, ok, _ := recordBeforeOne(ctx, recs.db, code, len(rels)); ok && !reflect.DeepEqual(cur, c) {
				undone++
			}
		}
	}
	if undone == 0 || attrsFound == 0 {
		t.Fatalf("the random cases undid %d changes and found %d records with attributes: the test checks too little", undone, attrsFound)
	}
}

// BenchmarkLastSeen times the reactivation lookup of a run: the records
// of 1,000 codes (some seen, some new) as they were in the next-to-last
// release of a history of 10 releases of 20,000 codes, asked at once
// (Batched, what LastSeenBefore does) and one code at a time (PerCode,
// what it did).
func BenchmarkLastSeen(b *testing.B) {
	ctx := context.Background()
	rels := attrSeries(9, 20_000, 10)
	snaps := writeSeries(b, rels)
	path := filepath.Join(b.TempDir(), "history.sqlite")
	if err := Update(ctx, path, "", snaps); err != nil {
		b.Fatal(err)
	}
	recs, err := OpenRecords(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer recs.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	var codes []string
	for range 1000 {
		r := rels[rng.IntN(len(rels))]
		codes = append(codes, r.Codes[rng.IntN(len(r.Codes))].Code)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	seq := len(rels) - 1
	b.Run("Batched", func(b *testing.B) {
		for b.Loop() {
			if _, err := recs.LastSeenBefore(seq)(ctx, codes); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PerCode", func(b *testing.B) {
		for b.Loop() {
			for _, code := range codes {
				if _, _, err := recordBeforeOne(ctx, recs.db, code, seq); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
