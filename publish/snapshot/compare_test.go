package snapshot

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/internal/synth"
)

// lastSeenOf answers from the releases before the older one compared.
func lastSeenOf(rels []*codeset.Release) LastSeen {
	m := diff.Earlier(rels...)
	return func(_ context.Context, codes []string) (map[string]codeset.Code, error) {
		out := map[string]codeset.Code{}
		for _, c := range codes {
			if r, ok := m[c]; ok {
				out[c] = r
			}
		}
		return out, nil
	}
}

// TestCompareMatchesDiff checks that the streaming comparison of stored
// snapshots, and of a stored snapshot with a release in memory, gives the
// changelog diff.Compare gives for the whole releases.
func TestCompareMatchesDiff(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(7, 3000, 6)
	// The last release declares some changes, right and wrong, and one
	// code it does not hold.
	last := rels[len(rels)-1]
	last.Declared = &codeset.Declaration{Source: "test addenda"}
	for i, c := range last.Codes[:40] {
		kind := []codeset.ChangeKind{codeset.Added, codeset.Revised, codeset.Deleted}[i%3]
		last.Declared.Changes = append(last.Declared.Changes, codeset.DeclaredChange{Code: c.Code, Kind: kind, Detail: string(kind)})
	}
	last.Declared.Changes = append(last.Declared.Changes, codeset.DeclaredChange{Code: "Z999999", Kind: codeset.Deleted, Detail: "Delete"})
	// Attributes and a discontinuation in the fourth release.
	rels[3].Codes[5].Attrs = map[string]string{"billable": "1", "note": "é \"x\""}
	rels[3].Codes[6].Status = codeset.StatusDiscontinued

	dir := t.TempDir()
	paths := make([]string, len(rels))
	for i, r := range rels {
		paths[i] = filepath.Join(dir, r.Label+".sqlite")
		if err := Write(ctx, paths[i], r); err != nil {
			t.Fatal(err)
		}
	}
	reactivated := 0
	t.Cleanup(func() {
		if reactivated == 0 {
			t.Errorf("no release reactivates a code: the test checks no reactivation")
		}
	})
	for i := range rels {
		t.Run(fmt.Sprint(rels[i].Label), func(t *testing.T) {
			var want *codeset.Changelog
			var oldPath string
			var seen LastSeen
			if i == 0 {
				want = diff.Compare(nil, rels[0], nil)
			} else {
				old, err := Read(ctx, paths[i-1])
				if err != nil {
					t.Fatal(err)
				}
				want = diff.Compare(old, rels[i], diff.Earlier(rels[:i-1]...))
				oldPath = paths[i-1]
				seen = lastSeenOf(rels[:i-1])
			}
			got, err := Compare(ctx, oldPath, paths[i], seen)
			if err != nil {
				t.Fatal(err)
			}
			// The stored release is what the comparison sees.
			stored, err := Read(ctx, paths[i])
			if err != nil {
				t.Fatal(err)
			}
			if i > 0 {
				old, _ := Read(ctx, paths[i-1])
				want = diff.Compare(old, stored, diff.Earlier(rels[:i-1]...))
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Compare:\ngot  %+v\nwant %+v", got.Summary, want.Summary)
			}
			gotMem, err := CompareRelease(ctx, oldPath, stored, seen)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(gotMem, want) {
				t.Errorf("CompareRelease:\ngot  %+v\nwant %+v", gotMem.Summary, want.Summary)
			}
			reactivated += want.Summary.Reactivated
			if i == len(rels)-1 && want.Reconciliation == nil {
				t.Errorf("no reconciliation: the test checks none")
			}
			if i > 0 && want.Summary.Unchanged == 0 {
				t.Errorf("nothing unchanged: the test compares nothing")
			}
		})
	}
}

// TestCompareUnchanged compares a snapshot with an identical one: nothing
// differs and nothing is decoded.
func TestCompareUnchanged(t *testing.T) {
	ctx := context.Background()
	rel := synth.Series(3, 500, 1)[0]
	a, b := filepath.Join(t.TempDir(), "a.sqlite"), filepath.Join(t.TempDir(), "b.sqlite")
	for _, p := range []string{a, b} {
		if err := Write(ctx, p, rel); err != nil {
			t.Fatal(err)
		}
	}
	l, err := Compare(ctx, a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Changes) != 0 || l.Summary.Unchanged != 500 {
		t.Errorf("Compare of equal snapshots: %d changes, summary %+v; want none, 500 unchanged", len(l.Changes), l.Summary)
	}
}
