package diff

import (
	"reflect"
	"testing"

	"github.com/codeset/codeset"
)

// declaredRel is a release of sys whose publisher declares changes.
func declaredRel(sys codeset.System, label, source string, changes []codeset.DeclaredChange, codes ...codeset.Code) *codeset.Release {
	return &codeset.Release{System: sys, Label: label, Codes: codes,
		Declared: &codeset.Declaration{Source: source, Changes: changes}}
}

// plainRel is a release that declares nothing.
func plainRel(sys codeset.System, label string, codes ...codeset.Code) *codeset.Release {
	return &codeset.Release{System: sys, Label: label, Codes: codes}
}

func dx(c, long string) codeset.Code { return codeset.Code{Code: c, Long: long} }

// dxs is an ICD-10 record with its short title, as read from an order file.
func dxs(c, short, long string) codeset.Code { return codeset.Code{Code: c, Short: short, Long: long} }

// hcpcs is an HCPCS record with its action code and, when set, termination
// date.
func hcpcs(c, long, action, term string) codeset.Code {
	r := codeset.Code{Code: c, Category: "procedure", Long: long, Meta: codeset.MetaOf(map[string]string{"action": action})}
	if term != "" {
		r.Status = codeset.StatusDiscontinued
		r.Meta.Set("termination_date", term)
	}
	return r
}

func decl(c string, k codeset.ChangeKind, detail string) codeset.DeclaredChange {
	return codeset.DeclaredChange{Code: c, Kind: k, Detail: detail}
}

func TestReconcile(t *testing.T) {
	const addenda, action = "icd10cm_codes_addenda_2030.txt", "ACTION CD"
	tests := []struct {
		name    string
		old     *codeset.Release
		new     *codeset.Release
		earlier map[string]codeset.Code
		between []*codeset.Release // releases stored between old and new
		kinds   map[string]codeset.ChangeKind
		want    *codeset.Reconciliation // nil: no reconciliation
	}{
		{
			name: "all agree",
			old:  plainRel(codeset.ICD10CM, "FY2029", dx("A0100", "Test fever"), dx("A0101", "Old fever"), dx("B2001", "Rash of hand")),
			new: declaredRel(codeset.ICD10CM, "FY2030", addenda,
				[]codeset.DeclaredChange{decl("A0101", codeset.Deleted, "Delete"), decl("A0102", codeset.Added, "Add"), decl("B2001", codeset.Revised, "Revise")},
				dx("A0100", "Test fever"), dx("A0102", "New fever"), dx("B2001", "Rash of hand and wrist")),
			kinds: map[string]codeset.ChangeKind{"A0101": codeset.Deleted, "A0102": codeset.Added, "B2001": codeset.Revised},
			want:  &codeset.Reconciliation{Source: addenda, Declared: 3, Agreed: 3},
		},
		{
			name: "cosmetic not declared",
			old:  plainRel(codeset.ICD10CM, "FY2029", dx("A0100", "Test fever"), dx("Y1234", "Niece,  perpetrator")),
			new: declaredRel(codeset.ICD10CM, "FY2030", addenda, []codeset.DeclaredChange{decl("A0102", codeset.Added, "Add")},
				dx("A0100", "Test fever"), dx("A0102", "New fever"), dx("Y1234", "Niece, perpetrator")),
			kinds: map[string]codeset.ChangeKind{"A0102": codeset.Added, "Y1234": codeset.Cosmetic},
			want: &codeset.Reconciliation{Source: addenda, Declared: 1, Agreed: 1, Disagreements: []codeset.Disagreement{
				{Code: "Y1234", Computed: "cosmetic", Reason: "whitespace-only fix; publishers do not list these", Explained: true},
			}},
		},
		{
			name:  "declared add, computed unchanged",
			old:   plainRel(codeset.ICD10CM, "2030-04", dx("Z5001", "Test hazard at home")),
			new:   declaredRel(codeset.ICD10CM, "FY2031", addenda, []codeset.DeclaredChange{decl("Z5001", codeset.Added, "Add")}, dx("Z5001", "Test hazard at home")),
			kinds: map[string]codeset.ChangeKind{},
			want: &codeset.Reconciliation{Source: addenda, Declared: 1, Agreed: 0, Disagreements: []codeset.Disagreement{
				{Code: "Z5001", Declared: "Add", Computed: "unchanged",
					Reason: "declared added, but already in 2030-04: not explained by the record"},
			}},
		},
		{
			name: "hcpcs action N on a revised code",
			old:  plainRel(codeset.HCPCS, "2029", hcpcs("J7777", "Injection, test, 5 mg", "N", "")),
			// N declares no change, so the declaration lists nothing.
			new:   declaredRel(codeset.HCPCS, "2030", action, nil, hcpcs("J7777", "Injection, test solution, 5 mg", "N", "")),
			kinds: map[string]codeset.ChangeKind{"J7777": codeset.Revised},
			want: &codeset.Reconciliation{Source: action, Disagreements: []codeset.Disagreement{
				{Code: "J7777", Computed: "revised", Reason: "revised, but not declared"},
			}},
		},
		{
			name: "deleted after a discontinued year",
			old:  plainRel(codeset.HCPCS, "2029", hcpcs("G9990", "Practice visit", "D", "2028-12-31"), hcpcs("J7777", "Injection", "N", "")),
			new:  declaredRel(codeset.HCPCS, "2030", action, nil, hcpcs("J7777", "Injection", "N", "")),
			// Expected: CMS drops a code the year after its D; nothing to explain.
			kinds: map[string]codeset.ChangeKind{"G9990": codeset.Deleted},
			want:  &codeset.Reconciliation{Source: action},
		},
		{
			name:  "deleted without a discontinued year",
			old:   plainRel(codeset.HCPCS, "2029", hcpcs("G9991", "Practice visit", "N", ""), hcpcs("J7777", "Injection", "N", "")),
			new:   declaredRel(codeset.HCPCS, "2030", action, nil, hcpcs("J7777", "Injection", "N", "")),
			kinds: map[string]codeset.ChangeKind{"G9991": codeset.Deleted},
			want: &codeset.Reconciliation{Source: action, Disagreements: []codeset.Disagreement{
				{Code: "G9991", Computed: "deleted", Reason: "deleted without a discontinuation: not declared, and 2029 did not discontinue it"},
			}},
		},
		{
			name:  "declared revised, computed cosmetic",
			old:   plainRel(codeset.ICD10CM, "FY2029", dx("B2000", "Rash of  scalp")),
			new:   declaredRel(codeset.ICD10CM, "FY2030", addenda, []codeset.DeclaredChange{decl("B2000", codeset.Revised, "Revise")}, dx("B2000", "Rash of scalp")),
			kinds: map[string]codeset.ChangeKind{"B2000": codeset.Cosmetic},
			want: &codeset.Reconciliation{Source: addenda, Declared: 1, Disagreements: []codeset.Disagreement{
				{Code: "B2000", Declared: "Revise", Computed: "cosmetic", Reason: "declared revised, but only whitespace changed", Explained: true},
			}},
		},
		{
			// ICD-10 short titles: a change of the short title alone is its
			// own kind; the order addenda declare it apart ("Revise (short
			// title only)"), or do not (FY2018's H35.3113).
			name: "short title only",
			old: plainRel(codeset.ICD10CM, "FY2029",
				dxs("M3215", "Tubulo-interstit neuropath in SLE", "Tubulo-interstitial nephropathy in SLE"),
				dxs("H353113", "Exudative AMD, r eye, w/o sbfvl involv", "Exudative age-related macular degeneration, right eye"),
				dxs("N071", "Heredit neuropath", "Hereditary neuropathy"),
				dxs("P199", "Metabolic acidemia, unsp", "Metabolic acidemia, unspecified")),
			new: declaredRel(codeset.ICD10CM, "FY2030", "icd10cm_order_addenda_2030.txt",
				[]codeset.DeclaredChange{decl("M3215", codeset.ShortTitle, "Revise (short title only)"), decl("N071", codeset.Revised, "Revise"), decl("P199", codeset.ShortTitle, "Revise (short title only)")},
				dxs("M3215", "Tubulo-interstit nephrop in SLE", "Tubulo-interstitial nephropathy in SLE"),
				dxs("H353113", "Exudative AMD, r eye, w/o sbfvl invl", "Exudative age-related macular degeneration, right eye"),
				dxs("N071", "Heredit nephrop", "Hereditary neuropathy"),
				dxs("P199", "Metabolic acidemia in newborn, unsp", "Metabolic acidemia in newborn, unspecified")),
			kinds: map[string]codeset.ChangeKind{"M3215": codeset.ShortTitle, "H353113": codeset.ShortTitle, "N071": codeset.ShortTitle, "P199": codeset.Revised},
			want: &codeset.Reconciliation{Source: "icd10cm_order_addenda_2030.txt", Declared: 3, Agreed: 1, Disagreements: []codeset.Disagreement{
				{Code: "H353113", Computed: "short-title", Reason: "short title only, not declared: the publisher's order addenda do not list it; its long title is unchanged"},
				{Code: "N071", Declared: "Revise", Computed: "short-title", Reason: "declared a revision of the title, but only the short title changed; the long title is unchanged"},
				{Code: "P199", Declared: "Revise (short title only)", Computed: "revised", Reason: "declared a revision of the short title only, but the long title changed too"},
			}},
		},
		{
			// HCPCS declares short-description changes as revisions (ACTION
			// S): no short-title kind there.
			name:  "HCPCS short description is a revision",
			old:   plainRel(codeset.HCPCS, "2029", codeset.Code{Code: "J7777", Short: "Inj", Long: "Injection"}),
			new:   declaredRel(codeset.HCPCS, "2030", action, []codeset.DeclaredChange{decl("J7777", codeset.Revised, "S")}, codeset.Code{Code: "J7777", Short: "Injection", Long: "Injection"}),
			kinds: map[string]codeset.ChangeKind{"J7777": codeset.Revised},
			want:  &codeset.Reconciliation{Source: action, Declared: 1, Agreed: 1},
		},
		{
			// A code re-used with a new meaning (HCPCS G9890 in 2019): ACTION
			// A on a code the old file had with other text is revised,
			// flagged, and agrees with the declared add.
			name: "re-used code",
			old:  plainRel(codeset.HCPCS, "2029", hcpcs("G9890", "Bridge payment for a practice program", "N", "")),
			new: declaredRel(codeset.HCPCS, "2030", action, []codeset.DeclaredChange{decl("G9890", codeset.Added, "A")},
				hcpcs("G9890", "Practice session reported as a line item", "A", "")),
			kinds: map[string]codeset.ChangeKind{"G9890": codeset.Revised},
			want:  &codeset.Reconciliation{Source: action, Declared: 1, Agreed: 1},
		},
		{
			// Combined lists (a non-neighbour diff): a title revision, then
			// a short-title revision, is a revision; two short-title
			// revisions are one.
			name: "short title, combined",
			old: plainRel(codeset.ICD10CM, "FY2028",
				dxs("M3215", "Tubulo-interstit neuropath", "Tubulo-interstitial neuropathy"),
				dxs("N071", "Heredit neuropath", "Hereditary neuropathy")),
			new: declaredRel(codeset.ICD10CM, "FY2030", "order_addenda_2030.txt",
				[]codeset.DeclaredChange{decl("M3215", codeset.ShortTitle, "Revise (short title only)"), decl("N071", codeset.ShortTitle, "Revise (short title only)")},
				dxs("M3215", "Tubulo-interstit nephrop", "Tubulo-interstitial nephropathy"),
				dxs("N071", "Hered nephrop", "Hereditary neuropathy")),
			between: []*codeset.Release{declaredRel(codeset.ICD10CM, "FY2029", "order_addenda_2029.txt",
				[]codeset.DeclaredChange{decl("M3215", codeset.Revised, "Revise"), decl("N071", codeset.ShortTitle, "Revise (short title only)")})},
			kinds: map[string]codeset.ChangeKind{"M3215": codeset.Revised, "N071": codeset.ShortTitle},
			want:  &codeset.Reconciliation{Source: "FY2029: order_addenda_2029.txt; FY2030: order_addenda_2030.txt", Combined: []string{"FY2029", "FY2030"}, Declared: 2, Agreed: 2},
		},
		{
			name: "added and reactivated agree both ways",
			old:  plainRel(codeset.HCPCS, "2029", hcpcs("J7777", "Injection", "N", "")),
			new: declaredRel(codeset.HCPCS, "2030", action,
				[]codeset.DeclaredChange{decl("E0001", codeset.Reactivated, "R"), decl("Q1234", codeset.Added, "A")},
				hcpcs("E0001", "Test cane", "R", ""), hcpcs("J7777", "Injection", "N", ""), hcpcs("Q1234", "Test supply", "A", "")),
			earlier: map[string]codeset.Code{"Q1234": hcpcs("Q1234", "Test supply", "N", "")},
			kinds:   map[string]codeset.ChangeKind{"E0001": codeset.Added, "Q1234": codeset.Reactivated},
			want:    &codeset.Reconciliation{Source: action, Declared: 2, Agreed: 2},
		},
		{
			name: "first release",
			new: declaredRel(codeset.HCPCS, "2030", action, []codeset.DeclaredChange{decl("Q1234", codeset.Added, "A")},
				hcpcs("J7777", "Injection", "N", ""), hcpcs("Q1234", "Test supply", "A", "")),
			kinds: map[string]codeset.ChangeKind{"J7777": codeset.Added, "Q1234": codeset.Added},
			want:  nil,
		},
		{
			name: "discontinued",
			old:  plainRel(codeset.HCPCS, "2029", hcpcs("G9990", "Practice visit", "N", "")),
			new: declaredRel(codeset.HCPCS, "2030", action, []codeset.DeclaredChange{decl("G9990", codeset.Discontinued, "D")},
				hcpcs("C9999", "Test device, pass-through", "D", "2029-09-30"), hcpcs("G9990", "Practice visit", "D", "2029-12-31")),
			kinds: map[string]codeset.ChangeKind{"C9999": codeset.Added, "G9990": codeset.Discontinued},
			want: &codeset.Reconciliation{Source: action, Declared: 1, Agreed: 1, Disagreements: []codeset.Disagreement{
				// New and already ended: counted among the added, flagged.
				{Code: "C9999", Computed: "added", Reason: "added, but not declared"},
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := CompareAcross(tt.old, tt.new, tt.earlier, tt.between)
			kinds := map[string]codeset.ChangeKind{}
			for _, c := range l.Changes {
				kinds[c.Code] = c.Kind
			}
			if !reflect.DeepEqual(kinds, tt.kinds) {
				t.Errorf("kinds = %v, want %v", kinds, tt.kinds)
			}
			if !reflect.DeepEqual(l.Reconciliation, tt.want) {
				t.Errorf("reconciliation:\n got %+v\nwant %+v", l.Reconciliation, tt.want)
			}
		})
	}
}

// TestReconcileDiscontinuedFields checks the discontinued change of a code
// that stays in the file carries the status change.
func TestReconcileDiscontinuedFields(t *testing.T) {
	old := plainRel(codeset.HCPCS, "2029", hcpcs("G9990", "Practice visit", "N", ""))
	new := plainRel(codeset.HCPCS, "2030", hcpcs("G9990", "Practice visit", "D", "2029-12-31"))
	l := Compare(old, new, nil)
	if len(l.Changes) != 1 || l.Summary.Discontinued != 1 {
		t.Fatalf("changes = %+v, want one discontinued", l.Changes)
	}
	want := map[string]codeset.FieldChange{codeset.FieldStatus: {Before: "", After: codeset.StatusDiscontinued}}
	if got := l.Changes[0].Fields; !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %+v, want %+v (meta is not compared)", got, want)
	}
	if l.Reconciliation != nil {
		t.Errorf("reconciliation = %+v for a release that declares nothing, want nil", l.Reconciliation)
	}
}
