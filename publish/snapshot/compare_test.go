package snapshot

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestCompareOddCodes checks that rows whose codes are not valid UTF-8
// (a custom profile may let such codes in) are fetched like any other:
// the list of codes cannot travel as JSON then.
func TestCompareOddCodes(t *testing.T) {
	ctx := context.Background()
	old := synth.Series(5, 300, 1)[0]
	old.Codes = append(old.Codes, codeset.Code{Code: "Z\xe9", Long: "Latin-1 code"}, codeset.Code{Code: "Z\xff", Long: "gone"})
	slices.SortFunc(old.Codes, func(a, b codeset.Code) int { return strings.Compare(a.Code, b.Code) })
	rel := *old
	rel.Label = "next"
	rel.Codes = slices.Clone(old.Codes)
	rel.Codes = slices.DeleteFunc(rel.Codes, func(c codeset.Code) bool { return c.Code == "Z\xff" })
	for i := range rel.Codes {
		if rel.Codes[i].Code == "Z\xe9" {
			rel.Codes[i].Long = "Latin-1 code, revised"
		}
	}
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.sqlite"), filepath.Join(dir, "b.sqlite")
	if err := Write(ctx, a, old); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, b, &rel); err != nil {
		t.Fatal(err)
	}
	stored, err := Read(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	storedNew, err := Read(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	want := diff.Compare(stored, storedNew, nil)
	got, err := Compare(ctx, a, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compare: got %+v, want %+v", got.Summary, want.Summary)
	}
	if want.Summary.Revised != 1 || want.Summary.Deleted != 1 {
		t.Errorf("want one revised and one deleted code, got %+v: the test checks nothing", want.Summary)
	}
}

// TestCompareAcrossLinksAndCounts checks that the streaming comparison
// gives what diff.CompareAcross gives of the whole releases when the newer
// release carries replacement links (single codes, ranges, categories,
// codes in neither release, links out of its window) and the publisher's
// totals, and when releases in between declare changes: the codes these
// name are looked up by key, not read with the whole releases.
func TestCompareAcrossLinksAndCounts(t *testing.T) {
	ctx := context.Background()
	rels := synth.Series(11, 4000, 4)
	old, mid, last := rels[0], rels[1:3], rels[3]
	whole := diff.Compare(old, last, nil)
	var deleted, added []string
	for _, c := range whole.Changes {
		switch c.Kind {
		case codeset.Deleted:
			deleted = append(deleted, c.Code)
		case codeset.Added:
			added = append(added, c.Code)
		}
	}
	if len(deleted) < 8 || len(added) < 8 {
		t.Fatalf("%d deleted, %d added: too few to link", len(deleted), len(added))
	}
	at := func(y int) time.Time { return time.Date(y, 6, 1, 0, 0, 0, 0, time.UTC) }
	link := func(o, ot, n, nt string, eff time.Time) codeset.Replacement {
		return codeset.Replacement{Old: o, OldThrough: ot, New: n, NewThrough: nt, Source: "table.xlsx", Effective: eff, How: codeset.StatedDirect}
	}
	inWindow := at(last.Effective.Year())
	last.Replacements = []codeset.Replacement{
		link(deleted[0], "", added[0], "", inWindow),
		link(deleted[1], "", added[1], "", time.Time{}),
		// A range of the new codes starting with a letter and digit.
		link(deleted[2], "", added[2][:3], added[2][:3], inWindow),
		// A category: every code starting with the deleted code's first
		// four characters.
		link(deleted[3][:4], deleted[3][:4], added[3], "", inWindow),
		// Codes in neither release, and a range that matches nothing.
		link(deleted[4], "", "Z99", "", inWindow),
		link("Z98", "", added[4], "", inWindow),
		link(deleted[5], "", "ZZ0", "ZZ9", inWindow),
		// Replaced by a code deleted in the same release.
		link(deleted[6], "", deleted[7], "", inWindow),
		// Out of the window: before the older release.
		link(deleted[7], "", added[5], "", old.Effective.AddDate(-1, 0, 0)),
	}
	// The publisher's totals, against a version never ingested, and lists
	// in the releases in between.
	last.Declared = &codeset.Declaration{Source: "addenda.txt", Counts: []codeset.DeclaredCounts{
		{Part: "codes", FromFile: "codes_april.txt", From: len(mid[1].Codes) + 3, ToFile: "codes.txt", To: len(last.Codes), Added: 1},
	}}
	for _, code := range added[:3] {
		last.Declared.Changes = append(last.Declared.Changes, codeset.DeclaredChange{Code: code, Kind: codeset.Added, Detail: "Add"})
	}
	mid[0].Declared = &codeset.Declaration{Source: "mid addenda"}
	for _, code := range []string{deleted[0], deleted[1], old.Codes[10].Code, "Z999999"} {
		mid[0].Declared.Changes = append(mid[0].Declared.Changes, codeset.DeclaredChange{Code: code, Kind: codeset.Deleted, Detail: "Delete"})
	}
	slices.SortFunc(mid[0].Declared.Changes, func(a, b codeset.DeclaredChange) int { return strings.Compare(a.Code, b.Code) })
	mid[0].Declared.Changes = slices.Compact(mid[0].Declared.Changes)

	dir := t.TempDir()
	paths := make([]string, len(rels))
	stored := make([]*codeset.Release, len(rels))
	for i, r := range rels {
		paths[i] = filepath.Join(dir, r.Label+".sqlite")
		if err := Write(ctx, paths[i], r); err != nil {
			t.Fatal(err)
		}
		var err error
		if stored[i], err = Read(ctx, paths[i]); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name    string
		between []int
	}{{"neighbours", nil}, {"across", []int{1, 2}}} {
		t.Run(tt.name, func(t *testing.T) {
			var between []*codeset.Release
			var betweenPaths []string
			for _, i := range tt.between {
				between = append(between, stored[i])
				betweenPaths = append(betweenPaths, paths[i])
			}
			want := diff.CompareAcross(stored[0], stored[3], nil, between)
			got, err := CompareAcross(ctx, paths[0], paths[3], betweenPaths, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("CompareAcross:\ngot  %+v\n%+v\n%+v\nwant %+v\n%+v\n%+v", got.Summary, got.Reconciliation, got.LinkProblems, want.Summary, want.Reconciliation, want.LinkProblems)
			}
			if len(want.Replacements) < 5 || len(want.LinkProblems) < 4 || want.Reconciliation == nil || len(want.Reconciliation.Disagreements) == 0 {
				t.Errorf("%d links, %d link problems, reconciliation %+v: the test checks too little", len(want.Replacements), len(want.LinkProblems), want.Reconciliation)
			}
			if tt.between == nil {
				gotMem, err := CompareRelease(ctx, paths[0], stored[3], nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gotMem, want) {
					t.Errorf("CompareRelease:\ngot  %+v\nwant %+v", gotMem.Summary, want.Summary)
				}
			}
		})
	}
}

// TestReaderParent checks that Parent finds what Record of each prefix,
// longest first, finds: the longest prefix held as a header and not as a
// code.
func TestReaderParent(t *testing.T) {
	ctx := context.Background()
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2030", Effective: time.Date(2029, 10, 1, 0, 0, 0, 0, time.UTC)}
	for _, c := range []string{"A000", "A001", "A0100", "A0101", "A011", "B20", "B201", "Z9999999999999999999"} {
		rel.Codes = append(rel.Codes, codeset.Code{Code: c, Short: "code " + c})
	}
	// A01 is both a code-less header and, through A011, a parent; B20 is
	// a code and a header (the code wins); Z99... is longer than one query
	// asks about.
	for _, h := range []string{"A00", "A01", "A010", "B2", "B20", "Z9", "Z999999999"} {
		rel.Headers = append(rel.Headers, codeset.Code{Code: h, Short: "header " + h})
	}
	path := filepath.Join(t.TempDir(), "s.sqlite")
	if err := Write(ctx, path, rel); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := map[string]string{"A000": "A00", "A001": "A00", "A0100": "A010", "A0101": "A010", "A011": "A01", "B20": "B2", "B201": "B2", "Z9999999999999999999": "Z999999999", "C10": "", "A0": ""}
	for code, parent := range want {
		got, err := r.Parent(ctx, code)
		if err != nil || got != parent {
			t.Errorf("Parent(%s) = %q, %v; want %q", code, got, err, parent)
		}
	}
}

func TestMerge(t *testing.T) {
	tests := []struct {
		lists [][]string
		want  []string
	}{
		{nil, nil},
		{[][]string{{"a", "c"}, nil, {"b", "c", "d"}}, []string{"a", "b", "c", "d"}},
		{[][]string{nil, {"b", "b"}, nil}, []string{"b"}},
		{[][]string{{"x"}, {"a", "x", "z"}, {"y"}}, []string{"a", "x", "y", "z"}},
		// A list out of order is sorted first.
		{[][]string{{"c", "a"}, {"b"}}, []string{"a", "b", "c"}},
	}
	for _, tt := range tests {
		if got := merge(tt.lists...); !slices.Equal(got, tt.want) {
			t.Errorf("merge(%q) = %q, want %q", tt.lists, got, tt.want)
		}
	}
}
