package diff

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/codeset/codeset"
)

func fy(y int) time.Time { return time.Date(y-1, 10, 1, 0, 0, 0, 0, time.UTC) }

// cmRel is an ICD-10-CM release of fiscal year y with the given codes.
func cmRel(y int, codes ...string) *codeset.Release {
	r := &codeset.Release{System: codeset.ICD10CM, Label: "FY" + time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006"), Effective: fy(y)}
	codes = slices.Sorted(slices.Values(codes))
	for _, c := range codes {
		r.Codes = append(r.Codes, dx(c, "Test condition "+c))
	}
	return r
}

func link(old, new string, how codeset.Stated, eff time.Time) codeset.Replacement {
	return codeset.Replacement{Old: old, New: new, Source: "table.xlsx", Effective: eff, How: how}
}

func rangeLink(first, last, new string, eff time.Time) codeset.Replacement {
	return codeset.Replacement{Old: first, OldThrough: last, New: new, Source: "table.xlsx", Effective: eff, How: codeset.StatedRange}
}

func TestLink(t *testing.T) {
	type links struct{ replacedBy, replaces []string }
	tests := []struct {
		name     string
		old, new *codeset.Release
		links    []codeset.Replacement
		want     map[string]links // by changed code
		used     int              // links of the transition
		problems []codeset.LinkProblem
	}{
		{
			name:  "direct and list",
			old:   cmRel(2030, "A0100", "A0101", "B2000"),
			new:   cmRel(2031, "A0102", "A0103", "B2000"),
			links: []codeset.Replacement{link("A0100", "A0102", codeset.StatedDirect, fy(2031)), link("A0101", "A0103", codeset.StatedList, fy(2031)), link("B2000", "A0103", codeset.StatedList, fy(2031))},
			want: map[string]links{
				"A0100": {replacedBy: []string{"A0102"}},
				"A0101": {replacedBy: []string{"A0103"}},
				"A0102": {replaces: []string{"A0100"}},
				"A0103": {replaces: []string{"A0101", "B2000"}},
			},
			used: 3,
		},
		{
			name:  "range expanded against both releases",
			old:   cmRel(2030, "H02101", "H02102", "H02103", "H02109", "H0211"),
			new:   cmRel(2031, "H02103", "H02151", "H0211"),
			links: []codeset.Replacement{rangeLink("H02101", "H02106", "H02151", fy(2031)), link("H02109", "H02151", codeset.StatedList, fy(2031))},
			want: map[string]links{
				"H02101": {replacedBy: []string{"H02151"}},
				"H02102": {replacedBy: []string{"H02151"}},
				"H02109": {replacedBy: []string{"H02151"}},
				"H02151": {replaces: []string{"H02101", "H02102", "H02103", "H02109"}},
			},
			used: 4,
		},
		{
			name:  "category range covers the codes below its last code",
			old:   cmRel(2030, "T150XXA", "T1690XA", "T198XXA", "T200XXA"),
			new:   cmRel(2031, "T150XXA", "T1690XA", "T198XXA", "T200XXA", "W44A0XA"),
			links: []codeset.Replacement{rangeLink("T15", "T19", "W44A0XA", fy(2031))},
			want:  map[string]links{"W44A0XA": {replaces: []string{"T150XXA", "T1690XA", "T198XXA"}}},
			used:  3,
		},
		{
			name:  "deleted with no replacement",
			old:   cmRel(2030, "A0100", "A0101"),
			new:   cmRel(2031, "A0100"),
			links: []codeset.Replacement{link("Z9990", "Z9991", codeset.StatedDirect, fy(2031))},
			want:  map[string]links{"A0101": {}},
			problems: []codeset.LinkProblem{
				{Code: "A0101", Kind: codeset.NoReplacement, Reason: "deleted, and the publisher names no replacement"},
			},
		},
		{
			name:  "link to a code in neither release",
			old:   cmRel(2030, "A0100"),
			new:   cmRel(2031, "A0102"),
			links: []codeset.Replacement{link("A0100", "A0102", codeset.StatedList, fy(2031)), link("A0100", "A0199", codeset.StatedList, fy(2031))},
			want: map[string]links{
				"A0100": {replacedBy: []string{"A0102", "A0199"}},
				"A0102": {replaces: []string{"A0100"}},
			},
			used: 2,
			problems: []codeset.LinkProblem{
				{Code: "A0100", Kind: codeset.UnknownCode, Other: "A0199", Source: "table.xlsx", Reason: "named as replaced by A0199, which is in neither release"},
			},
		},
		{
			name:  "a category named as a code",
			old:   cmRel(2030, "H3320", "H3321", "H332A"),
			new:   cmRel(2031, "H3320", "H3321", "H442C1"),
			links: []codeset.Replacement{link("H332", "H442C1", codeset.StatedList, fy(2031)), link("H332A", "H442C1", codeset.StatedList, fy(2031))},
			want: map[string]links{
				"H332A":  {replacedBy: []string{"H442C1"}},
				"H442C1": {replaces: []string{"H332", "H332A"}},
			},
			used: 2,
			problems: []codeset.LinkProblem{
				{Code: "H442C1", Kind: codeset.UnknownCode, Other: "H332", Source: "table.xlsx", Reason: "named as replacing H332, which is in neither release: a category, not a code, of 3 codes H3320 to H332A"},
			},
		},
		{
			name:  "replacement deleted in the same release",
			old:   cmRel(2030, "A0100", "A0101", "A0102"),
			new:   cmRel(2031, "A0102"),
			links: []codeset.Replacement{link("A0100", "A0101", codeset.StatedDirect, time.Time{}), link("A0101", "A0102", codeset.StatedDirect, time.Time{})},
			want: map[string]links{
				"A0100": {replacedBy: []string{"A0101"}},
				"A0101": {replacedBy: []string{"A0102"}},
			},
			used: 2,
			problems: []codeset.LinkProblem{
				{Code: "A0100", Kind: codeset.ReplacementDeleted, Other: "A0101", Source: "table.xlsx", Reason: "named as replaced by A0101, which is deleted in the same release"},
			},
		},
		{
			name: "a cumulative table's earlier rows are not this transition's",
			old:  cmRel(2030, "K3189", "R1115"),
			new:  cmRel(2031, "K3180", "R1115"),
			links: []codeset.Replacement{
				link("K3189", "R1115", codeset.StatedList, fy(2020)), // carved out years ago
				link("K3189", "K3180", codeset.StatedDirect, fy(2031)),
			},
			want: map[string]links{
				"K3189": {replacedBy: []string{"K3180"}},
				"K3180": {replaces: []string{"K3189"}},
			},
			used: 1,
		},
		{
			name:  "range matching nothing",
			old:   cmRel(2030, "A0100"),
			new:   cmRel(2031, "A0100", "B0100"),
			links: []codeset.Replacement{rangeLink("X0100", "X0199", "B0100", fy(2031))},
			want:  map[string]links{"B0100": {}},
			problems: []codeset.LinkProblem{
				{Code: "B0100", Kind: codeset.UnknownCode, Other: "X0100-X0199", Source: "table.xlsx", Reason: "replaces the range X0100-X0199, which matches no code of either release"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := Compare(tt.old, tt.new, nil)
			got := Link(l, tt.old, tt.new, tt.links)
			gotLinks := map[string]links{}
			for _, c := range got.Changes {
				gotLinks[c.Code] = links{c.ReplacedBy, c.Replaces}
			}
			if !reflect.DeepEqual(gotLinks, tt.want) {
				t.Errorf("links by change = %v, want %v", gotLinks, tt.want)
			}
			if len(got.Replacements) != tt.used {
				t.Errorf("%d links used, want %d: %+v", len(got.Replacements), tt.used, got.Replacements)
			}
			if !reflect.DeepEqual(got.LinkProblems, tt.problems) {
				t.Errorf("problems = %+v\nwant %+v", got.LinkProblems, tt.problems)
			}
			for _, c := range l.Changes {
				if c.ReplacedBy != nil || c.Replaces != nil {
					t.Fatalf("Link changed its input changelog: %+v", c)
				}
			}
		})
	}
}

func TestCompareLinksTheNewReleasesReplacements(t *testing.T) {
	old, new := cmRel(2030, "A0100"), cmRel(2031, "A0102")
	new.Replacements = []codeset.Replacement{link("A0100", "A0102", codeset.StatedDirect, fy(2031))}
	l := Compare(old, new, nil)
	if l.Replacements == nil || len(l.Changes) != 2 || !reflect.DeepEqual(l.Changes[0].ReplacedBy, []string{"A0102"}) {
		t.Errorf("Compare did not link: %+v", l)
	}
	if l := Compare(old, cmRel(2031, "A0102"), nil); l.Replacements != nil || l.LinkProblems != nil {
		t.Errorf("a release without links got links or problems: %+v", l)
	}
}

func TestSuccessors(t *testing.T) {
	links := []codeset.Replacement{
		{Old: "A", New: "B"}, {Old: "B", New: "C"}, {Old: "B", New: "D"},
		{Old: "D", New: "E"},                       // D is still valid: E was carved out of it
		{Old: "X", New: "Y"}, {Old: "Y", New: "X"}, // a cycle with no way out
		{Old: "P", New: "Q"},
	}
	valid := func(c string) bool { return c == "C" || c == "D" || c == "E" || c == "Q" }
	tests := []struct {
		code           string
		current, ended []string
	}{
		{"A", []string{"C", "D"}, nil},
		{"C", []string{"C"}, nil},
		{"X", nil, nil},
		{"P", []string{"Q"}, nil},
		{"Z", nil, []string{"Z"}},
	}
	for _, tt := range tests {
		cur, ended := Successors(tt.code, links, valid)
		if !reflect.DeepEqual(cur, tt.current) || !reflect.DeepEqual(ended, tt.ended) {
			t.Errorf("Successors(%s) = %v, %v; want %v, %v", tt.code, cur, ended, tt.current, tt.ended)
		}
	}
}

func TestExpand(t *testing.T) {
	r := cmRel(2030, "I6300", "I6301", "I639", "I640", "T150XXA")
	got := Expand([]codeset.Replacement{
		{Old: "I63", OldThrough: "I63", New: "P91821", How: codeset.StatedRange},
		{Old: "T15", OldThrough: "T19", New: "W44A0XA", How: codeset.StatedRange},
		{Old: "X00", OldThrough: "X01", New: "W44A0XA", How: codeset.StatedRange},
		{Old: "A0100", New: "A0102", How: codeset.StatedDirect},
	}, r)
	var pairs []string
	for _, l := range got {
		pairs = append(pairs, l.Old+">"+l.New+":"+string(l.How))
	}
	want := []string{"I6300>P91821:range", "I6301>P91821:range", "I639>P91821:range", "T150XXA>W44A0XA:range", "A0100>A0102:direct"}
	if !reflect.DeepEqual(pairs, want) {
		t.Errorf("Expand = %v, want %v", pairs, want)
	}
}
