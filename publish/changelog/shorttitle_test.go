package changelog

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/codeset/codeset"
)

// shortTitleChangelog is an ICD-10-CM changelog shaped like FY2024's: a
// revision of the code title, a change of the short title alone (M32.15)
// and a whitespace fix.
func shortTitleChangelog() (*codeset.Release, *codeset.Changelog) {
	rec := func(code, short, long string) codeset.Code { return codeset.Code{Code: code, Short: short, Long: long} }
	l := &codeset.Changelog{System: codeset.ICD10CM, From: "2023-04", To: "FY2024",
		Changes: []codeset.Change{
			{Code: "M3215", Kind: codeset.ShortTitle,
				Fields: map[string]codeset.FieldChange{codeset.FieldShort: {Before: "Tubulo-interstitial neuropath in sys lupus erythematosus", After: "Tubulo-interstitial nephrop in sys lupus erythematosus"}},
				Record: rec("M3215", "Tubulo-interstitial nephrop in sys lupus erythematosus", "Tubulo-interstitial nephropathy in systemic lupus erythematosus")},
			{Code: "P199", Kind: codeset.Revised,
				Fields: map[string]codeset.FieldChange{codeset.FieldLong: {Before: "Metabolic acidemia, unspecified", After: "Metabolic acidemia in newborn, unspecified"}},
				Record: rec("P199", "Metabolic acidemia in newborn, unspecified", "Metabolic acidemia in newborn, unspecified")},
			{Code: "Y0745", Kind: codeset.Cosmetic,
				Fields: map[string]codeset.FieldChange{codeset.FieldLong: {Before: "Grandchild,  perpetrator", After: "Grandchild, perpetrator"}},
				Record: rec("Y0745", "Grandchild, perpetrator", "Grandchild, perpetrator")},
		},
		Reconciliation: &codeset.Reconciliation{Source: "icd10cm-order-addenda-2024.txt", Declared: 2, Agreed: 2},
	}
	for _, c := range l.Changes {
		l.Summary.AddChange(c)
	}
	l.Summary.Unchanged = 1
	rel := &codeset.Release{System: codeset.ICD10CM, Label: "FY2024", Codes: []codeset.Code{
		l.Changes[0].Record, l.Changes[1].Record, l.Changes[2].Record, rec("A000", "Cholera", "Cholera due to Vibrio cholerae 01, biovar cholerae")}}
	return rel, l
}

// Every changelog shows short-title changes apart from the revisions, with
// the field before and after.
func TestShortTitleShown(t *testing.T) {
	rel, l := shortTitleChangelog()
	render := func(write func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	md := render(func(b *bytes.Buffer) error { return WriteMarkdown(b, l) })
	html := render(func(b *bytes.Buffer) error { return WriteHTML(b, l) })
	csv := render(func(b *bytes.Buffer) error { return WriteCSV(b, l) })
	sum := render(func(b *bytes.Buffer) error { return WriteSummary(b, rel, l) })
	for _, tt := range []struct{ format, out, want string }{
		{"markdown", md, "| revised | 1 |"},
		{"markdown", md, "| short title only | 1 |"},
		{"markdown", md, "## Short title only (1)"},
		{"markdown", md, "| M32.15 |  | short | Tubulo-interstitial neuropath in sys lupus erythematosus | Tubulo-interstitial nephrop in sys lupus erythematosus |"},
		{"html", html, `<section class="kind" id="short-title" data-kind="short-title">`},
		{"html", html, `<span class="k">short title only</span>`},
		{"csv", csv, "M32.15,short-title,"},
		{"csv", csv, "Tubulo-interstitial neuropath in sys lupus erythematosus,Tubulo-interstitial nephrop in sys lupus erythematosus"},
		{"summary", sum, "short title only  1"},
		{"summary", sum, "unchanged         1"},
	} {
		if !strings.Contains(tt.out, tt.want) {
			t.Errorf("%s lacks %q:\n%s", tt.format, tt.want, tt.out)
		}
	}

	var b bytes.Buffer
	if err := WriteXLSX(&b, l); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Short title only")
	if err != nil {
		t.Fatalf("no sheet for the short-title changes: %v (sheets %v)", err, f.GetSheetList())
	}
	if len(rows) != 2 || !strings.Contains(strings.Join(rows[1], "|"), "Tubulo-interstitial nephrop in sys lupus erythematosus") {
		t.Errorf("Short title only sheet: %q", rows)
	}

	// A system without short titles listed apart shows no such row.
	l.System = codeset.HCPCS
	l.Changes, l.Summary = l.Changes[1:], codeset.Summary{Revised: 1, Cosmetic: 1}
	if md := render(func(b *bytes.Buffer) error { return WriteMarkdown(b, l) }); strings.Contains(md, "short title") {
		t.Errorf("HCPCS markdown speaks of short titles:\n%s", md)
	}
}
