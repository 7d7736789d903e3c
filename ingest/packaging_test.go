package ingest

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/codeset/codeset"
	"github.com/codeset/codeset/diff"
)

// Fixtures for packagings there is no real file of, built in t.TempDir()
// from the synthetic files under testdata/formats.

// TestReadCDCMidYearZip reads a CDC-style mid-year zip: a name with spaces,
// members named by month in nested folders, with directory entries and a
// summary-only addenda.
func TestReadCDCMidYearZip(t *testing.T) {
	dir := t.TempDir()
	codes := readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt"))
	order := readBytes(t, formatFixture("icd10cm/icd10cm_order_2030.txt"))
	summary := []byte("\r\nCodes\r\n      8 codes in icd10cm_order_2030.txt\r\n      8 codes in icd10cm_order_2030.txt\r\n      0 additions\r\n      0 deletions\r\n      0 revisions\r\n")
	zpath := filepath.Join(dir, "icd10cm Codes Descriptions April 2030.zip")
	writeZip(t, zpath,
		zipMember{"April 2030/", nil},
		zipMember{"April 2030/Code Descriptions/", nil},
		zipMember{"April 2030/Code Descriptions/icd10cm-codes-April-2030.txt", codes},
		zipMember{"April 2030/Code Descriptions/icd10cm-codes-addenda-April-2030.txt", summary},
		zipMember{"April 2030/Order Files/icd10cm-order-April-2030.txt", order},
		zipMember{"April 2030/icd10cm-Codes-File-April-2030.pdf", []byte("%PDF-1.4\n")},
		zipMember{"__MACOSX/April 2030/._icd10cm-codes-April-2030.txt", []byte{0, 5, 22, 7}},
	)
	rel, rep := mustReadSystem(t, codeset.ICD10CM, "2030-04", zpath)
	var read []string
	for _, f := range rep.Files {
		read = append(read, strings.TrimPrefix(f.Name, zpath+"/"))
	}
	if want := []string{"April 2030/Code Descriptions/icd10cm-codes-April-2030.txt", "April 2030/Order Files/icd10cm-order-April-2030.txt"}; !reflect.DeepEqual(read, want) {
		t.Errorf("read %v, want %v", read, want)
	}
	if len(rel.Codes) != 8 || len(rel.Headers) != 4 || rel.Codes[0].Short != "Test fever, first kind" {
		t.Errorf("%d codes, %d headers, first %+v: want 8 codes with short titles, 4 headers", len(rel.Codes), len(rel.Headers), rel.Codes[0])
	}
	want := &codeset.Declaration{Source: "icd10cm-codes-addenda-April-2030.txt", Counts: []codeset.DeclaredCounts{
		{Part: "codes", FromFile: "icd10cm_order_2030.txt", From: 8, ToFile: "icd10cm_order_2030.txt", To: 8}}}
	if !reflect.DeepEqual(rel.Declared, want) {
		t.Errorf("declared:\n got %+v\nwant %+v", rel.Declared, want)
	}
	// A release that changes nothing, against the release it was made
	// against: 0 / 0 / 0 and nothing to reconcile.
	prev, _ := mustReadSystem(t, codeset.ICD10CM, "FY2030", formatFixture("icd10cm/icd10cm_codes_2030.txt"), formatFixture("icd10cm/icd10cm_order_2030.txt"))
	l := diff.Compare(prev, rel, nil)
	if l.Summary != (codeset.Summary{Unchanged: 8}) || l.Reconciliation == nil || l.Reconciliation.Declared != 0 || len(l.Reconciliation.Disagreements) != 0 {
		t.Errorf("summary %+v, reconciliation %+v: want 8 unchanged and nothing to reconcile", l.Summary, l.Reconciliation)
	}
}

// TestReadSummaryOnlyAddendaAgainstMissingVersion reads an addenda of only
// the summary block, made against a version with other counts than the
// release it is compared with (ICD-10-PCS FY2026 against April 2025).
func TestReadSummaryOnlyAddendaAgainstMissingVersion(t *testing.T) {
	dir := t.TempDir()
	addenda := writeBytes(t, filepath.Join(dir, "order_addenda_2030.txt"), []byte(
		"\nHeaders\n      2 headers in icd10pcs_order_2029.txt\n      2 headers in icd10pcs_order_2030.txt\n      0 additions\n      0 deletions\n      0 revisions\n"+
			"\nCodes\n      5 codes in icd10pcs_order_2029.txt\n      4 codes in icd10pcs_order_2030.txt\n      0 additions\n      0 deletions\n      0 revisions\n"))
	rel, _ := mustReadSystem(t, codeset.ICD10PCS, "FY2030", formatFixture("icd10pcs/icd10pcs_order_2030.txt"), addenda)
	against, ok := rel.Declared.Against()
	want := codeset.DeclaredCounts{Part: "codes", FromFile: "icd10pcs_order_2029.txt", From: 5, ToFile: "icd10pcs_order_2030.txt", To: 4}
	if !ok || against != want || len(rel.Declared.Changes) != 0 {
		t.Errorf("Against() = %+v, %v with %d changes; want %+v and none", against, ok, len(rel.Declared.Changes), want)
	}
	// The fixture release has 4 codes: the addenda was made against a
	// version of 5, not this one. The reconciliation can say so.
	if against.From == len(rel.Codes) {
		t.Errorf("want the declared base (%d codes) to differ from the release's own count", against.From)
	}
}

func TestParseAddendaSummary(t *testing.T) {
	p, err := Builtin(codeset.ICD10PCS)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		text    string
		changes int
		counts  []codeset.DeclaredCounts
		err     string
	}{
		{"changes and summary", "Add:         0Z20ZZZ x\n\nCodes\n  3 codes in a.txt\n  4 codes in b.txt\n  1 additions\n  0 deletions\n  0 revisions\n", 1,
			[]codeset.DeclaredCounts{{Part: "codes", FromFile: "a.txt", From: 3, ToFile: "b.txt", To: 4, Added: 1}}, ""},
		{"no part title", "  3 codes in a.txt\n  3 codes in b.txt\n  0 additions\n", 0,
			[]codeset.DeclaredCounts{{Part: "codes", FromFile: "a.txt", From: 3, ToFile: "b.txt", To: 3}}, ""},
		{"repeated part kept once", "Codes\n 1 codes in a\n 1 codes in a\nHeaders\n 2 headers in a\n 2 headers in a\nCodes\n 1 codes in a\n 1 codes in a\n", 0,
			[]codeset.DeclaredCounts{{Part: "codes", FromFile: "a", From: 1, ToFile: "a", To: 1}, {Part: "headers", FromFile: "a", From: 2, ToFile: "a", To: 2}}, ""},
		{"nothing", "Read me.\n", 0, nil, "x.txt: no Add:, Delete: or Revise lines and no summary block"},
		{"count too big", "Codes\n 99999999999999999999 codes in a\n", 0, nil, "x.txt line 2: bad count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseAddenda(strings.NewReader(tt.text), "x.txt", p)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Changes) != tt.changes || !reflect.DeepEqual(d.Counts, tt.counts) {
				t.Errorf("got %d changes, counts %+v; want %d, %+v", len(d.Changes), d.Counts, tt.changes, tt.counts)
			}
		})
	}
}

// HCPCS declaration workbooks, laid out as CMS's January 2025 files.
var (
	hcpcsTransaction = [][]any{
		{"HCPC", "ACTION CD", "SHORT DESCRIPTION", "LONG DESCRIPTION"},
		{"E0999", "ADD", "Test stand adjustable", "Rolling test stand for practice equipment, adjustable height"},
		{"   B2", "Long Description Change", "Same day repeat, test", "Service repeated"},
		{"G9990", "Discontinued", "Practice visit 15 min", "Practice visit"},
		{"Q1234", "Payment Change", "Test supply NOC", "Test supply"},
		{"   A1", "No Change", "Gauze pad single wound", "Gauze pad"},
	}
	hcpcsCorrections = [][]any{
		{"HCPCS/MOD Code", "Action", "Short Description", "Long Description", "Effective Date"},
		{"J7777", "Revise LD", "", "Injection, test solution, 5 mg", "01-01-30"},
		{"G9990", "Terminate ", "", "", "01-01-30"},
		{"A9001", "Do not terminate"},
		{"M9999", "Remove code"},
		{"   A1", "Action effective date should be 20100101 and action code \"N\""},
		{"Q1234", "Renumber to Q1235"},
	}
)

// TestReadHCPCSDeclarationFiles reads a 2021-on HCPCS zip: the TXT, the
// data workbook, a corrections file and a transaction report side by side.
func TestReadHCPCSDeclarationFiles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.xlsx")
	writeXLSX(t, data, sheet{"HCPC2030_JAN_ANWEB", hcpcsRows(hcpcsHeader)})
	trans := filepath.Join(dir, "trans.xlsx")
	writeXLSX(t, trans, sheet{"Changes by Action Code", hcpcsTransaction}, sheet{"Changes by HCPC", hcpcsTransaction},
		sheet{"Action Code Key", [][]any{{"Action Codes"}, {"A", "Add"}}})
	corr := filepath.Join(dir, "corr.xlsx")
	writeXLSX(t, corr, sheet{"Sheet1", hcpcsCorrections})
	zpath := filepath.Join(dir, "HCPC2030_JAN Alpha Numeric.zip")
	writeZip(t, zpath,
		zipMember{"HCPC2030_JAN_ANWEB_12172029.xlsx", readBytes(t, data)},
		zipMember{"HCPC2030_JAN_ANWEB_12172029.txt", readBytes(t, formatFixture("hcpcs/HCPC2030_CONTR_ANWEB.txt"))},
		zipMember{"HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx", readBytes(t, corr)},
		zipMember{"HCPC2030_JAN_Transaction Report_12172029.xlsx", readBytes(t, trans)},
		zipMember{"HCPC2030_recordlayout.txt", []byte("  CMS RIF REPORT\r\n")},
		zipMember{"NOC codes_JAN2030.xlsx", readBytes(t, data)[:0]},
	)
	rel, rep := mustReadSystem(t, codeset.HCPCS, "2030", zpath)
	if len(rep.Files) != 1 || !strings.HasSuffix(rep.Files[0].Name, ".txt") {
		t.Errorf("read %+v, want the TXT (the rule for every HCPCS zip)", rep.Files)
	}
	diffCodes(t, rel.Codes, hcpcsWant)
	want := &codeset.Declaration{
		Source: "ACTION CD; HCPCS transaction report HCPC2030_JAN_Transaction Report_12172029.xlsx; HCPCS corrections file HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx",
		Changes: []codeset.DeclaredChange{
			{Code: "B2", Kind: codeset.Revised, Detail: "C"},
			{Code: "E0999", Kind: codeset.Added, Detail: "A"},
			{Code: "G9990", Kind: codeset.Discontinued, Detail: "D"},
			{Code: "J7777", Kind: codeset.Revised, Detail: "Revise LD"},
			{Code: "Q1234", Kind: codeset.Revised, Detail: "Payment Change"},
		},
		// Every row of the corrections file, as evidence for reasons,
		// those that declare no change too; not "Renumber to Q1235",
		// which no rule understands.
		Errata: []codeset.DeclaredChange{
			{Code: "A1", Detail: `"Action effective date should be 20100101 and action code \"N\"" (HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx)`},
			{Code: "A9001", Detail: `"Do not terminate" (HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx)`},
			{Code: "G9990", Kind: codeset.Discontinued, Detail: `"Terminate" (HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx)`},
			{Code: "J7777", Kind: codeset.Revised, Detail: `"Revise LD" (HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx)`},
			{Code: "M9999", Detail: `"Remove code" (HCPC2030_JAN_ANWEB_Corrections_12172029.xlsx)`},
		},
	}
	if !reflect.DeepEqual(rel.Declared, want) {
		t.Errorf("declared:\n got %+v\nwant %+v", rel.Declared, want)
	}
	var warned bool
	for _, w := range rep.Warnings {
		warned = warned || strings.Contains(w, `cannot tell what "Renumber to Q1235" declares for Q1234`)
	}
	if !warned {
		t.Errorf("warnings %q: want one for the correction no rule knows", rep.Warnings)
	}

	// Given alone, either file says what it is.
	for _, f := range []struct{ path, what string }{{trans, "is a HCPCS transaction report"}, {corr, "is a HCPCS corrections file"}} {
		_, _, err := readSystem(t, codeset.HCPCS, "2030", f.path)
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), f.path+" "+f.what) || !strings.Contains(err.Error(), "no hcpcs code file given") {
			t.Errorf("read %s alone: err = %v, want it to say it %s", f.path, err, f.what)
		}
	}
	// Beside the data file, they are read.
	rel2, _ := mustReadSystem(t, codeset.HCPCS, "2030", data, trans, corr)
	if !reflect.DeepEqual(rel2.Declared.Changes, want.Changes) {
		t.Errorf("files given: declared %+v, want %+v", rel2.Declared.Changes, want.Changes)
	}
}

// TestReadTransactionReportBadAction locates an action the transaction
// report's vocabulary lacks, and reads the release: ACTION CD is the
// authority, the report only adds to it.
func TestReadTransactionReportBadAction(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.xlsx")
	writeXLSX(t, data, sheet{"A", hcpcsRows(hcpcsHeader)})
	rows := append([][]any{}, hcpcsTransaction...)
	rows = append(rows, []any{"J7777", "Renamed"})
	trans := filepath.Join(dir, "trans.xlsx")
	writeXLSX(t, trans, sheet{"Changes by HCPC", rows})
	rel, rep := mustReadSystem(t, codeset.HCPCS, "2030", data, trans)
	if len(rel.Declared.Changes) != 4 {
		t.Errorf("declared %+v, want ACTION CD's three and the report's payment change", rel.Declared.Changes)
	}
	want := `trans.xlsx!Changes by HCPC row 7 col B: unknown action "Renamed" in the HCPCS transaction report for J7777`
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], want) {
		t.Errorf("warnings %q, want one saying %q", rep.Warnings, want)
	}
}

// TestReadAnyName reads extracted members under names no publisher uses,
// known by their content, and refuses a text file that is none of them.
func TestReadAnyName(t *testing.T) {
	dir := t.TempDir()
	codes := writeBytes(t, filepath.Join(dir, "download (3).txt"), readBytes(t, formatFixture("icd10cm/icd10cm_codes_2030.txt")))
	order := writeBytes(t, filepath.Join(dir, "order.dat"), readBytes(t, formatFixture("icd10cm/icd10cm_order_2030.txt")))
	addenda := writeBytes(t, filepath.Join(dir, "changes.txt"), readBytes(t, formatFixture("icd10cm/icd10cm_order_addenda_2030.txt")))
	rel, _ := mustReadSystem(t, codeset.ICD10CM, "FY2030", codes, order, addenda)
	if len(rel.Codes) != 8 || rel.Codes[0].Short == "" || !reflect.DeepEqual(rel.Declared, withSource(icd10cmOrderDeclared, "changes.txt")) {
		t.Errorf("codes %d (first %+v), declared %+v", len(rel.Codes), rel.Codes[0], rel.Declared)
	}
	notes := writeBytes(t, filepath.Join(dir, "notes.txt"), []byte("Nothing to see here.\n"))
	_, _, err := readSystem(t, codeset.ICD10CM, "FY2030", notes)
	if !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), notes+`: unsupported file: a text file starting "Nothing to see here."; want a ICD-10-CM codes file`) {
		t.Errorf("err = %v, want it to say what the file looks like and what is wanted", err)
	}
}

func withSource(d *codeset.Declaration, src string) *codeset.Declaration {
	c := *d
	c.Source = src
	return &c
}

// TestClassifyHCPCSWorkbooks tells the data file from the declaration
// files by content, also when a value is new to codeset.
func TestClassifyHCPCSWorkbooks(t *testing.T) {
	p, err := Builtin(codeset.HCPCS)
	if err != nil {
		t.Fatal(err)
	}
	data := hcpcsRows(hcpcsHeader)
	newLetter := append([][]any{}, data...)
	newLetter = append(newLetter[:8:8], []any{"   A1", "00100", "7", "Gauze", "Gauze"}) // header row, then a row...
	newLetter[8] = append(newLetter[8], make([]any, 42)...)
	newLetter[8] = append(newLetter[8], "Z") // ...whose ACTION CD is a letter codeset does not know
	newWord := append(append([][]any{}, hcpcsTransaction...), []any{"J7777", "Renamed"})
	newWord[1] = []any{"E0999", "Brand New Word"}
	tests := []struct {
		name   string
		sheets []sheet
		want   string
	}{
		{"data", []sheet{{"A", data}}, "a hcpcs data workbook"},
		{"data with a new action letter", []sheet{{"A", newLetter}}, "a hcpcs data workbook"},
		{"transaction report", []sheet{{"Changes by Action Code", hcpcsTransaction}}, "a HCPCS transaction report"},
		{"transaction report with a new word", []sheet{{"Changes by HCPC", newWord}}, "a HCPCS transaction report"},
		{"corrections", []sheet{{"Sheet1", hcpcsCorrections}}, "a HCPCS corrections file"},
		{"other", []sheet{{"NOC", [][]any{{"HCPCS", "Notes"}, {"A9999", "x"}}}}, `a workbook with sheets "NOC" (first row "HCPCS | Notes")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "book.xlsx")
			writeXLSX(t, path, tt.sheets...)
			s, err := sniff(path, path, DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.classify(s).looks; got != tt.want {
				t.Errorf("classify = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnwrapText(t *testing.T) {
	long := "Service repeated on the same calendar day by the same test clinician for  reasons unrelated to the first service"
	tests := []struct {
		name, in, want string
		width          int
	}{
		{"short", "Injection,  5 mg", "Injection,  5 mg", 80},
		// The split falls in the double space: the TXT cannot keep it.
		{"double space at the split", long, "Service repeated on the same calendar day by the same test clinician for reasons unrelated to the first service", 80},
		{"double space elsewhere kept", "A  b " + strings.Repeat("x", 10) + " tail", "A  b " + strings.Repeat("x", 10) + " tail", 80},
		// A word ending at the last column goes to the next record, except
		// in the last record.
		{"word at the last column", "aaaa bbbb", "aaaa bbbb", 9},
		{"split before a word at the last column", "aaaa  bbbb c", "aaaa bbbb c", 9},
		{"no space to split at", strings.Repeat("x", 12), strings.Repeat("x", 12), 5},
		{"non-ASCII counts as one column", "caf\u00e9  au lait", "caf\u00e9  au lait", 13},
	}
	for _, tt := range tests {
		if got := unwrapText(tt.in, tt.width); got != tt.want {
			t.Errorf("%s: unwrapText(%q, %d) = %q, want %q", tt.name, tt.in, tt.width, got, tt.want)
		}
	}
}

// TestParseAddendaShortTitles tells the revisions of an order addenda that
// change the short title alone (FY2024's M32.15: "...neuropath in sys
// lupus..." to "...nephrop in sys lupus...", the long title unchanged)
// from those of the code title; a codes addenda, which has no short title,
// declares every revision a revision of the title, even where its long
// title happens to have a space at the short title's last column.
func TestParseAddendaShortTitles(t *testing.T) {
	p, err := Builtin(codeset.ICD10CM)
	if err != nil {
		t.Fatal(err)
	}
	line := func(op, flag, code, short, long string) string {
		return fmt.Sprintf("%-13s%s%-7s %-60s %s\r\n", op+":", flag, code, short, long)
	}
	order := line("Add", "1 ", "A4154", "Sepsis due to Acinetobacter baumannii", "Sepsis due to Acinetobacter baumannii") +
		line("Revise from", "1 ", "M3215", "Tubulo-interstitial neuropath in sys lupus erythematosus", "Tubulo-interstitial nephropathy in systemic lupus erythematosus") +
		line("Revise to", "1 ", "M3215", "Tubulo-interstitial nephrop in sys lupus erythematosus", "Tubulo-interstitial nephropathy in systemic lupus erythematosus") +
		line("Revise from", "1 ", "P199", "Metabolic acidemia, unspecified", "Metabolic acidemia, unspecified") +
		line("Revise to", "1 ", "P199", "Metabolic acidemia in newborn, unspecified", "Metabolic acidemia in newborn, unspecified") +
		line("Revise from", "0 ", "M4112", "Adolescent scoliosis", "Adolescent scoliosis") +
		line("Revise to", "0 ", "M4112", "Adolescent idiopathic scoliosis", "Adolescent idiopathic scoliosis")
	// A codes addenda: code and title only. Read line by line as an order
	// addenda, this revision's titles (a space at the short title's last
	// column, the same words after it) would pass for a short-title
	// revision; only the file as a whole (the Add line is too short for
	// the order shape) tells it is not one.
	codes := "Add:         A4154   Sepsis due to Acinetobacter baumannii\r\n" +
		fmt.Sprintf("Revise from: M3215   %-60s %s\r\n", "Tubulo-interstitial neuropathy in systemic lupus", "erythematosus, both kidneys") +
		fmt.Sprintf("Revise to:   M3215   %-60s %s\r\n", "Tubulo-interstitial nephropathy in systemic lupus", "erythematosus, both kidneys")
	tests := []struct {
		name, text string
		want       []codeset.DeclaredChange
	}{
		{"order addenda", order, []codeset.DeclaredChange{
			{Code: "A4154", Kind: codeset.Added, Detail: "Add"},
			{Code: "M3215", Kind: codeset.ShortTitle, Detail: "Revise (short title only)"},
			{Code: "P199", Kind: codeset.Revised, Detail: "Revise"},
		}},
		{"codes addenda", codes, []codeset.DeclaredChange{
			{Code: "A4154", Kind: codeset.Added, Detail: "Add"},
			{Code: "M3215", Kind: codeset.Revised, Detail: "Revise"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseAddenda(strings.NewReader(tt.text), "x.txt", p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Changes, tt.want) {
				t.Errorf("changes\n got %+v\nwant %+v", d.Changes, tt.want)
			}
		})
	}
}

// TestReadTextDeclarationFiles reads CMS's fixed-width declaration reports
// beside the data file, under names that say nothing: a transaction report
// laid out as 2020's Changes_by_ActionCode.prn (notes with a cp1252
// apostrophe above the header, an action cut at the short description's
// column: "Coverage and Long Descr") and a corrections file as 2018's V4 .prn (actions cut at the
// effective date's column, so that a row without a date, "Should not have
// been updated - revert back...", is read as far as that column only).
func TestReadTextDeclarationFiles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.xlsx")
	writeXLSX(t, data, sheet{"A", hcpcsRows(hcpcsHeader)})
	row := func(code, action, short, long string) string {
		return fmt.Sprintf("%8s    %-23s%-30s%s\r\n", code, centre(action, 23), short, long)
	}
	trans := "Note regarding coverage and payment indicators for codes in CMS\x92 2030 HCPCS Update\r\n\r\n\r\n" +
		"  HCPC/MOD         ACTION CD       SHORT DESCRIPTION              LONG DESCRIPTION\r\n" +
		row("E0999", "ADD", "Test stand adjustable", "Rolling test stand for practice equipment, adjustable height") +
		row("   B2", "Coverage and Long Description Change"[:23], "Same day repeat, test", "Service repeated") +
		row("G9990", "Discontinued", "Practice visit 15 min", "Practice visit") +
		row("J7777", "Long Description Change", "Inj test solution", "Injection, test solution") +
		row("Q1234", "Payment Change", "Test supply NOC", "Test supply") +
		"\r\n" +
		row("   A1", "No Change", "Gauze pad single wound", "Gauze pad")
	corr := "         2030 HCPCS CORRECTIONS\r\n\r\n\r\n" +
		"  CODE           ACTION        EFF DATE         SHORT DESC                   LONG DESC\r\n" +
		"  J7777  Revise Long Desc      01/01/2030                          Injection, test solution, 5 mg\r\n" +
		"  G9990  Terminate code        01/01/2030\r\n" +
		"  A9001  Should not have been updated - revert back to 2029 description\r\n" +
		"  M9999  Discontinued in error 01/01/2030\r\n"
	transPath := writeBytes(t, filepath.Join(dir, "report.txt"), []byte(trans))
	corrPath := writeBytes(t, filepath.Join(dir, "fixes.dat"), []byte(corr))

	rel, rep := mustReadSystem(t, codeset.HCPCS, "2030", data, transPath, corrPath)
	wantSource := "ACTION CD; HCPCS transaction report report.txt; HCPCS corrections file fixes.dat"
	if rel.Declared.Source != wantSource {
		t.Errorf("source %q, want %q", rel.Declared.Source, wantSource)
	}
	got := map[string]codeset.DeclaredChange{}
	for _, d := range rel.Declared.Changes {
		got[d.Code] = d
	}
	// The report adds Q1234's payment change, which ACTION CD does not
	// declare; the corrections add J7777 and M9999.
	for code, kind := range map[string]codeset.ChangeKind{"E0999": codeset.Added, "B2": codeset.Revised, "G9990": codeset.Discontinued,
		"Q1234": codeset.Revised, "J7777": codeset.Revised, "M9999": codeset.Discontinued} {
		if got[code].Kind != kind {
			t.Errorf("%s declared %+v, want %s", code, got[code], kind)
		}
	}
	if got["Q1234"].Detail != "Payment Change" || got["A1"].Kind != "" {
		t.Errorf("Q1234 %+v, A1 %+v: want the report's words, and no change for A1", got["Q1234"], got["A1"])
	}
	if len(rel.Declared.Errata) != 4 || rel.Declared.Errata[0].Code != "A9001" || rel.Declared.Errata[0].Kind != "" ||
		rel.Declared.Errata[0].Detail != `"Should not have been u" (fixes.dat)` {
		t.Errorf("errata %+v, want the four corrections rows, A9001's first", rel.Declared.Errata)
	}
	for _, w := range rep.Warnings {
		if strings.Contains(w, "unknown action") {
			t.Errorf("warning %q: the cut action should match", w)
		}
	}

	// Given alone, each says what it is.
	for _, f := range []struct{ path, what string }{{transPath, "is a HCPCS transaction report (fixed-width text)"}, {corrPath, "is a HCPCS corrections file (fixed-width text)"}} {
		_, _, err := readSystem(t, codeset.HCPCS, "2030", f.path)
		if !errors.Is(err, ErrLayout) || !strings.Contains(err.Error(), f.path+" "+f.what) {
			t.Errorf("read %s alone: err = %v, want it to say it %s", f.path, err, f.what)
		}
	}

	// In a zip without a workbook report, both text orders are read (the
	// same list by action and by code); beside a data zip, a corrections
	// zip of several versions is read whole.
	zpath := filepath.Join(dir, "HCPC2030.zip")
	writeZip(t, zpath,
		zipMember{"HCPC2030_ANWEB.xlsx", readBytes(t, data)},
		zipMember{"Changes_by_ActionCode.prn", []byte(trans)},
		zipMember{"Changes_by_HCPC.prn", []byte(trans)},
	)
	cpath := filepath.Join(dir, "2030-HCPCS-Corrections.zip")
	writeZip(t, cpath,
		zipMember{"V1_HCPC2030_Corrections.prn", []byte(corr)},
		zipMember{"V2_HCPC2030_Corrections.prn", []byte(corr)},
	)
	rel, _ = mustReadSystem(t, codeset.HCPCS, "2030", zpath, cpath)
	if n := strings.Count(rel.Declared.Source, "HCPCS transaction report"); n != 2 || len(rel.Declared.Errata) != 8 {
		t.Errorf("source %q, %d errata; want both reports and both versions' four rows", rel.Declared.Source, len(rel.Declared.Errata))
	}
	if _, _, err := readSystem(t, codeset.HCPCS, "2030", cpath); err == nil || !strings.Contains(err.Error(), "no member is a hcpcs code file") {
		t.Errorf("corrections zip alone: err = %v, want it to say it holds no code file", err)
	}
}

// centre centres s in a field of width w, as CMS's reports do.
func centre(s string, w int) string {
	if len(s) >= w {
		return s
	}
	left := (w - len(s)) / 2
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", w-len(s)-left)
}

// TestReadDeclarationsBesideCodes reads the publisher's lists of changes
// while the code files are read, and reports as a read of one file after
// the other would: a bad code file before a bad list, the lists in the
// order given, and a list's warnings with the release's.
func TestReadDeclarationsBesideCodes(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data.xlsx")
	writeXLSX(t, data, sheet{"A", hcpcsRows(hcpcsHeader)})
	bad := filepath.Join(dir, "bad.xlsx")
	writeXLSX(t, bad, sheet{"A", append(hcpcsRows(hcpcsHeader), []any{"Z!", "00100", "3", "Bad code", "Bad code"})})
	good := append([][]any{}, hcpcsTransaction...)
	good = append(good, []any{"J7777", "Renamed"})
	trans := filepath.Join(dir, "trans.xlsx")
	writeXLSX(t, trans, sheet{"Changes by HCPC", good})
	badTrans := filepath.Join(dir, "badtrans.xlsx")
	writeXLSX(t, badTrans, sheet{"Changes by HCPC", append(append([][]any{}, hcpcsTransaction...), []any{"Z!", "ADD"})})
	for _, c := range []struct {
		files []string
		want  string // in the error
	}{
		{[]string{bad, badTrans}, "bad.xlsx!A row"},
		{[]string{data, badTrans}, "badtrans.xlsx!Changes by HCPC row"},
		{[]string{data, trans, badTrans}, "badtrans.xlsx!Changes by HCPC row"},
	} {
		_, _, err := readSystem(t, codeset.HCPCS, "2030", c.files...)
		if !errors.Is(err, ErrBadCode) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("read %v: err = %v, want a bad code at %s", c.files, err, c.want)
		}
	}
	_, rep := mustReadSystem(t, codeset.HCPCS, "2030", data, trans)
	want := `trans.xlsx!Changes by HCPC row 7 col B: unknown action "Renamed"`
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], want) {
		t.Errorf("warnings %q, want one saying %q", rep.Warnings, want)
	}
}
