package history

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/internal/synth"
	"github.com/codeset/codeset/publish/snapshot"
)

// TestIndexMatchesReader: an Index answers Read as the Reader of the same
// history does, for every code any release had (added, revised, deleted,
// reactivated, ended, replaced along chains of links) and for unknown
// codes.
func TestIndexMatchesReader(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(7, 400, 5)
	rels[2].Codes[5].Status = codeset.StatusDiscontinued
	rels[4].Codes[7].Attrs = map[string]string{"billable": "1", "note": "<&>"}
	// Links from each deleted code to the first two codes each release
	// adds, so that chains run across releases.
	for k := 1; k < len(rels); k++ {
		have := map[string]bool{}
		for _, c := range rels[k-1].Codes {
			have[c.Code] = true
		}
		now := map[string]bool{}
		var added []string
		for _, c := range rels[k].Codes {
			now[c.Code] = true
			if !have[c.Code] && len(added) < 2 {
				added = append(added, c.Code)
			}
		}
		for _, c := range rels[k-1].Codes {
			if !now[c.Code] {
				for _, a := range added {
					rels[k].Replacements = append(rels[k].Replacements, codeset.Replacement{Old: c.Code, New: a, Source: "links.csv", How: codeset.StatedList})
				}
			}
		}
	}
	var paths []string
	all := map[string]bool{"": true, "Z": true, "NOPE": true}
	for _, s := range writeSeries(t, rels) {
		paths = append(paths, s.Path)
	}
	for _, r := range rels {
		for _, c := range r.Codes {
			all[c.Code] = true
		}
	}
	db := filepath.Join(t.TempDir(), "history.sqlite")
	if err := Build(ctx, db, paths); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	x, err := LoadIndex(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	linked, revised := 0, 0
	for code := range all {
		want, werr := r.Read(ctx, code)
		got, gerr := x.Read(code)
		if !reflect.DeepEqual(got, want) || (gerr == nil) != (werr == nil) || errors.Is(gerr, snapshot.ErrNoCode) != errors.Is(werr, snapshot.ErrNoCode) {
			t.Fatalf("Read(%q) = %+v, %v; the Reader says %+v, %v", code, got, gerr, want, werr)
		}
		if want != nil && len(want.ReplacedBy) > 0 {
			linked++
		}
		if want != nil && len(want.Events) > 1 {
			revised++
		}
	}
	// The test means something only if the series has both.
	if linked == 0 || revised == 0 {
		t.Fatalf("%d codes with links, %d with more than one event: want some of each", linked, revised)
	}
}
