package diff_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
	"github.com/codeset/codeset/ingest"
)

var hcpcsFiles = map[string]string{
	"2017": "hcpcs/2017/2017-Alpha-Numeric-HCPCS-File.zip",
	"2018": "hcpcs/2018/2018-Alpha-Numeric-HCPCS-File.zip",
	"2019": "hcpcs/2019/2019-Alpha-Numeric-HCPCS-File.zip",
	"2020": "hcpcs/2020/2020-Alpha-Numeric-HCPCS-File.zip",
}

func hcpcsRelease(t *testing.T, label string) *codeset.Release {
	return release(t, codeset.HCPCS, label, hcpcsFiles[label])
}

// checkCounts asserts that every code of new and every code of old is
// counted exactly once by the changelog.
func checkCounts(t *testing.T, old, new *codeset.Release, l *codeset.Changelog) {
	t.Helper()
	inOld := map[string]bool{}
	for _, c := range old.Codes {
		inOld[c.Code] = true
	}
	s := l.Summary
	// Every kind but deleted counts a code of the new release.
	newSide := s.Unchanged
	for _, k := range codeset.ChangeKinds {
		if k != codeset.Deleted {
			newSide += s.Count(k)
		}
	}
	oldSide := s.Deleted + s.Unchanged
	seen := map[string]int{}
	for _, c := range l.Changes {
		seen[c.Code]++
		if c.Kind != codeset.Deleted && inOld[c.Code] {
			oldSide++
		}
		if c.Kind == codeset.Added && inOld[c.Code] {
			t.Errorf("%s → %s: %s added but in the old release", old.Label, new.Label, c.Code)
		}
	}
	for code, n := range seen {
		if n != 1 {
			t.Errorf("%s → %s: %s counted %d times", old.Label, new.Label, code, n)
		}
	}
	if newSide != len(new.Codes) || oldSide != len(old.Codes) {
		t.Errorf("%s → %s: counts %+v cover %d new and %d old codes; want %d and %d", old.Label, new.Label, s, newSide, oldSide, len(new.Codes), len(old.Codes))
	}
}

func TestRealCountsAddUp(t *testing.T) {
	realdata(t)
	for _, p := range [][2]string{{"2017", "2018"}, {"2018", "2019"}, {"2019", "2020"}} {
		old, new := hcpcsRelease(t, p[0]), hcpcsRelease(t, p[1])
		checkCounts(t, old, new, diff.Compare(old, new, nil))
	}
	for _, p := range [][2]string{{"FY2017", "FY2018"}, {"FY2023", "2023-04"}, {"2023-04", "FY2024"}, {"FY2024", "FY2025"}, {"FY2025", "FY2026"}, {"FY2023", "FY2026"}} {
		old, new := cmRelease(t, p[0]), cmRelease(t, p[1])
		checkCounts(t, old, new, diff.Compare(old, new, nil))
	}
}

// New codes that arrive already ended are counted among the added, once,
// and flagged: 2018's file has 16 codes new since 2017 of which 14 carry a
// termination date (C9484-C9491 came in a 2017 quarterly update and end
// with 2017).
func TestRealAddedAlreadyDiscontinued(t *testing.T) {
	realdata(t)
	l := diff.Compare(hcpcsRelease(t, "2017"), hcpcsRelease(t, "2018"), nil)
	if l.Summary.Added != 168 || l.Summary.AddedDiscontinued != 14 {
		t.Errorf("2017 → 2018: added %d, %d already discontinued; want 168 (the codes present only in 2018), 14", l.Summary.Added, l.Summary.AddedDiscontinued)
	}
	for _, c := range l.Changes {
		if c.Code == "C9484" && (c.Kind != codeset.Added || !c.AlreadyDiscontinued || !strings.Contains(c.Note(), "already discontinued")) {
			t.Errorf("C9484: %s, already discontinued %v, note %q; want added, flagged", c.Kind, c.AlreadyDiscontinued, c.Note())
		}
	}
	if n := l.Summary.Notes(); len(n) == 0 || n[0] != "added 168, 14 of them already discontinued" {
		t.Errorf("notes %q", n)
	}
	// Declared D (the publisher ends them) agrees with added-and-ended.
	for _, d := range l.Reconciliation.Disagreements {
		if d.Code == "C9484" {
			t.Errorf("C9484 disagrees: %+v", d)
		}
	}
}

// HCPCS 2019 re-uses G9890 and G9891 (ACTION A) with a new meaning: 2018
// had them with other text.
func TestRealReused(t *testing.T) {
	realdata(t)
	l := diff.Compare(hcpcsRelease(t, "2018"), hcpcsRelease(t, "2019"), nil)
	got := map[string]codeset.Change{}
	for _, c := range l.Changes {
		got[c.Code] = c
	}
	for _, code := range []string{"G9890", "G9891"} {
		if c := got[code]; c.Kind != codeset.Revised || !c.Reused {
			t.Errorf("%s: %s, reused %v; want revised, reused", code, c.Kind, c.Reused)
		}
	}
	if l.Summary.Reused != 2 {
		t.Errorf("reused %d, want 2", l.Summary.Reused)
	}
	for _, d := range l.Reconciliation.Disagreements {
		if d.Code == "G9890" || d.Code == "G9891" {
			t.Errorf("%s disagrees: %+v", d.Code, d)
		}
	}
}

// A lifted termination date is a reactivation (the real files hold no
// ACTION R between the years kept; the shape is the 2017 R).
func TestLiftedTermination(t *testing.T) {
	old := &codeset.Release{System: codeset.HCPCS, Label: "2019", Codes: []codeset.Code{
		{Code: "Q1234", Long: "Thing", Status: codeset.StatusDiscontinued, Meta: codeset.MetaOf(map[string]string{"termination_date": "2019-12-31", "action": "D"})}}}
	new := &codeset.Release{System: codeset.HCPCS, Label: "2020", Codes: []codeset.Code{
		{Code: "Q1234", Long: "Thing", Meta: codeset.MetaOf(map[string]string{"action": "R"})}},
		Declared: &codeset.Declaration{Source: "ACTION CD", Changes: []codeset.DeclaredChange{{Code: "Q1234", Kind: codeset.Reactivated, Detail: "R"}}}}
	l := diff.Compare(old, new, nil)
	if len(l.Changes) != 1 || l.Changes[0].Kind != codeset.Reactivated || l.Summary.Reactivated != 1 {
		t.Fatalf("changes %+v, want one reactivated", l.Changes)
	}
	if r := l.Reconciliation; r.Agreed != 1 || len(r.Disagreements) != 0 {
		t.Errorf("reconciliation %+v, want R agreed", r)
	}
}

// A termination lifted without an R is not declared: old's own D for the
// code explains its end, not its return.
func TestLiftedTerminationUndeclared(t *testing.T) {
	old := &codeset.Release{System: codeset.HCPCS, Label: "2029", Codes: []codeset.Code{
		{Code: "K5005", Long: "Thing", Status: codeset.StatusDiscontinued, Meta: codeset.MetaOf(map[string]string{"termination_date": "2029-12-31", "action": "D"})}},
		Declared: &codeset.Declaration{Source: "ACTION CD", Changes: []codeset.DeclaredChange{{Code: "K5005", Kind: codeset.Discontinued, Detail: "D"}}}}
	new := &codeset.Release{System: codeset.HCPCS, Label: "2030", Codes: []codeset.Code{
		{Code: "K5005", Long: "Thing", Meta: codeset.MetaOf(map[string]string{"action": "N"})}},
		Declared: &codeset.Declaration{Source: "ACTION CD"}}
	l := diff.Compare(old, new, nil)
	d := l.Reconciliation.Disagreements
	if len(d) != 1 || d[0].Code != "K5005" || d[0].Explained || strings.Contains(d[0].Reason, "file lacks it") {
		t.Errorf("disagreements %+v; want K5005 reactivated, not declared, unexplained", d)
	}
}

// Every reason, on the real case that motivates it.
func TestRealReasons(t *testing.T) {
	realdata(t)
	type want struct {
		reason    string
		explained bool
	}
	tests := []struct {
		from, to string
		want     map[string]want
	}{
		{"2017", "2018", map[string]want{
			"C1842": {"ADD DT 2017-01-01 is when 2017 took effect", true},
			"G0477": {"TERM DT 2016-12-31 is before 2017 took effect", true},
			"G0480": {"ACT EFF DT moved 2016-01-01 → 2017-01-01", true},
			"G9226": {"whitespace-only", true},
			"E0210": {"revised, but not declared", false},
			"E0627": {"2017 declared C for it", false},
		}},
		{"2018", "2019", map[string]want{
			"QQ":    {"declared added by 2018 already (A)", true},
			"Q2041": {"ADD DT 2018-04-01: added by a quarterly update after 2018 took effect, then revised", true},
			"G9868": {"ADD DT 2018-01-01 is when 2018 took effect", true},
			"DA":    {"deleted without a discontinuation: not declared", false},
		}},
		{"2019", "2020", map[string]want{
			"Q2026": {"ACT EFF DT moved 2019-01-01 → 2020-01-01", true},
			// DA, missing from the 2019 file by error ("Removed in error -
			// add back to file", 2019's corrections), is back in 2020.
			"DA": {"added, but not declared", false},
		}},
	}
	for _, tt := range tests {
		l := diff.Compare(hcpcsRelease(t, tt.from), hcpcsRelease(t, tt.to), nil)
		got := map[string]codeset.Disagreement{}
		for _, d := range l.Reconciliation.Disagreements {
			got[d.Code] = d
			if strings.Contains(d.Reason, "quarterly") && !strings.Contains(d.Reason, "DT ") {
				t.Errorf("%s → %s %s: %q speaks of a quarterly update with no date of the record", tt.from, tt.to, d.Code, d.Reason)
			}
		}
		for code, w := range tt.want {
			d, ok := got[code]
			if !ok || !strings.Contains(d.Reason, w.reason) || d.Explained != w.explained {
				t.Errorf("%s → %s %s: %+v; want reason with %q, explained %v", tt.from, tt.to, code, d, w.reason, w.explained)
			}
		}
	}
	// ICD-10 reasons speak ICD: Y0745's whitespace fix, and no ACTION CD.
	l := diff.Compare(cmRelease(t, "2023-04"), cmRelease(t, "FY2024"), nil)
	for _, d := range l.Reconciliation.Disagreements {
		if strings.Contains(d.Reason, "ACTION") || strings.Contains(d.Reason, "discontinu") {
			t.Errorf("ICD-10-CM %s: HCPCS words in %q", d.Code, d.Reason)
		}
	}
	if d := l.Reconciliation.Disagreements; len(d) != 1 || d[0].Code != "Y0745" || !d[0].Explained {
		t.Errorf("2023-04 → FY2024: %+v; want Y0745's whitespace fix, explained", d)
	}
	// ICD-10-PCS FY2026's addenda are against April 2025, never ingested.
	p25 := release(t, codeset.ICD10PCS, "FY2025", "icd10pcs/2025/cms_2025_pr.zip")
	p26 := release(t, codeset.ICD10PCS, "FY2026", "icd10pcs/2026/cms_2026_pr.zip")
	l = diff.Compare(p25, p26, nil)
	r := l.Reconciliation
	if len(r.Disagreements) == 0 || len(r.Unexplained()) != 0 {
		t.Errorf("PCS FY2025 → FY2026: %d disagreements, %d unexplained; want some, all explained", len(r.Disagreements), len(r.Unexplained()))
	}
	for _, d := range r.Disagreements {
		if !strings.Contains(d.Reason, "never ingested") {
			t.Errorf("PCS %s: %q does not say the version was never ingested", d.Code, d.Reason)
			break
		}
	}
}

// A non-neighbour diff combines the lists of every release in between.
func TestRealCombinedDeclarations(t *testing.T) {
	realdata(t)
	old, new := cmRelease(t, "FY2023"), cmRelease(t, "FY2026")
	between := []*codeset.Release{cmRelease(t, "2023-04"), cmRelease(t, "FY2024"), cmRelease(t, "FY2025")}
	if n := len(diff.Compare(old, new, nil).Reconciliation.Disagreements); n < 700 {
		t.Errorf("FY2023 → FY2026 with FY2026's list alone: %d disagreements; want the ~790 combining removes", n)
	}
	r := diff.CompareAcross(old, new, nil, between).Reconciliation
	t.Logf("FY2023 → FY2026 combined: declared %d, agreed %d, %d disagreements", r.Declared, r.Agreed, len(r.Disagreements))
	if u := r.Unexplained(); len(u) != 0 {
		t.Errorf("FY2023 → FY2026 combined: %d unexplained, e.g. %+v", len(u), u[0])
	}
	if len(r.Combined) != 4 {
		t.Errorf("combined %v, want the four lists", r.Combined)
	}
	h := diff.CompareAcross(hcpcsRelease(t, "2017"), hcpcsRelease(t, "2019"), nil, []*codeset.Release{hcpcsRelease(t, "2018")})
	checkCounts(t, hcpcsRelease(t, "2017"), hcpcsRelease(t, "2019"), h)
	t.Logf("HCPCS 2017 → 2019 combined: declared %d, agreed %d, %d disagreements, %d unexplained", h.Reconciliation.Declared, h.Reconciliation.Agreed, len(h.Reconciliation.Disagreements), len(h.Reconciliation.Unexplained()))
}

// ICD-10 changes of the short title alone are their own kind, apart from
// the revisions the publishers count (of the code title, the long one).
// CMS changed eleven short titles in FY2018 without listing them ("0
// revisions to short title only"); FY2024's order addenda list nine.
func TestRealShortTitleChanges(t *testing.T) {
	realdata(t)
	kinds := func(l *codeset.Changelog, k codeset.ChangeKind) []string {
		var out []string
		for _, c := range l.Changes {
			if c.Kind == k {
				out = append(out, codeset.ICD10CM.Display(c.Code))
				if _, short := c.Fields[codeset.FieldShort]; !short || len(c.Fields) != 1 {
					t.Errorf("%s %s: fields %v, want the short title alone", c.Kind, c.Code, c.Fields)
				}
			}
		}
		return out
	}

	l := diff.Compare(cmRelease(t, "FY2017"), cmRelease(t, "FY2018"), nil)
	if s := l.Summary; s.Added != 360 || s.Deleted != 142 || s.Revised != 226 || s.ShortTitle != 11 || s.Cosmetic != 0 {
		t.Errorf("FY2017 → FY2018: %+v; want 360 / 142 / 226, 11 short-title", s)
	}
	want := []string{"H35.3113", "H35.3114", "H35.3123", "H35.3124", "H35.3133", "H35.3134", "H35.3193", "H35.3194", "P03.810", "P03.819", "R93.41"}
	if got := kinds(l, codeset.ShortTitle); !slices.Equal(got, want) {
		t.Errorf("FY2018 short-title changes %v, want %v", got, want)
	}
	for _, c := range l.Changes {
		if c.Code == "H353113" {
			if f := c.Fields[codeset.FieldShort]; !strings.HasSuffix(f.Before, "w/o sbfvl involv") || !strings.HasSuffix(f.After, "w/o sbfvl invl") {
				t.Errorf("H35.3113 short title %q → %q", f.Before, f.After)
			}
		}
	}
	r := l.Reconciliation
	if r.Declared != 728 || r.Agreed != 728 || len(r.Disagreements) != 11 {
		t.Errorf("FY2018 reconciliation: %d declared, %d agreed, %d disagreements; want 728, 728, 11", r.Declared, r.Agreed, len(r.Disagreements))
	}
	for _, d := range r.Disagreements {
		if d.Computed != string(codeset.ShortTitle) || d.Declared != "" || d.Explained ||
			!strings.Contains(d.Reason, "order addenda do not list it; its long title is unchanged") {
			t.Errorf("FY2018 %s: %+v; want an undeclared short-title change, said plainly", d.Code, d)
		}
	}

	l = diff.Compare(cmRelease(t, "2023-04"), cmRelease(t, "FY2024"), nil)
	if s := l.Summary; s.Added != 395 || s.Deleted != 25 || s.Revised != 13 || s.ShortTitle != 9 || s.Cosmetic != 1 {
		t.Errorf("2023-04 → FY2024: %+v; want 395 / 25 / 13, 9 short-title, 1 cosmetic", s)
	}
	want = []string{"M32.15", "N07.1", "N07.3", "N07.4", "N13.721", "N13.722", "N13.731", "N13.732", "N14.2"}
	if got := kinds(l, codeset.ShortTitle); !slices.Equal(got, want) {
		t.Errorf("FY2024 short-title changes %v, want %v", got, want)
	}
	declared := 0
	for _, d := range cmRelease(t, "FY2024").Declared.Changes {
		if d.Kind == codeset.ShortTitle {
			declared++
		}
	}
	if declared != 9 {
		t.Errorf("FY2024 order addenda: %d short-title revisions read, want 9", declared)
	}

	p := diff.Compare(release(t, codeset.ICD10PCS, "FY2018", "icd10pcs/2018/cms_2018_pr.zip"), release(t, codeset.ICD10PCS, "FY2019", "icd10pcs/2019/cms_2019_pr.zip"), nil)
	if s := p.Summary; s.Added != 392 || s.Deleted != 216 || s.Revised != 8 || s.ShortTitle != 0 {
		t.Errorf("PCS FY2018 → FY2019: %+v; want 392 / 216 / 8 and no short-title change (the addenda: 8 revisions to both titles)", s)
	}
	if n := len(p.Reconciliation.Disagreements); n != 0 {
		t.Errorf("PCS FY2018 → FY2019: %d disagreements, want 0", n)
	}
}

// A previous year's corrections explain what no list declares. CMS posted
// four versions of its 2018 corrections (V1-V4, .xlsx and .prn, in one
// zip) after the 2018 file: C9488's ASC indicator and dates changed ("Change
// ASC Ind/ASC eff"), G9637 and G9638 went back to their 2017 wording
// ("Should not have been updated"). In 2019 these show as revisions that
// ACTION CD does not declare; given the 2018 corrections, the reason cites
// them. Likewise 2017's corrections removed E0627's cross-reference.
func TestRealCorrectionsExplain(t *testing.T) {
	dir := realdata(t)
	read := func(label string, files ...string) *codeset.Release {
		p, err := ingest.Builtin(codeset.HCPCS)
		if err != nil {
			t.Fatal(err)
		}
		var paths []string
		for _, f := range files {
			paths = append(paths, filepath.Join(dir, f))
		}
		eff, _ := codeset.DefaultEffective(codeset.HCPCS, label)
		r, _, err := ingest.Read(context.Background(), ingest.Options{Profile: p, Label: label, Effective: eff}, paths...)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		from, to string
		old, new *codeset.Release
		want     map[string]string // code: words the reason quotes
	}{
		{"2017", "2018", read("2017", hcpcsFiles["2017"], "hcpcs/2017/2017-HCPCS-Alpha-Numeric-Corrections.zip"), hcpcsRelease(t, "2018"),
			map[string]string{"E0627": `2017's corrections say "Remove xref code Q0080"`, "E0628": `"Remove xref code Q0078"`}},
		{"2018", "2019", read("2018", hcpcsFiles["2018"], "hcpcs/2018/2018-HCPCS-Alpha-Numeric-Corrections.zip"), hcpcsRelease(t, "2019"),
			map[string]string{"C9488": `2018's corrections say "Change ASC Ind/ASC eff date"`, "C9745": `"Change ASC Ind/ASC eff date"`,
				"G9637": `"Should not have been updated - revert back to 2017 description"`}},
		// The corrections given with the release they correct: 2019's v2
		// says DA was "Removed in error - add back to file" (its .prn
		// cuts that to "Removed in", which reads like a deletion: the
		// rule takes it for no change, and the .xlsx's words are cited).
		{"2018", "2019 with its own corrections", hcpcsRelease(t, "2018"), read("2019", hcpcsFiles["2019"], "hcpcs/2019/2019-HCPCS-Alpha-Numeric-Corrections.zip"),
			map[string]string{"DA": `2019's corrections say "Removed in error - add back to file" (HCPC2019_Corrections_ALPHA_v2.xlsx)`}},
	}
	for _, tt := range tests {
		before := diff.Compare(hcpcsRelease(t, tt.from), hcpcsRelease(t, tt.to[:4]), nil).Reconciliation
		r := diff.Compare(tt.old, tt.new, nil).Reconciliation
		got := map[string]codeset.Disagreement{}
		for _, d := range r.Disagreements {
			got[d.Code] = d
		}
		for code, words := range tt.want {
			d, ok := got[code]
			if !ok || !d.Explained || !strings.Contains(d.Reason, words) {
				t.Errorf("%s → %s %s: %+v; want explained, citing %s", tt.from, tt.to, code, d, words)
			}
		}
		t.Logf("%s → %s: unexplained %d without the corrections, %d with them", tt.from, tt.to, len(before.Unexplained()), len(r.Unexplained()))
		if len(r.Unexplained()) >= len(before.Unexplained()) {
			t.Errorf("%s → %s: %d unexplained with the corrections, %d without; want fewer", tt.from, tt.to, len(r.Unexplained()), len(before.Unexplained()))
		}
		for _, d := range r.Unexplained() {
			t.Logf("  still unexplained: %s %s: %s", d.Code, d.Computed, d.Reason)
		}
	}
}

// The reasons that only a comparison across years meets, on the real cases:
// 2017 to 2019 with 2018's list combined, and 2017 to 2020 directly.
func TestRealReasonsAcrossYears(t *testing.T) {
	realdata(t)
	type want struct {
		reason    string
		explained bool
	}
	tests := []struct {
		name string
		l    *codeset.Changelog
		want map[string]want
	}{
		{"2017 → 2019", diff.CompareAcross(hcpcsRelease(t, "2017"), hcpcsRelease(t, "2019"), nil, []*codeset.Release{hcpcsRelease(t, "2018")}), map[string]want{
			"G0279": {"revised, not in ACTION CD: ACT EFF DT 2018-01-01, changed by a quarterly update after 2017 took effect", true},
			"G9868": {"added, not in ACTION CD: ADD DT 2018-01-01: added by a quarterly update after 2017 took effect", true},
			// 2018's C, then 2018's corrections reverted it: no field
			// changed since 2017.
			"G9637": {"declared revised (C), but no field codeset compares changed since 2017: not explained", false},
			"G9976": {"declared added, but the code is not in 2019: not declared deleted", false},
		}},
		{"2017 → 2020", diff.Compare(hcpcsRelease(t, "2017"), hcpcsRelease(t, "2020"), nil), map[string]want{
			"A9599": {"discontinued, not in ACTION CD: TERM DT 2017-12-31, ended by a quarterly update during 2017", true},
		}},
	}
	for _, tt := range tests {
		got := map[string]codeset.Disagreement{}
		for _, d := range tt.l.Reconciliation.Disagreements {
			got[d.Code] = d
		}
		for code, w := range tt.want {
			if d, ok := got[code]; !ok || !strings.Contains(d.Reason, w.reason) || d.Explained != w.explained {
				t.Errorf("%s %s: %+v; want reason with %q, explained %v", tt.name, code, d, w.reason, w.explained)
			}
		}
	}
}
